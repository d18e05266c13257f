/**
 * Runs parsed VSPERF conf statements against a namespace shared by the files of one load, as VSPERF
 * does (it executes every conf file into the same module, so a file sees the names of the files
 * loaded before it). Only the operations of the dialect exist; no Python, eval or Function is used.
 */
import { ConfSourceError } from '../../errors.js';
import { suggest } from '../../util/suggest.js';
import type { Json, JsonObject } from '../settings.js';
import { BUILTINS, copyModule, iterate, method, osModule, settingsModule, type HostContext } from './builtins.js';
import { PyError, binary, indexOf, sliceIndices, unary } from './ops.js';
import { parseConf, type Expr, type Pos, type Stmt } from './parser.js';
import { ConversionError, PyDict, PyTuple, deepCopy, fromJson, isFunction, isModule, toJson, typeName, type PyValue } from './values.js';

/** VSPERF keeps the upper-case names of a conf file as settings; `_NAMES` are helpers of the file. */
export function isSettingName(name: string): boolean {
  return /^[A-Z][A-Z0-9_]*$/.test(name);
}

export interface ConfFileResult {
  /** Settings the file set or changed, in the order it first touched them. */
  readonly values: JsonObject;
}

export interface NamespaceOptions {
  /** Values visible to the first file (earlier layers, VSPERF's defaults). */
  readonly initial?: JsonObject;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
}

export class ConfNamespace {
  private readonly globals = new Map<string, PyValue>();
  private readonly host: HostContext;
  private before = new Map<string, PyValue>();

  constructor(opts: NamespaceOptions = {}) {
    for (const [k, v] of Object.entries(opts.initial ?? {})) this.globals.set(k, fromJson(v));
    this.host = {
      env: opts.env ?? process.env,
      cwd: opts.cwd ?? process.cwd(),
      settingValue: (name) => this.before.get(name),
    };
    // VSPERF's 00_common.conf imports os and copy into the shared namespace; later files use them as is.
    this.globals.set('os', osModule(this.host));
    this.globals.set('copy', copyModule);
  }

  /** Put a value into the namespace (an earlier layer's setting, ROOT_DIR). */
  define(name: string, value: Json): void {
    this.globals.set(name, fromJson(value));
  }

  /** Python type name of a name's value ('list', 'tuple', 'dict', 'str', …), undefined when unset. */
  typeOf(name: string): string | undefined {
    const v = this.globals.get(name);
    return v === undefined ? undefined : typeName(v);
  }

  has(name: string): boolean {
    return this.globals.has(name);
  }

  /** Every setting of the namespace as JSON (what VSPERF's Settings would hold), None skipped. */
  snapshot(): JsonObject {
    const out: JsonObject = {};
    for (const [k, v] of this.globals) if (isSettingName(k) && v !== null) out[k] = toJson(v, k);
    return out;
  }

  /** Run one file. `file` names it in errors and is its __file__. */
  runFile(text: string, file: string): ConfFileResult {
    const stmts = parseConf(text, file);
    this.before = new Map([...this.globals].filter(([k]) => isSettingName(k)).map(([k, v]) => [k, deepCopy(v)]));
    const run = new FileRun(this.globals, this.host, file);
    this.globals.set('__file__', file);
    for (const s of stmts) run.exec(s);
    this.globals.delete('__file__');
    const names = [...run.touched.keys()];
    for (const [k, v] of this.globals) if (isSettingName(k) && !run.touched.has(k) && (!this.before.has(k) || !same(this.before.get(k)!, v))) names.push(k);
    const values: JsonObject = {};
    for (const name of names) {
      if (!isSettingName(name)) continue;
      const v = this.globals.get(name);
      // VSPERF skips settings whose value is None.
      if (v === undefined || v === null) continue;
      try {
        values[name] = toJson(v, name);
      } catch (e) {
        if (!(e instanceof ConversionError)) throw e;
        const at = run.touched.get(name) ?? { line: 1, col: 1 };
        throw new ConfSourceError(file, at.line, at.col, e.message);
      }
    }
    return { values };
  }
}

function same(a: PyValue, b: PyValue): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]!));
  if (a instanceof PyTuple && b instanceof PyTuple) return same(a.items as PyValue[], b.items as PyValue[]);
  if (a instanceof PyDict && b instanceof PyDict) {
    const ea = a.entries();
    const eb = b.entries();
    return ea.length === eb.length && ea.every(([k, v], i) => same(k, eb[i]![0]) && same(v, eb[i]![1]));
  }
  return typeof a === typeof b && (a === b || (typeof a === 'number' && Number.isNaN(a) && Number.isNaN(b as number)));
}

class FileRun {
  /** Root names assigned or mutated by this file, with the place of the last such statement. */
  readonly touched = new Map<string, Pos>();

  constructor(
    private readonly globals: Map<string, PyValue>,
    private readonly host: HostContext,
    private readonly file: string,
  ) {}

  private fail(at: Pos, msg: string): never {
    throw new ConfSourceError(this.file, at.line, at.col, msg);
  }

  /** Run `f`, turning a Python-level error into one at `at`. */
  private at<T>(at: Pos, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof PyError) this.fail(at, e.message);
      throw e;
    }
  }

  exec(s: Stmt): void {
    switch (s.t) {
      case 'import':
        for (const m of s.modules) this.globals.set(m === 'copy' ? 'copy' : 'os', m === 'copy' ? copyModule : osModule(this.host));
        return;
      case 'from':
        this.globals.set('settings', settingsModule(this.host));
        return;
      case 'expr':
        this.touchRoot(s.e, s.at);
        this.eval(s.e);
        return;
      case 'assign': {
        const v = this.eval(s.value);
        for (const t of s.targets) this.assign(t, v, s.at);
        return;
      }
      case 'aug':
        this.augAssign(s.target, s.value, s.at);
        return;
    }
  }

  /** A method call such as PATHS['x'].update(…) changes its root name. */
  private touchRoot(e: Expr, at: Pos): void {
    let x = e;
    while (x.t === 'call' || x.t === 'attr' || x.t === 'index' || x.t === 'slice') x = x.t === 'call' ? x.fn : x.obj;
    if (x.t === 'name') this.touched.set(x.id, at);
  }

  private assign(t: Expr, v: PyValue, at: Pos): void {
    if (t.t === 'name') {
      this.touched.delete(t.id);
      this.touched.set(t.id, at);
      this.globals.set(t.id, v);
      return;
    }
    if (t.t === 'tuple' || t.t === 'list') {
      const items = this.at(t.at, () => iterate(v));
      if (items.length !== t.items.length) {
        this.fail(
          t.at,
          items.length > t.items.length
            ? `ValueError: too many values to unpack (expected ${t.items.length})`
            : `ValueError: not enough values to unpack (expected ${t.items.length}, got ${items.length})`,
        );
      }
      t.items.forEach((x, i) => this.assign(x, items[i]!, at));
      return;
    }
    if (t.t === 'index') {
      this.touchRoot(t, at);
      const obj = this.eval(t.obj);
      const key = this.eval(t.index);
      this.at(t.at, () => setItem(obj, key, v));
      return;
    }
    this.fail(t.at, 'cannot assign to this expression');
  }

  private augAssign(t: Expr, valueExpr: Expr, at: Pos): void {
    const cur = this.eval(t);
    const add = this.eval(valueExpr);
    if (Array.isArray(cur)) {
      // list += iterable extends the list in place (other names bound to it see the change).
      cur.push(...this.at(valueExpr.at, () => iterate(add)));
      this.touchRoot(t, at);
      return;
    }
    this.assign(
      t,
      this.at(at, () => binary('+', cur, add)),
      at,
    );
  }

  private eval(e: Expr): PyValue {
    switch (e.t) {
      case 'const':
        return e.v;
      case 'name':
        return this.lookup(e.id, e.at);
      case 'list':
        return e.items.map((x) => this.eval(x));
      case 'tuple':
        return new PyTuple(e.items.map((x) => this.eval(x)));
      case 'dict': {
        const d = new PyDict();
        for (const [k, v] of e.entries) {
          const key = this.eval(k);
          const val = this.eval(v);
          if (!d.set(key, val)) this.fail(k.at, `TypeError: unhashable type: '${typeName(key)}'`);
        }
        return d;
      }
      case 'bin': {
        const l = this.eval(e.l);
        const r = this.eval(e.r);
        return this.at(e.at, () => binary(e.op, l, r));
      }
      case 'unary': {
        const v = this.eval(e.e);
        return this.at(e.at, () => unary(e.op, v));
      }
      case 'index': {
        const obj = this.eval(e.obj);
        const key = this.eval(e.index);
        return this.at(e.at, () => getItem(obj, key));
      }
      case 'slice': {
        const obj = this.eval(e.obj);
        const [lo, hi, step] = [e.lo, e.hi, e.step].map((x) => (x ? this.eval(x) : undefined));
        return this.at(e.at, () => slice(obj, lo, hi, step));
      }
      case 'attr':
        return this.attribute(this.eval(e.obj), e.name, e.at);
      case 'call': {
        const f = this.eval(e.fn);
        if (!isFunction(f)) this.fail(e.at, `calling a ${typeName(f)} is not supported`);
        const args = e.args.map((x) => this.eval(x));
        const kwargs = new Map(e.kwargs.map(([k, x]) => [k, this.eval(x)] as const));
        return this.at(e.at, () => f.call(args, kwargs));
      }
    }
  }

  private lookup(id: string, at: Pos): PyValue {
    const v = this.globals.get(id) ?? BUILTINS.get(id);
    if (v !== undefined) return v;
    const s = suggest(id, [...this.globals.keys(), ...BUILTINS.keys()]);
    return this.fail(
      at,
      `name '${id}' is not defined${s ? `; did you mean '${s}'?` : ''}${/^[a-z_]+$/.test(id) && !s ? ' (only str, int, float, hex, round, len, os.path.*, os.getenv and copy.* can be called)' : ''}`,
    );
  }

  private attribute(obj: PyValue, name: string, at: Pos): PyValue {
    if (isModule(obj)) {
      const v = obj.attrs.get(name);
      if (v === undefined) this.fail(at, `${obj.name}.${name} is not supported (available: ${[...obj.attrs.keys()].join(', ')})`);
      return v;
    }
    const m = method(obj, name);
    if (!m) this.fail(at, `attribute '${name}' of a ${typeName(obj)} is not supported`);
    return m;
  }
}

function getItem(obj: PyValue, key: PyValue): PyValue {
  if (obj instanceof PyDict) {
    const v = obj.get(key);
    if (v !== undefined) return v;
    if (PyDict.keyOf(key) === undefined) throw new PyError(`TypeError: unhashable type: '${typeName(key)}'`);
    const keys = obj
      .entries()
      .map(([k]) => k)
      .filter((k): k is string => typeof k === 'string');
    const s = typeof key === 'string' ? suggest(key, keys) : undefined;
    throw new PyError(`KeyError: ${typeof key === 'string' ? `'${key}'` : String(key)} is not in the dict${s ? `; did you mean '${s}'?` : ''}`);
  }
  if (Array.isArray(obj)) return obj[indexOf(key, obj.length, 'list')]!;
  if (obj instanceof PyTuple) return obj.items[indexOf(key, obj.items.length, 'tuple')]!;
  if (typeof obj === 'string') {
    const chars = [...obj];
    return chars[indexOf(key, chars.length, 'string')]!;
  }
  throw new PyError(`TypeError: '${typeName(obj)}' object is not subscriptable`);
}

function setItem(obj: PyValue, key: PyValue, v: PyValue): void {
  if (obj instanceof PyDict) {
    if (!obj.set(key, v)) throw new PyError(`TypeError: unhashable type: '${typeName(key)}'`);
    return;
  }
  if (Array.isArray(obj)) {
    obj[indexOf(key, obj.length, 'list assignment')] = v;
    return;
  }
  throw new PyError(`TypeError: '${typeName(obj)}' object does not support item assignment`);
}

function slice(obj: PyValue, lo: PyValue | undefined, hi: PyValue | undefined, step: PyValue | undefined): PyValue {
  if (typeof obj === 'string') {
    const chars = [...obj];
    return sliceIndices(chars.length, lo, hi, step)
      .map((i) => chars[i])
      .join('');
  }
  if (Array.isArray(obj)) return sliceIndices(obj.length, lo, hi, step).map((i) => obj[i]!);
  if (obj instanceof PyTuple) return new PyTuple(sliceIndices(obj.items.length, lo, hi, step).map((i) => obj.items[i]!));
  throw new PyError(`TypeError: '${typeName(obj)}' object is not subscriptable`);
}
