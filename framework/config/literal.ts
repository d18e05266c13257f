/**
 * A parser for the Python-literal subset VSPERF users write in `--test-params` and `.conf` files:
 * numbers, 'strings' and "strings", True/False/None, [lists], (tuples), {dicts}. It builds plain JSON
 * values and never evaluates anything: there is no name lookup, call, attribute or operator.
 */
import { ParseError } from '../errors.js';
import type { Json, JsonObject } from './settings.js';

export const MAX_INPUT_CHARS = 64 * 1024;
export const MAX_DEPTH = 32;

export class LiteralParser {
  pos = 0;
  constructor(readonly src: string) {
    if (src.length > MAX_INPUT_CHARS) throw new ParseError(src.slice(0, 80), 0, `input longer than ${MAX_INPUT_CHARS} characters`);
  }

  fail(msg: string, at = this.pos): never {
    throw new ParseError(this.src, at, msg);
  }

  peek(): string {
    return this.src[this.pos] ?? '';
  }

  eof(): boolean {
    return this.pos >= this.src.length;
  }

  skipWs(comments = false): void {
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') this.pos++;
      else if (comments && c === '#') {
        while (!this.eof() && this.peek() !== '\n') this.pos++;
      } else if (comments && c === '\\' && this.src[this.pos + 1] === '\n') this.pos += 2;
      else return;
    }
  }

  expect(ch: string): void {
    if (this.peek() !== ch) this.fail(`expected '${ch}' but found ${this.eof() ? 'end of input' : `'${this.peek()}'`}`);
    this.pos++;
  }

  /** One literal value. `bareWords` accepts an unquoted word as a string (VSPERF's fallback). */
  value(depth = 0, opts: { bareWords?: boolean; comments?: boolean } = {}): Json {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    this.skipWs(opts.comments);
    const c = this.peek();
    if (c === '') this.fail('expected a value but found end of input');
    // VSPERF's bare-word fallback applies to a whole value only, never inside containers.
    const inner = { ...opts, bareWords: false };
    if (c === '[') return this.sequence(']', depth, inner);
    if (c === '(') return this.sequence(')', depth, inner);
    if (c === '{') return this.dict(depth, inner);
    if (c === "'" || c === '"') return this.string();
    if (/[-+0-9.]/.test(c)) {
      const n = this.number();
      if (n !== undefined) return n;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.pos))?.[0];
    if (word === 'True' || word === 'true') return this.take(word, true);
    if (word === 'False' || word === 'false') return this.take(word, false);
    if (word === 'None' || word === 'null') return this.take(word, null);
    if (opts.bareWords) {
      const bare = /^[A-Za-z0-9_.:/@%+-]+/.exec(this.src.slice(this.pos))?.[0];
      if (bare) {
        const at = this.pos;
        this.pos += bare.length;
        this.skipWs();
        if (this.peek() === '(' || this.peek() === '[' || this.peek() === '.')
          this.fail(`'${bare}${this.peek()}…' is not a literal (calls, indexing and attribute access are not allowed)`, at);
        return bare;
      }
    }
    if (word) this.fail(`'${word}' is not a literal (only numbers, quoted strings, True/False/None, lists, tuples and dicts are allowed)`);
    return this.fail(`unexpected character '${c}'`);
  }

  private take<T extends Json>(word: string, v: T): T {
    this.pos += word.length;
    return v;
  }

  private number(): number | undefined {
    const m = /^[-+]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][-+]?\d+)?)/.exec(this.src.slice(this.pos));
    if (!m) return undefined;
    const text = m[0].replace(/_/g, '');
    const after = this.src[this.pos + m[0].length] ?? '';
    if (/[A-Za-z_]/.test(after)) return undefined;
    const sign = text.startsWith('-') ? -1 : 1;
    const body = text.replace(/^[-+]/, '');
    let v: number;
    if (/^0[xX]/.test(body)) v = parseInt(body.slice(2), 16);
    else if (/^0[oO]/.test(body)) v = parseInt(body.slice(2), 8);
    else if (/^0[bB]/.test(body)) v = parseInt(body.slice(2), 2);
    else v = Number(body);
    if (!Number.isFinite(v)) this.fail(`number out of range: ${m[0]}`);
    this.pos += m[0].length;
    return sign * v;
  }

  private string(): string {
    const q = this.peek();
    const start = this.pos;
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.peek();
      if (c === '') this.fail('unterminated string', start);
      this.pos++;
      if (c === q) return out;
      if (c === '\n') this.fail('newline inside a string', start);
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.peek();
      this.pos++;
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };
      if (e in simple) out += simple[e];
      else if (e === 'x' || e === 'u') {
        const len = e === 'x' ? 2 : 4;
        const hex = this.src.slice(this.pos, this.pos + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) this.fail(`bad \\${e} escape`);
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += len;
      } else this.fail(`unknown escape \\${e}`);
    }
  }

  private sequence(close: ']' | ')', depth: number, opts: { bareWords?: boolean; comments?: boolean }): Json[] {
    this.pos++;
    const out: Json[] = [];
    for (;;) {
      this.skipWs(opts.comments);
      if (this.peek() === close) {
        this.pos++;
        return out;
      }
      out.push(this.value(depth + 1, opts));
      this.skipWs(opts.comments);
      if (this.peek() === ',') {
        this.pos++;
        continue;
      }
      this.expect(close);
      return out;
    }
  }

  private dict(depth: number, opts: { bareWords?: boolean; comments?: boolean }): JsonObject {
    this.pos++;
    const out: JsonObject = Object.create(null) as JsonObject;
    for (;;) {
      this.skipWs(opts.comments);
      if (this.peek() === '}') {
        this.pos++;
        return { ...out };
      }
      const keyAt = this.pos;
      const key = this.value(depth + 1, { ...opts, bareWords: false });
      if (typeof key !== 'string' && typeof key !== 'number') this.fail('dict keys must be strings or numbers', keyAt);
      const k = String(key);
      if (k === '__proto__' || k === 'constructor' || k === 'prototype') this.fail(`dict key '${k}' is not allowed`, keyAt);
      this.skipWs(opts.comments);
      this.expect(':');
      out[k] = this.value(depth + 1, opts);
      this.skipWs(opts.comments);
      if (this.peek() === ',') {
        this.pos++;
        continue;
      }
      this.expect('}');
      return { ...out };
    }
  }
}

/** Parse exactly one literal (whole input). */
export function parseLiteral(src: string, opts: { bareWords?: boolean } = {}): Json {
  const p: LiteralParser = new LiteralParser(src);
  const v = p.value(0, opts);
  p.skipWs();
  if (!p.eof()) p.fail(`unexpected '${p.peek()}' after the value`);
  return v;
}

/** Render a JSON value back in the literal syntax (for `--dry-run` and round-trip tests). */
export function formatLiteral(v: Json): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return Number.isInteger(v) || !Number.isFinite(v) ? String(v) : String(v);
  if (typeof v === 'string')
    return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t').replace(/\0/g, '\\0')}'`;
  if (Array.isArray(v)) return `[${v.map(formatLiteral).join(', ')}]`;
  return `{${Object.entries(v)
    .map(([k, x]) => `${formatLiteral(k)}: ${formatLiteral(x)}`)
    .join(', ')}}`;
}
