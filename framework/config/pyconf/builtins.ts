/**
 * The few functions VSPERF's conf files call, written out in TypeScript with Python's results:
 * os.path.join/normpath/dirname/basename/realpath/abspath/splitext, os.getenv, copy.deepcopy/copy,
 * conf.settings.getValue, str/int/float/hex/round/len, and the methods dict.update, list.append,
 * list.extend and str.format. Nothing else can be called.
 */
import { existsSync, realpathSync } from 'node:fs';
import { PyError, indexOf, toFloat } from './ops.js';
import { pyRepr, pyStr } from './repr.js';
import { PyDict, PyTuple, deepCopy, typeName, type PyFunction, type PyModule, type PyValue } from './values.js';

export interface HostContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** settings.getValue(NAME): the value NAME had before this file ran. */
  readonly settingValue: (name: string) => PyValue | undefined;
}

type Args = PyValue[];
type Kwargs = Map<string, PyValue>;

export function fn(name: string, min: number, max: number, body: (args: Args, kwargs: Kwargs) => PyValue, kw: readonly string[] | '*' = []): PyFunction {
  return {
    kind: 'function',
    name,
    call(args, kwargs) {
      for (const k of kwargs.keys()) if (kw !== '*' && !kw.includes(k)) throw new PyError(`TypeError: ${name}() got an unexpected keyword argument '${k}'`);
      if (args.length < min || args.length > max) {
        const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
        throw new PyError(
          `TypeError: ${name}() takes ${want} positional argument${want === '1' ? '' : 's'} but ${args.length} ${args.length === 1 ? 'was' : 'were'} given`,
        );
      }
      return body(args, kwargs);
    },
  };
}

function str(v: PyValue, fname: string): string {
  if (typeof v !== 'string') throw new PyError(`TypeError: ${fname}() argument must be str, not ${typeName(v)}`);
  return v;
}

// ---- os.path, POSIX flavour (posixpath) ----

export function pathJoin(a: string, ...rest: string[]): string {
  let p = a;
  for (const b of rest) {
    if (b.startsWith('/')) p = b;
    else if (p === '' || p.endsWith('/')) p += b;
    else p += '/' + b;
  }
  return p;
}

export function normpath(p: string): string {
  if (p === '') return '.';
  const lead = p.startsWith('/') ? (p.startsWith('//') && !p.startsWith('///') ? 2 : 1) : 0;
  const comps: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c !== '..' || (!lead && !comps.length) || (comps.length && comps[comps.length - 1] === '..')) comps.push(c);
    else if (comps.length) comps.pop();
  }
  const out = '/'.repeat(lead) + comps.join('/');
  return out || '.';
}

export function dirname(p: string): string {
  const head = p.slice(0, p.lastIndexOf('/') + 1);
  return head && head !== '/'.repeat(head.length) ? head.replace(/\/+$/, '') : head;
}

export function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

export function splitext(p: string): [string, string] {
  const sep = p.lastIndexOf('/');
  const dot = p.lastIndexOf('.');
  if (dot > sep) {
    for (let i = sep + 1; i < dot; i++) if (p[i] !== '.') return [p.slice(0, dot), p.slice(dot)];
  }
  return [p, ''];
}

function abspath(p: string, cwd: string): string {
  return normpath(p.startsWith('/') ? p : pathJoin(cwd, p));
}

/** Like Python's realpath(strict=False): symlinks of the part that exists are resolved, the rest kept. */
function realpath(p: string, cwd: string): string {
  let head = abspath(p, cwd);
  let tail = '';
  while (head !== '/' && !existsSync(head)) {
    tail = tail ? pathJoin(basename(head), tail) : basename(head);
    head = dirname(head);
  }
  let real = head;
  try {
    real = realpathSync.native(head);
  } catch {
    // unreadable: keep the lexical path, as Python does when it cannot stat a component
  }
  return tail ? pathJoin(real, tail) : real;
}

export function osModule(host: HostContext): PyModule {
  const s1 = (name: string, f: (p: string) => PyValue): PyFunction => fn(name, 1, 1, ([p]) => f(str(p!, name)));
  const path: PyModule = {
    kind: 'module',
    name: 'os.path',
    attrs: new Map<string, PyValue>([
      ['join', fn('join', 1, Infinity, (args) => pathJoin(...(args.map((a) => str(a, 'join')) as [string, ...string[]])))],
      ['normpath', s1('normpath', normpath)],
      ['dirname', s1('dirname', dirname)],
      ['basename', s1('basename', basename)],
      ['abspath', s1('abspath', (p) => abspath(p, host.cwd))],
      ['realpath', s1('realpath', (p) => realpath(p, host.cwd))],
      ['splitext', s1('splitext', (p) => new PyTuple(splitext(p)))],
    ]),
  };
  const getenv = fn(
    'getenv',
    1,
    2,
    (args, kwargs) => {
      const v = host.env[str(args[0]!, 'getenv')];
      return v !== undefined ? v : (args[1] ?? kwargs.get('default') ?? null);
    },
    ['default'],
  );
  return {
    kind: 'module',
    name: 'os',
    attrs: new Map<string, PyValue>([
      ['path', path],
      ['getenv', getenv],
    ]),
  };
}

export const copyModule: PyModule = {
  kind: 'module',
  name: 'copy',
  attrs: new Map<string, PyValue>([
    ['deepcopy', fn('deepcopy', 1, 1, ([v]) => deepCopy(v!))],
    ['copy', fn('copy', 1, 1, ([v]) => (Array.isArray(v) ? [...v] : v instanceof PyDict ? shallowDict(v) : v!))],
  ]),
};

function shallowDict(d: PyDict): PyDict {
  const out = new PyDict();
  for (const [k, v] of d.entries()) out.set(k, v);
  return out;
}

export function settingsModule(host: HostContext): PyModule {
  const getValue = fn('getValue', 1, 1, ([name]) => {
    const v = host.settingValue(str(name!, 'getValue'));
    if (v === undefined) throw new PyError(`AttributeError: settings has no value '${String(name)}' (only settings defined before this file can be read)`);
    return deepCopy(v);
  });
  return { kind: 'module', name: 'conf.settings', attrs: new Map<string, PyValue>([['getValue', getValue]]) };
}

// ---- builtins ----

const INT_TEXT = /^[+-]?(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|[0-9](?:_?[0-9])*)$/;
const FLOAT_TEXT =
  /^[+-]?(?:(?:[0-9](?:_?[0-9])*)?\.?[0-9](?:_?[0-9])*(?:[eE][+-]?[0-9](?:_?[0-9])*)?|[0-9](?:_?[0-9])*\.(?:[eE][+-]?[0-9](?:_?[0-9])*)?|inf|infinity|nan)$/i;
// eslint-disable-next-line no-control-regex -- Python's str.strip() also strips the separators \x1c-\x1f
const PY_SPACE = /^[\s\u001c-\u001f]+|[\s\u001c-\u001f]+$/g;

function intFromString(s: string, base: number): bigint {
  const t = s.replace(PY_SPACE, '');
  const bad = (): never => {
    throw new PyError(`ValueError: invalid literal for int() with base ${base}: ${pyRepr(s)}`);
  };
  if (base === 10) {
    if (!/^[+-]?[0-9](?:_?[0-9])*$/.test(t)) bad();
    return BigInt(t.replace(/_/g, ''));
  }
  if (base === 0) {
    if (!INT_TEXT.test(t) || /^[+-]?0+[1-9]/.test(t.replace(/_/g, ''))) bad();
  }
  const neg = t.startsWith('-');
  let body = t.replace(/^[+-]/, '');
  const prefix = /^0([xXoObB])/.exec(body)?.[1]?.toLowerCase();
  const prefBase = prefix === 'x' ? 16 : prefix === 'o' ? 8 : prefix === 'b' ? 2 : 0;
  if (prefix && (base === 0 || base === prefBase)) body = body.slice(2).replace(/^_/, '');
  const b = base === 0 ? prefBase || 10 : base;
  if (!/^[0-9a-zA-Z](?:_?[0-9a-zA-Z])*$/.test(body)) bad();
  let v = 0n;
  for (const ch of body.replace(/_/g, '')) {
    const d = parseInt(ch, 36);
    if (d >= b) bad();
    v = v * BigInt(b) + BigInt(d);
  }
  return neg ? -v : v;
}

const builtinInt = fn(
  'int',
  0,
  2,
  (args, kwargs) => {
    const v = args[0] ?? kwargs.get('x') ?? 0n;
    const baseV = args[1] ?? kwargs.get('base');
    if (baseV !== undefined) {
      if (typeof v !== 'string') throw new PyError("TypeError: int() can't convert non-string with explicit base");
      if (typeof baseV !== 'bigint' || (baseV !== 0n && (baseV < 2n || baseV > 36n))) throw new PyError('ValueError: int() base must be >= 2 and <= 36, or 0');
      return intFromString(v, Number(baseV));
    }
    if (typeof v === 'bigint') return v;
    if (typeof v === 'boolean') return v ? 1n : 0n;
    if (typeof v === 'number') {
      if (Number.isNaN(v)) throw new PyError('ValueError: cannot convert float NaN to integer');
      if (!Number.isFinite(v)) throw new PyError('OverflowError: cannot convert float infinity to integer');
      return BigInt(Math.trunc(v));
    }
    if (typeof v === 'string') return intFromString(v, 10);
    throw new PyError(`TypeError: int() argument must be a string, a bytes-like object or a real number, not '${typeName(v)}'`);
  },
  ['base'],
);

const builtinFloat = fn('float', 0, 1, ([v]) => {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return toFloat(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const t = v.replace(PY_SPACE, '');
    if (!FLOAT_TEXT.test(t)) throw new PyError(`ValueError: could not convert string to float: ${pyRepr(v)}`);
    const lower = t.toLowerCase().replace(/^[+]/, '');
    if (/^-?inf(inity)?$/.test(lower)) return lower.startsWith('-') ? -Infinity : Infinity;
    if (/^-?nan$/.test(lower)) return NaN;
    return Number(t.replace(/_/g, ''));
  }
  throw new PyError(`TypeError: float() argument must be a string or a real number, not '${typeName(v)}'`);
});

const builtinHex = fn('hex', 1, 1, ([v]) => {
  const n = typeof v === 'boolean' ? (v ? 1n : 0n) : v;
  if (typeof n !== 'bigint') throw new PyError(`TypeError: '${typeName(v!)}' object cannot be interpreted as an integer`);
  return n < 0n ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
});

function roundHalfEvenInt(v: bigint, digits: bigint): bigint {
  if (digits >= 0n) return v;
  const m = 10n ** -digits;
  const q = v >= 0n ? v / m : -(-v / m);
  let r = v - q * m;
  let base = q;
  if (r < 0n) {
    base -= 1n;
    r += m;
  }
  const twice = 2n * r;
  if (twice > m || (twice === m && base % 2n !== 0n)) base += 1n;
  return base * m;
}

/** round(x, n) for a float: the exact decimal value of x rounded half-even at n digits, as CPython. */
function roundFloat(x: number, n: number): number {
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) return x;
  if (n < 0 || n > 20) throw new PyError(`round() of a float to ${n} digits is not supported (0 to 20)`);
  const exact = Math.abs(x).toFixed(100);
  const [ip, fp] = exact.split('.') as [string, string];
  const kept = ip + fp.slice(0, n);
  const rest = fp.slice(n);
  let digits = BigInt(kept);
  const half = rest[0]! > '5' || (rest[0] === '5' && /[1-9]/.test(rest.slice(1))) || (rest[0] === '5' && digits % 2n === 1n);
  if (half) digits += 1n;
  const s = digits.toString().padStart(n + 1, '0');
  const r = Number(`${s.slice(0, s.length - n)}.${s.slice(s.length - n) || '0'}`);
  return x < 0 || Object.is(x, -0) ? -r : r;
}

const builtinRound = fn(
  'round',
  1,
  2,
  (args, kwargs) => {
    const v = args[0]!;
    const nd = args[1] ?? kwargs.get('ndigits') ?? null;
    const x = typeof v === 'boolean' ? (v ? 1n : 0n) : v;
    if (nd !== null && typeof nd !== 'bigint') throw new PyError(`TypeError: '${typeName(nd)}' object cannot be interpreted as an integer`);
    if (typeof x === 'bigint') return nd === null ? x : roundHalfEvenInt(x, nd);
    if (typeof x !== 'number') throw new PyError(`TypeError: type ${typeName(v)} doesn't define __round__ method`);
    if (nd === null) {
      if (Number.isNaN(x)) throw new PyError('ValueError: cannot convert float NaN to integer');
      if (!Number.isFinite(x)) throw new PyError('OverflowError: cannot convert float infinity to integer');
      const f = Math.floor(x);
      const d = x - f;
      return BigInt(d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f);
    }
    return roundFloat(x, Number(nd));
  },
  ['ndigits'],
);

export function pyLen(v: PyValue): bigint {
  if (typeof v === 'string') return BigInt([...v].length);
  if (Array.isArray(v)) return BigInt(v.length);
  if (v instanceof PyTuple) return BigInt(v.items.length);
  if (v instanceof PyDict) return BigInt(v.size);
  throw new PyError(`TypeError: object of type '${typeName(v)}' has no len()`);
}

export const BUILTINS: ReadonlyMap<string, PyValue> = new Map<string, PyValue>([
  ['str', fn('str', 0, 1, ([v]) => (v === undefined ? '' : pyStr(v)))],
  ['int', builtinInt],
  ['float', builtinFloat],
  ['hex', builtinHex],
  ['round', builtinRound],
  ['len', fn('len', 1, 1, ([v]) => pyLen(v!))],
]);

// ---- methods ----

/** str.format with plain fields: {}, {0}, {name}, optional !r/!s; format specs are refused. */
export function strFormat(fmt: string, args: Args, kwargs: Kwargs): string {
  let out = '';
  let auto = 0;
  let mode: 'auto' | 'manual' | undefined;
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c === '}') {
      if (fmt[i + 1] !== '}') throw new PyError("ValueError: Single '}' encountered in format string");
      out += '}';
      i++;
      continue;
    }
    if (c !== '{') {
      out += c;
      continue;
    }
    if (fmt[i + 1] === '{') {
      out += '{';
      i++;
      continue;
    }
    const end = fmt.indexOf('}', i);
    if (end < 0) throw new PyError("ValueError: expected '}' before end of string");
    const field = fmt.slice(i + 1, end);
    i = end;
    const m = /^([^!:]*)(?:!([rsa]))?(?::(.*))?$/s.exec(field);
    if (!m || /[{[.]/.test(m[1]!)) throw new PyError(`format field {${field}} is not supported (only {}, {0}, {name} with !r or !s)`);
    if (m[3]) throw new PyError(`format spec ':${m[3]}' is not supported`);
    const name = m[1]!;
    let v: PyValue | undefined;
    if (name === '') {
      if (mode === 'manual') throw new PyError('ValueError: cannot switch from manual field specification to automatic field numbering');
      mode = 'auto';
      v = args[auto++];
      if (v === undefined) throw new PyError(`IndexError: Replacement index ${auto - 1} out of range for positional args tuple`);
    } else if (/^[0-9]+$/.test(name)) {
      if (mode === 'auto') throw new PyError('ValueError: cannot switch from automatic field numbering to manual field specification');
      mode = 'manual';
      v = args[Number(name)];
      if (v === undefined) throw new PyError(`IndexError: Replacement index ${name} out of range for positional args tuple`);
    } else {
      v = kwargs.get(name);
      if (v === undefined) throw new PyError(`KeyError: ${pyRepr(name)}`);
    }
    out += m[2] === 'r' || m[2] === 'a' ? pyRepr(v) : pyStr(v);
  }
  return out;
}

/** The methods a value has in the dialect, bound to it. */
export function method(obj: PyValue, name: string): PyFunction | undefined {
  if (typeof obj === 'string' && name === 'format') return fn('format', 0, Infinity, (args, kwargs) => strFormat(obj, args, kwargs), '*');
  if (obj instanceof PyDict && name === 'update')
    return fn(
      'update',
      0,
      1,
      (args, kwargs) => {
        const src = args[0];
        if (src !== undefined) {
          if (!(src instanceof PyDict)) throw new PyError('dict.update() takes a dict here (pairs are not supported)');
          for (const [k, v] of src.entries()) obj.set(k, v);
        }
        for (const [k, v] of kwargs) obj.set(k, v);
        return null;
      },
      '*',
    );
  if (Array.isArray(obj) && name === 'append') return fn('append', 1, 1, ([v]) => (obj.push(v!), null));
  if (Array.isArray(obj) && name === 'extend') return fn('extend', 1, 1, ([v]) => (obj.push(...iterate(v!)), null));
  return undefined;
}

export function iterate(v: PyValue): PyValue[] {
  if (Array.isArray(v)) return [...v];
  if (v instanceof PyTuple) return [...v.items];
  if (typeof v === 'string') return [...v];
  if (v instanceof PyDict) return v.entries().map(([k]) => k);
  throw new PyError(`TypeError: '${typeName(v)}' object is not iterable`);
}

export { indexOf };
