/**
 * Python value semantics the step language depends on: `str()` of a step result (VSPERF pastes
 * `str(step_result[...])` into later steps' text), truthiness, equality and ordering. Values are
 * JSON-like: string, number, boolean, null (None), arrays (lists and tuples), plain objects (dicts).
 * Python's int and float are one JS number here: comparisons and arithmetic agree with Python, but
 * str() of a whole float prints `1000`, where Python prints `1000.0`; tuples are lists (`(1, 2) == [1, 2]`).
 */
import { VsperfError } from '../errors.js';

export type PyValue = string | number | boolean | null | undefined | readonly PyValue[] | { readonly [k: string]: PyValue };

/** Evaluating a step expression failed the way Python would (TypeError, IndexError, NameError…). */
export class StepExprError extends VsperfError {
  constructor(message: string) {
    super('E_STEP_EXPR', message);
  }
}

function reprString(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === q) out += '\\' + q;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + q;
}

function reprNumber(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  return String(n);
}

/** Python's repr() of a value. */
export function pyRepr(v: PyValue): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return reprNumber(v);
  if (typeof v === 'string') return reprString(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${reprString(k)}: ${pyRepr(x)}`)
    .join(', ')}}`;
}

/** Python's str(): strings as they are, everything else as repr(). */
export function pyStr(v: PyValue): string {
  return typeof v === 'string' ? v : pyRepr(v);
}

export function pyTruthy(v: PyValue): boolean {
  if (v === null || v === undefined || v === false) return false;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function typeName(v: PyValue): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  return Array.isArray(v) ? 'list' : 'dict';
}
export { typeName as pyTypeName };

const asNum = (v: PyValue): number | undefined => (typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : undefined);

export function pyEquals(a: PyValue, b: PyValue): boolean {
  const na = asNum(a);
  const nb = asNum(b);
  if (na !== undefined && nb !== undefined) return na === nb;
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => pyEquals(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a);
    const ob = b as Record<string, PyValue>;
    return ka.length === Object.keys(ob).length && ka.every((k) => k in ob && pyEquals((a as Record<string, PyValue>)[k], ob[k]));
  }
  return false;
}

/** -1, 0, 1 as Python orders the two values; a TypeError for kinds Python refuses to order. */
export function pyCompare(a: PyValue, b: PyValue): number {
  const na = asNum(a);
  const nb = asNum(b);
  if (na !== undefined && nb !== undefined) return na < nb ? -1 : na > nb ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (!pyEquals(a[i], b[i])) return pyCompare(a[i], b[i]);
    }
    return a.length - b.length < 0 ? -1 : a.length > b.length ? 1 : 0;
  }
  throw new StepExprError(`TypeError: cannot order ${typeName(a)} and ${typeName(b)}`);
}

/** `needle in haystack` (substring, list member, dict key). */
export function pyContains(haystack: PyValue, needle: PyValue): boolean {
  if (typeof haystack === 'string') {
    if (typeof needle !== 'string') throw new StepExprError(`TypeError: 'in <string>' requires string as left operand, not ${typeName(needle)}`);
    return haystack.includes(needle);
  }
  if (Array.isArray(haystack)) return haystack.some((x) => pyEquals(x, needle));
  if (haystack && typeof haystack === 'object') return typeof needle === 'string' && Object.prototype.hasOwnProperty.call(haystack, needle);
  throw new StepExprError(`TypeError: argument of type '${typeName(haystack)}' is not iterable`);
}

/** value[index] with Python's negative indexes and KeyError/IndexError. */
export function pyIndex(v: PyValue, index: PyValue): PyValue {
  if (typeof v === 'string' || Array.isArray(v)) {
    if (typeof index !== 'number' || !Number.isInteger(index))
      throw new StepExprError(`TypeError: ${typeName(v)} indices must be integers, not ${typeName(index)}`);
    const i = index < 0 ? v.length + index : index;
    if (i < 0 || i >= v.length) throw new StepExprError(`IndexError: ${typeName(v)} index ${index} out of range`);
    return (v as readonly PyValue[])[i] ?? (typeof v === 'string' ? v[i]! : null);
  }
  if (v && typeof v === 'object') {
    const key = typeof index === 'string' ? index : pyStr(index);
    if (!Object.prototype.hasOwnProperty.call(v, key)) throw new StepExprError(`KeyError: ${pyRepr(index)}`);
    return (v as Record<string, PyValue>)[key]!;
  }
  throw new StepExprError(`TypeError: '${typeName(v)}' object is not subscriptable`);
}
