/**
 * Python values as the conf interpreter holds them: int as bigint (exact), float as number, str,
 * bool, None (null), list as a JS array (mutable, shared by reference as in Python), tuple and dict
 * as small classes. Conversion to and from the settings' JSON lives here too.
 */
import type { Json, JsonObject } from '../settings.js';

export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

/** Insertion-ordered dict keyed the way Python hashes: 1, 1.0 and True are one key. */
export class PyDict {
  private readonly map = new Map<string, [PyValue, PyValue]>();

  static keyOf(k: PyValue): string | undefined {
    if (typeof k === 'string') return `s${k}`;
    if (typeof k === 'bigint') return `i${k}`;
    if (typeof k === 'boolean') return `i${k ? 1 : 0}`;
    if (typeof k === 'number') return Number.isInteger(k) ? `i${BigInt(k)}` : `f${k}`;
    if (k === null) return 'n';
    if (k instanceof PyTuple) {
      const parts = k.items.map((x) => PyDict.keyOf(x));
      return parts.every((p) => p !== undefined) ? `t${JSON.stringify(parts)}` : undefined;
    }
    return undefined;
  }

  get(k: PyValue): PyValue | undefined {
    const key = PyDict.keyOf(k);
    return key === undefined ? undefined : this.map.get(key)?.[1];
  }

  /** False when the key is unhashable (a list or dict). */
  set(k: PyValue, v: PyValue): boolean {
    const key = PyDict.keyOf(k);
    if (key === undefined) return false;
    const old = this.map.get(key);
    this.map.set(key, [old ? old[0] : k, v]);
    return true;
  }

  entries(): [PyValue, PyValue][] {
    return [...this.map.values()];
  }

  get size(): number {
    return this.map.size;
  }
}

/** A callable the dialect allows (os.path.join, copy.deepcopy, a bound dict.update, …). */
export interface PyFunction {
  readonly kind: 'function';
  readonly name: string;
  call(args: PyValue[], kwargs: Map<string, PyValue>): PyValue;
}

/** An imported module (os, os.path, copy, conf.settings): only its listed attributes exist. */
export interface PyModule {
  readonly kind: 'module';
  readonly name: string;
  readonly attrs: ReadonlyMap<string, PyValue>;
}

export type PyValue = bigint | number | string | boolean | null | PyValue[] | PyTuple | PyDict | PyFunction | PyModule;

export function isFunction(v: PyValue): v is PyFunction {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof PyTuple) && !(v instanceof PyDict) && v.kind === 'function';
}

export function isModule(v: PyValue): v is PyModule {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof PyTuple) && !(v instanceof PyDict) && v.kind === 'module';
}

export function typeName(v: PyValue): string {
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (v === null) return 'NoneType';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyDict) return 'dict';
  return v.kind;
}

export function deepCopy(v: PyValue): PyValue {
  if (Array.isArray(v)) return v.map(deepCopy);
  if (v instanceof PyTuple) return new PyTuple(v.items.map(deepCopy));
  if (v instanceof PyDict) {
    const d = new PyDict();
    for (const [k, x] of v.entries()) d.set(k, deepCopy(x));
    return d;
  }
  return v;
}

export function truthy(v: PyValue): boolean {
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof PyTuple) return v.items.length > 0;
  if (v instanceof PyDict) return v.size > 0;
  return v !== null && v !== false && v !== 0;
}

/** Python's == for the values the dialect has (int and float compare by value, True == 1). */
export function pyEquals(a: PyValue, b: PyValue): boolean {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined && nb !== undefined)
    return typeof na === typeof nb ? na === nb : Number(na) === Number(nb) && (typeof na === 'number' ? Number.isInteger(na) : Number.isInteger(nb));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => pyEquals(x, b[i]!));
  if (a instanceof PyTuple && b instanceof PyTuple) return a.items.length === b.items.length && a.items.every((x, i) => pyEquals(x, b.items[i]!));
  if (a instanceof PyDict && b instanceof PyDict)
    return (
      a.size === b.size &&
      a.entries().every(([k, x]) => {
        const y = b.get(k);
        return y !== undefined && pyEquals(x, y);
      })
    );
  return a === b;
}

function numeric(v: PyValue): bigint | number | undefined {
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return typeof v === 'bigint' || typeof v === 'number' ? v : undefined;
}

export class ConversionError extends Error {}

const BAD_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The settings' JSON of a value: tuples become arrays, int keys become strings. An int that a double
 * cannot hold exactly, a non-finite float, a function or an odd key is refused (never rounded).
 */
export function toJson(v: PyValue, path = ''): Json {
  if (typeof v === 'bigint') {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER))
      throw new ConversionError(`${path || 'value'}: integer ${v} is beyond 2^53 and cannot be kept exactly`);
    return Number(v);
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new ConversionError(`${path || 'value'}: float ${v} cannot be stored in settings`);
    return v;
  }
  if (typeof v === 'string' || typeof v === 'boolean' || v === null) return v;
  if (Array.isArray(v)) return v.map((x, i) => toJson(x, `${path}[${i}]`));
  if (v instanceof PyTuple) return v.items.map((x, i) => toJson(x, `${path}[${i}]`));
  if (v instanceof PyDict) {
    const out: JsonObject = {};
    for (const [k, x] of v.entries()) {
      let key: string;
      if (typeof k === 'string') key = k;
      else if (typeof k === 'bigint') key = String(k);
      else throw new ConversionError(`${path || 'value'}: dict key of type ${typeName(k)} is not supported (use strings or ints)`);
      if (BAD_KEYS.has(key)) throw new ConversionError(`${path || 'value'}: dict key '${key}' is not supported`);
      if (Object.prototype.hasOwnProperty.call(out, key))
        throw new ConversionError(`${path || 'value'}: dict key '${key}' appears both as a string and as an int`);
      out[key] = toJson(x, `${path}[${JSON.stringify(key)}]`);
    }
    return out;
  }
  throw new ConversionError(`${path || 'value'}: a ${v.kind} cannot be stored in settings`);
}

/** A settings value as a Python value: integral numbers become ints, arrays lists, objects dicts. */
export function fromJson(v: Json): PyValue {
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (typeof v === 'string' || typeof v === 'boolean' || v === null) return v;
  if (Array.isArray(v)) return v.map(fromJson);
  const d = new PyDict();
  for (const [k, x] of Object.entries(v)) d.set(k, fromJson(x));
  return d;
}
