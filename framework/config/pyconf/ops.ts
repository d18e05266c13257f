/**
 * Python's operators on the dialect's values (int exact as bigint, float, str, list, tuple), with
 * Python's results and error messages. Results that would be huge (a 10^9-character string, a
 * million-bit int) are refused instead of built.
 */
import { PyTuple, typeName, type PyValue } from './values.js';

/** A Python-level error (TypeError, ZeroDivisionError, …): the interpreter adds the file position. */
export class PyError extends Error {}

export const MAX_INT_BITS = 1 << 16;
export const MAX_SEQUENCE = 1 << 24;

type Num = bigint | number;

function num(v: PyValue): Num | undefined {
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return typeof v === 'bigint' || typeof v === 'number' ? v : undefined;
}

export function toFloat(v: bigint): number {
  const f = Number(v);
  if (!Number.isFinite(f)) throw new PyError('OverflowError: int too large to convert to float');
  return f;
}

function bitLength(v: bigint): number {
  return (v < 0n ? -v : v).toString(2).length;
}

function checkInt(v: bigint): bigint {
  if (bitLength(v) > MAX_INT_BITS) throw new PyError(`integer result larger than ${MAX_INT_BITS} bits is not supported`);
  return v;
}

function unsupported(op: string, a: PyValue, b: PyValue): never {
  throw new PyError(`TypeError: unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
}

function repeat(seq: PyValue, n: bigint): PyValue {
  const count = n < 0n ? 0 : Number(n > BigInt(MAX_SEQUENCE) ? BigInt(MAX_SEQUENCE) + 1n : n);
  const len = typeof seq === 'string' ? seq.length : Array.isArray(seq) ? seq.length : (seq as PyTuple).items.length;
  if (len * count > MAX_SEQUENCE) throw new PyError(`sequence repetition longer than ${MAX_SEQUENCE} items is not supported`);
  if (typeof seq === 'string') return seq.repeat(count);
  const items = Array.isArray(seq) ? seq : (seq as PyTuple).items;
  const out: PyValue[] = [];
  for (let i = 0; i < count; i++) out.push(...items);
  return Array.isArray(seq) ? out : new PyTuple(out);
}

function isSeq(v: PyValue): boolean {
  return typeof v === 'string' || Array.isArray(v) || v instanceof PyTuple;
}

/** Python's float floor division and modulo (CPython's float_divmod). */
function floatDivmod(a: number, b: number): [number, number] {
  if (b === 0) throw new PyError('ZeroDivisionError: float floor division by zero');
  let mod = a % b;
  let div = (a - mod) / b;
  if (mod) {
    if (b < 0 !== mod < 0) {
      mod += b;
      div -= 1;
    }
  } else mod = b < 0 ? -0 : 0;
  let floordiv: number;
  if (div) {
    floordiv = Math.floor(div);
    if (div - floordiv > 0.5) floordiv += 1;
  } else floordiv = a / b < 0 || Object.is(a / b, -0) ? -0 : 0;
  return [floordiv, mod];
}

function intFloorDiv(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new PyError('ZeroDivisionError: integer division or modulo by zero');
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function intMod(a: bigint, b: bigint): bigint {
  if (b === 0n) throw new PyError('ZeroDivisionError: integer division or modulo by zero');
  const r = a % b;
  return r !== 0n && r < 0n !== b < 0n ? r + b : r;
}

const SAFE = BigInt(Number.MAX_SAFE_INTEGER) + 1n;

function trueDiv(a: Num, b: Num): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') {
    if (b === 0n) throw new PyError('ZeroDivisionError: division by zero');
    // Both exact as doubles: one IEEE division is correctly rounded, as Python's int / int is.
    if (a <= SAFE && a >= -SAFE && b <= SAFE && b >= -SAFE) return Number(a) / Number(b);
    return bigTrueDiv(a, b);
  }
  const x = typeof a === 'bigint' ? toFloat(a) : a;
  const y = typeof b === 'bigint' ? toFloat(b) : b;
  if (y === 0) throw new PyError('ZeroDivisionError: float division by zero');
  return x / y;
}

/** a / b correctly rounded for ints of any size: a 55-bit quotient plus a sticky bit, rounded once. */
function bigTrueDiv(a: bigint, b: bigint): number {
  const neg = a < 0n !== b < 0n;
  const x = a < 0n ? -a : a;
  const y = b < 0n ? -b : b;
  if (x === 0n) return neg ? -0 : 0;
  const shift = 55 + bitLength(y) - bitLength(x);
  const num = shift >= 0 ? x << BigInt(shift) : x;
  const den = shift >= 0 ? y : y << BigInt(-shift);
  const q = num / den;
  const sticky = num % den !== 0n ? 1n : 0n;
  let r = Number((q << 1n) | sticky);
  // Scale by 2^-(shift+1) in steps that stay exact (no intermediate overflow or underflow).
  let e = -(shift + 1);
  while (e > 0) {
    const k = Math.min(e, 1000);
    r *= 2 ** k;
    e -= k;
  }
  while (e < 0) {
    const k = Math.max(e, -1000);
    r *= 2 ** k;
    e -= k;
  }
  if (!Number.isFinite(r)) throw new PyError('OverflowError: integer division result too large for a float');
  return neg ? -r : r;
}

function power(a: Num, b: Num): Num {
  if (typeof a === 'bigint' && typeof b === 'bigint') {
    if (b >= 0n) {
      if (a === 0n || a === 1n) return b === 0n ? 1n : a;
      if (a === -1n) return b % 2n === 0n ? 1n : -1n;
      if (BigInt(bitLength(a)) * b > BigInt(MAX_INT_BITS)) throw new PyError(`integer result larger than ${MAX_INT_BITS} bits is not supported`);
      return a ** b;
    }
    if (a === 0n) throw new PyError('ZeroDivisionError: 0.0 cannot be raised to a negative power');
    return floatPow(toFloat(a), toFloat(b));
  }
  return floatPow(typeof a === 'bigint' ? toFloat(a) : a, typeof b === 'bigint' ? toFloat(b) : b);
}

function floatPow(x: number, y: number): number {
  if (x === 0 && y < 0) throw new PyError('ZeroDivisionError: 0.0 cannot be raised to a negative power');
  if (x < 0 && !Number.isInteger(y) && Number.isFinite(y)) throw new PyError('complex results are not supported');
  if (x === 1 || y === 0) return 1;
  const r = Math.pow(x, y);
  if (!Number.isFinite(r) && Number.isFinite(x) && Number.isFinite(y)) throw new PyError("OverflowError: (34, 'Numerical result out of range')");
  return r;
}

function shift(op: '<<' | '>>', a: bigint, b: bigint): bigint {
  if (b < 0n) throw new PyError('ValueError: negative shift count');
  if (op === '>>') return b > BigInt(MAX_INT_BITS) ? (a < 0n ? -1n : 0n) : a >> b;
  if (a === 0n) return 0n;
  if (BigInt(bitLength(a)) + b > BigInt(MAX_INT_BITS)) throw new PyError(`integer result larger than ${MAX_INT_BITS} bits is not supported`);
  return a << b;
}

function arith(op: string, x: Num, y: Num): Num {
  if (typeof x === 'bigint' && typeof y === 'bigint') {
    if (op === '+') return checkInt(x + y);
    if (op === '-') return checkInt(x - y);
    if (op === '*') return checkInt(x * y);
    if (op === '//') return intFloorDiv(x, y);
    if (op === '%') return intMod(x, y);
  }
  const a = typeof x === 'bigint' ? toFloat(x) : x;
  const b = typeof y === 'bigint' ? toFloat(y) : y;
  if (op === '+') return a + b;
  if (op === '-') return a - b;
  if (op === '*') return a * b;
  if (op === '//') return floatDivmod(a, b)[0];
  return floatDivmod(a, b)[1];
}

export function binary(op: string, a: PyValue, b: PyValue): PyValue {
  const x = num(a);
  const y = num(b);
  if (x !== undefined && y !== undefined) {
    if (op === '/') return trueDiv(x, y);
    if (op === '**') return power(x, y);
    if (op === '<<' || op === '>>') {
      if (typeof x !== 'bigint' || typeof y !== 'bigint') unsupported(op, a, b);
      return shift(op, x, y);
    }
    return arith(op, x, y);
  }
  if (op === '+') {
    if (typeof a === 'string' && typeof b === 'string') {
      if (a.length + b.length > MAX_SEQUENCE) throw new PyError(`string longer than ${MAX_SEQUENCE} characters is not supported`);
      return a + b;
    }
    if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
    if (a instanceof PyTuple && b instanceof PyTuple) return new PyTuple([...a.items, ...b.items]);
    if (typeof a === 'string') throw new PyError(`TypeError: can only concatenate str (not "${typeName(b)}") to str`);
    if (Array.isArray(a)) throw new PyError(`TypeError: can only concatenate list (not "${typeName(b)}") to list`);
    if (a instanceof PyTuple) throw new PyError(`TypeError: can only concatenate tuple (not "${typeName(b)}") to tuple`);
  }
  if (op === '*') {
    if (isSeq(a) && typeof y === 'bigint') return repeat(a, y);
    if (isSeq(b) && typeof x === 'bigint') return repeat(b, x);
  }
  if (op === '%' && typeof a === 'string') throw new PyError("'%' formatting of strings is not supported (use str.format)");
  return unsupported(op, a, b);
}

export function unary(op: string, a: PyValue): PyValue {
  const x = num(a);
  if (x === undefined) throw new PyError(`TypeError: bad operand type for unary ${op}: '${typeName(a)}'`);
  if (op === '+') return x;
  if (op === '-') return typeof x === 'bigint' ? -x : -x;
  if (typeof x !== 'bigint') throw new PyError(`TypeError: bad operand type for unary ~: 'float'`);
  return -x - 1n;
}

/** Python's index normalisation for a sequence of `len` items. */
export function indexOf(i: PyValue, len: number, what: string): number {
  const n = num(i);
  if (typeof n !== 'bigint') throw new PyError(`TypeError: ${what} indices must be integers or slices, not ${typeName(i)}`);
  const k = n < 0n ? n + BigInt(len) : n;
  if (k < 0n || k >= BigInt(len)) throw new PyError(`IndexError: ${what} index out of range`);
  return Number(k);
}

/** Python's slice.indices() then the selected positions. */
export function sliceIndices(len: number, lo: PyValue | undefined, hi: PyValue | undefined, stepV: PyValue | undefined): number[] {
  const asInt = (v: PyValue | undefined): bigint | undefined => {
    if (v === undefined || v === null) return undefined;
    const n = num(v);
    if (typeof n !== 'bigint') throw new PyError('TypeError: slice indices must be integers or None');
    return n;
  };
  const step = asInt(stepV) ?? 1n;
  if (step === 0n) throw new PyError('ValueError: slice step cannot be zero');
  const L = BigInt(len);
  const clamp = (v: bigint | undefined, dflt: bigint, lower: bigint, upper: bigint): bigint => {
    if (v === undefined) return dflt;
    const k = v < 0n ? v + L : v;
    return k < lower ? lower : k > upper ? upper : k;
  };
  const out: number[] = [];
  if (step > 0n) {
    const start = clamp(asInt(lo), 0n, 0n, L);
    const stop = clamp(asInt(hi), L, 0n, L);
    for (let i = start; i < stop; i += step) out.push(Number(i));
  } else {
    const start = clamp(asInt(lo), L - 1n, -1n, L - 1n);
    const stop = clamp(asInt(hi), -1n, -1n, L - 1n);
    for (let i = start; i > stop; i += step) out.push(Number(i));
  }
  return out;
}
