import { notProvided } from './not-provided.js';
import { PluginError, UsageError } from '../errors.js';
import { suggest } from '../util/suggest.js';
import type { DeclaredSettings } from '../config/schema.js';
import type { DriverFactory, DriverKind, RegistryApi, DriverOf, DriverContext, SettingsFragment } from '../api/driver.js';

/** The option listing each kind (loopback apps have none: they are chosen by GUEST_LOOPBACK). */
const LIST_FLAG: Record<DriverKind, string | undefined> = {
  trafficgen: '--list-trafficgens',
  vswitch: '--list-vswitches',
  vnf: '--list-vnfs',
  fwdapp: '--list-fwdapps',
  loadgen: '--list-loadgens',
  deployment: '--list-deployments',
  loopback: undefined,
};

const SETTING_NAME = /^[A-Z][A-Z0-9_]*$/;

/** Drivers by kind and case-insensitive name (aliases included). A duplicate name is an error. */
export class Registry implements RegistryApi {
  private readonly byKind = new Map<DriverKind, Map<string, DriverFactory>>();
  private readonly primary = new Map<DriverKind, DriverFactory[]>();
  private readonly declared: DeclaredSettings[] = [];
  private owner = 'built-in';

  /** Runs a plugin's register(): what it adds is attributed to `plugin` in errors and --list-settings. */
  async asPlugin(plugin: string, register: () => void | Promise<void>): Promise<void> {
    const previous = this.owner;
    this.owner = plugin;
    try {
      await register();
    } finally {
      this.owner = previous;
    }
  }

  addSettings(fragment: SettingsFragment): void {
    const props = (fragment as { properties?: unknown } | undefined)?.properties;
    if (typeof props !== 'object' || props === null || Array.isArray(props))
      throw new PluginError(this.owner, 'addSettings() needs { properties: { NAME: { description, type, default } } }');
    for (const [key, schema] of Object.entries(props as Record<string, unknown>)) {
      if (!SETTING_NAME.test(key)) throw new PluginError(this.owner, `setting "${key}" must be upper case (A-Z, 0-9, _), like TRAFFICGEN_ACME_HOST`);
      const description = (schema as { description?: unknown } | null)?.description;
      if (typeof description !== 'string' || !description.trim())
        throw new PluginError(this.owner, `setting ${key} needs a description (shown by vsperf --list-settings)`);
    }
    this.declared.push({ owner: this.owner, fragment });
  }

  /** Settings declared by plugins so far, in registration order. */
  declaredSettings(): readonly DeclaredSettings[] {
    return [...this.declared];
  }

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
    const lacking = notProvided(kind, name);
    if (lacking) throw new UsageError(lacking);
    const names = this.list(kind).map((x) => x.name);
    const s = suggest(name, names);
    throw new UsageError(`unknown ${kind} "${name}"${s ? `; did you mean "${s}"?` : ''}`, {
      hint: `available: ${names.join(', ') || 'none'}${LIST_FLAG[kind] ? ` (vsperf ${LIST_FLAG[kind]})` : ''}`,
    });
  }

  list(kind: DriverKind): DriverFactory[] {
    return [...(this.primary.get(kind) ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  }

  async create<K extends DriverKind>(kind: K, name: string, ctx: DriverContext): Promise<DriverOf[K]> {
    return this.get(kind, name).create(ctx);
  }
}
