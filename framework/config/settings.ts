import { ConfigError } from '../errors.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

/**
 * Resolved configuration: deep-frozen values plus where each top-level key came from, so any error
 * can name the file or flag. Drivers read their keys through `get`, never from globals.
 */
export class Settings {
  private readonly values: Readonly<JsonObject>;

  constructor(
    values: JsonObject,
    private readonly provenance: ReadonlyMap<string, string> = new Map(),
    /** What VSPERF's own getValue sees beyond the settings with effect (TestSteps macros read it). */
    readonly vsperf: VsperfView = NO_VSPERF_VIEW,
  ) {
    this.values = deepFreeze(structuredClone(values));
  }

  has(key: string): boolean {
    return lookup(this.values, key) !== undefined;
  }

  /** Value at a dotted path (`TRAFFIC.l2.framesize`). Throws ConfigError when missing. */
  get<T extends Json = Json>(key: string): T {
    const v = lookup(this.values, key);
    if (v === undefined) throw new ConfigError(key, this.source(key), 'setting is not defined', { hint: 'see `vsperf --list-settings`' });
    return v as T;
  }

  getOr<T extends Json>(key: string, fallback: T): T {
    const v = lookup(this.values, key);
    return v === undefined ? fallback : (v as T);
  }

  /** Typed getters that fail with the key and source named. */
  number(key: string): number {
    const v = this.get(key);
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(key, this.source(key), `must be a number, got ${JSON.stringify(v)}`);
    return v;
  }

  string(key: string): string {
    const v = this.get(key);
    if (typeof v !== 'string') throw new ConfigError(key, this.source(key), `must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  boolean(key: string): boolean {
    const v = this.get(key);
    if (typeof v === 'boolean') return v;
    // VSPERF stores some booleans as strings ('True'/'False', 'Yes'/'No').
    if (typeof v === 'string' && /^(true|yes)$/i.test(v)) return true;
    if (typeof v === 'string' && /^(false|no)$/i.test(v)) return false;
    throw new ConfigError(key, this.source(key), `must be a boolean, got ${JSON.stringify(v)}`);
  }

  /** Source of a key: the most specific recorded prefix (file, flag, env var, testcase). */
  source(key: string): string {
    const parts = key.split('.');
    for (let i = parts.length; i > 0; i--) {
      const s = this.provenance.get(parts.slice(0, i).join('.'));
      if (s) return s;
    }
    return 'defaults';
  }

  keys(): string[] {
    return Object.keys(this.values).sort();
  }

  toJSON(): JsonObject {
    return structuredClone(this.values) as JsonObject;
  }

  /** A copy with more values on top (same merge rule as the layers). */
  with(overrides: JsonObject, source: string): Settings {
    const prov = new Map(this.provenance);
    for (const k of Object.keys(overrides)) prov.set(k, source);
    return new Settings(deepMerge(this.toJSON(), overrides), prov, this.vsperf);
  }
}

/**
 * VSPERF's view of names that are no settings here: TestSteps (`$_OVSDPDK_RATE_PORT`, `settings
 * getValue`) read every name VSPERF defines, as its `S.getValue` does, while the checked settings
 * above stay those conf/schema describes.
 */
export interface VsperfView {
  /**
   * Names accepted without effect (a testcase's private `_NAMES`, VSPERF settings conf/schema does
   * not describe), merged over the same layers as the settings: a testcase's Parameters win.
   */
  readonly withoutEffect: Readonly<JsonObject>;
  /**
   * Names VSPERF keeps in TEST_PARAMS (the testcase's Parameters, TEST_PARAMS, --test-params), each
   * with its value below those layers (undefined: none). A step `settings setValue TEST_PARAMS ""`
   * makes VSPERF's getValue return that value again.
   */
  readonly testParams: ReadonlyMap<string, Json | undefined>;
}

export const NO_VSPERF_VIEW: VsperfView = Object.freeze({ withoutEffect: Object.freeze({}), testParams: new Map<string, Json | undefined>() });

function lookup(obj: Json, key: string): Json | undefined {
  let cur: Json | undefined = obj;
  for (const part of key.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = Object.prototype.hasOwnProperty.call(cur, part) ? (cur as JsonObject)[part] : undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

export function isPlainObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The one merge rule: objects merge key by key, everything else (arrays, scalars) replaces. */
export function deepMerge(base: JsonObject, over: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object') {
    for (const x of Object.values(v as object)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}
