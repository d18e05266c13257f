/**
 * The catalogue of OPNFV VSPERF's settings (conf/vsperf-settings.json, generated from VSPERF's conf
 * files by scripts/gen-vsperf-catalogue.mjs). A name in it that conf/schema does not describe is a
 * *known VSPERF setting without effect here*: accepted, reported once, never an "unknown setting".
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Json, JsonObject } from './settings.js';

export interface VsperfSetting {
  readonly name: string;
  /** Python type of VSPERF's default ('str', 'list', 'dict', 'tuple', 'int', 'bool', …). */
  readonly type: string;
  readonly default: Json;
  /** The VSPERF file that defines it (conf/03_traffic.conf …) or "vsperf (set at run time)". */
  readonly file: string;
}

export class VsperfCatalogue {
  private constructor(private readonly byName: ReadonlyMap<string, VsperfSetting>) {}

  static load(path: string): VsperfCatalogue {
    if (!existsSync(path)) return new VsperfCatalogue(new Map());
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { settings: Record<string, Omit<VsperfSetting, 'name'>> };
    return new VsperfCatalogue(new Map(Object.entries(doc.settings).map(([name, s]) => [name, { name, ...s }])));
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string): VsperfSetting | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  all(): VsperfSetting[] {
    return [...this.byName.values()];
  }

  /** VSPERF's defaults, the names a user's conf file can refer to before setting them. */
  defaults(): JsonObject {
    return Object.fromEntries(this.all().map((s) => [s.name, structuredClone(s.default)]));
  }
}

const cache = new Map<string, VsperfCatalogue>();

/** The catalogue next to conf/ (cached per path; it is read only when a VSPERF-only name shows up). */
export function vsperfCatalogue(confDir: string, fallbackDir: string): VsperfCatalogue {
  const own = join(confDir, 'vsperf-settings.json');
  const path = existsSync(own) ? own : join(fallbackDir, 'vsperf-settings.json');
  let c = cache.get(path);
  if (!c) {
    c = VsperfCatalogue.load(path);
    cache.set(path, c);
  }
  return c;
}
