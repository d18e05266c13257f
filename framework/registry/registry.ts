import { PluginError, UsageError } from '../errors.js';
import { suggest } from '../util/suggest.js';
import type { DriverFactory, DriverKind, RegistryApi, DriverOf, DriverContext } from '../api/driver.js';

const LIST_FLAG: Record<DriverKind, string> = {
  trafficgen: '--list-trafficgens',
  vswitch: '--list-vswitches',
  vnf: '--list-vnfs',
  fwdapp: '--list-fwdapps',
  loadgen: '--list-loadgens',
  deployment: '--list-deployments',
  loopback: '--list-loopbacks',
};

/** Drivers by kind and case-insensitive name (aliases included). A duplicate name is an error. */
export class Registry implements RegistryApi {
  private readonly byKind = new Map<DriverKind, Map<string, DriverFactory>>();
  private readonly primary = new Map<DriverKind, DriverFactory[]>();

  add<K extends DriverKind>(factory: DriverFactory<K>): void {
    if (!factory || typeof factory !== 'object' || typeof factory.name !== 'string' || typeof factory.create !== 'function') {
      throw new PluginError(String((factory as { name?: unknown })?.name ?? '?'), 'a driver must be an object with kind, name, summary and create()');
    }
    if (!(factory.kind in LIST_FLAG)) throw new PluginError(factory.name, `unknown driver kind "${String(factory.kind)}"`);
    const table = this.byKind.get(factory.kind) ?? new Map<string, DriverFactory>();
    for (const n of [factory.name, ...(factory.aliases ?? [])]) {
      const key = n.toLowerCase();
      const clash = table.get(key);
      if (clash) throw new PluginError(factory.name, `${factory.kind} name "${n}" is already registered by ${clash.name}`);
    }
    for (const n of [factory.name, ...(factory.aliases ?? [])]) table.set(n.toLowerCase(), factory as DriverFactory);
    this.byKind.set(factory.kind, table);
    this.primary.set(factory.kind, [...(this.primary.get(factory.kind) ?? []), factory as DriverFactory]);
  }

  has(kind: DriverKind, name: string): boolean {
    return this.byKind.get(kind)?.has(name.toLowerCase()) ?? false;
  }

  get<K extends DriverKind>(kind: K, name: string): DriverFactory<K> {
    const f = this.byKind.get(kind)?.get(name.toLowerCase());
    if (f) return f as unknown as DriverFactory<K>;
    const names = this.list(kind).map((x) => x.name);
    const s = suggest(name, names);
    throw new UsageError(`unknown ${kind} "${name}"${s ? `; did you mean "${s}"?` : ''}`, {
      hint: `available: ${names.join(', ') || 'none'} (vsperf ${LIST_FLAG[kind]})`,
    });
  }

  list(kind: DriverKind): DriverFactory[] {
    return [...(this.primary.get(kind) ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  }

  async create<K extends DriverKind>(kind: K, name: string, ctx: DriverContext): Promise<DriverOf[K]> {
    return this.get(kind, name).create(ctx);
  }
}
