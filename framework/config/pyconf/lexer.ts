/**
 * Tokenizer for the VSPERF conf dialect (a small subset of Python). It works on a decoded string
 * (a UTF-8 decoding step may run before it), keeps 1-based line/column for every token and turns
 * anything outside the dialect into a ConfSourceError naming the place.
 */
import { ConfSourceError } from '../../errors.js';

export type TokKind = 'name' | 'int' | 'float' | 'string' | 'op' | 'newline' | 'eof';

export interface Token {
  readonly kind: TokKind;
  /** name/op text; string value after escapes; int/float source text without underscores. */
  readonly text: string;
  readonly line: number;
  readonly col: number;
}

const OPS = [
  '**=',
  '//=',
  '>>=',
  '<<=',
  '...',
  '**',
  '//',
  '<<',
  '>>',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '&=',
  '|=',
  '^=',
  '@=',
  '==',
  '!=',
  '<=',
  '>=',
  '->',
  ':=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '@',
  '&',
  '|',
  '^',
  '~',
  '<',
  '>',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  ':',
  '.',
  ';',
  '=',
];
const SIMPLE_ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
const ID_START = /[\p{ID_Start}_]/u;
const ID_CONT = /[\p{ID_Continue}\u00b7]/u;

export class Lexer {
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  private depth = 0;
  private atLineStart = true;
  readonly src: string;

  constructor(
    text: string,
    private readonly file: string,
  ) {
    // Python reads CRLF and lone CR as newlines everywhere, string literals included; a leading BOM is skipped.
    this.src = text.replace(/^\ufeff/, '').replace(/\r\n?/g, '\n');
  }

  fail(msg: string, line = this.line, col = this.pos - this.lineStart + 1): never {
    throw new ConfSourceError(this.file, line, col, msg);
  }

  private last: Token | undefined;
  private pending: Token | undefined;

  /** The next significant token (blank and comment lines yield none), lexed on demand. */
  nextToken(): Token {
    if (this.pending) {
      const p = this.pending;
      this.pending = undefined;
      return (this.last = p);
    }
    for (;;) {
      const t = this.next();
      if (t === undefined) continue;
      // A newline only ends a statement when one has started.
      if (t.kind === 'newline' && (this.last === undefined || this.last.kind === 'newline')) continue;
      if (t.kind === 'eof' && this.last && this.last.kind !== 'newline') {
        this.pending = t;
        return (this.last = { kind: 'newline', text: '', line: t.line, col: t.col });
      }
      return (this.last = t);
    }
  }

  /** All tokens at once (tests, tools). */
  tokens(): Token[] {
    const out: Token[] = [];
    for (;;) {
      const t = this.nextToken();
      out.push(t);
      if (t.kind === 'eof') return out;
    }
  }

  private tok(kind: TokKind, text: string, start: number, line = this.line, lineStart = this.lineStart): Token {
    return { kind, text, line, col: start - lineStart + 1 };
  }

  private newline(): void {
    this.pos++;
    this.line++;
    this.lineStart = this.pos;
  }

  private next(): Token | undefined {
    const s = this.src;
    if (this.atLineStart && this.depth === 0) {
      this.atLineStart = false;
      const indent = /^[ \t\f]*/.exec(s.slice(this.pos, this.pos + 256))![0].length;
      const after = s[this.pos + indent];
      const blank = after === undefined || after === '\n' || after === '#' || (after === '\\' && s[this.pos + indent + 1] === '\n');
      if (indent > 0 && !blank) this.fail('unexpected indent (statements start in column 1; blocks are not supported)', this.line, indent + 1);
    }
    const c = s[this.pos];
    if (c === undefined) {
      if (this.depth > 0) this.fail('unexpected end of file: a bracket is not closed');
      return this.tok('eof', '', this.pos);
    }
    if (c === ' ' || c === '\t' || c === '\f') {
      this.pos++;
      return undefined;
    }
    if (c === '#') {
      while (this.pos < s.length && s[this.pos] !== '\n') this.pos++;
      return undefined;
    }
    if (c === '\\') {
      if (s[this.pos + 1] !== '\n') this.fail('unexpected character after line continuation character');
      this.pos++;
      this.newline();
      return undefined;
    }
    if (c === '\n') {
      const t = this.tok('newline', '', this.pos);
      this.newline();
      if (this.depth > 0) return undefined;
      this.atLineStart = true;
      return t;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(s[this.pos + 1] ?? ''))) return this.number();
    if (c === "'" || c === '"') return this.string('');
    if (ID_START.test(c)) {
      const start = this.pos;
      const m = /^[\p{ID_Start}_][\p{ID_Continue}\u00b7]*/u.exec(s.slice(this.pos, this.pos + 1024))![0];
      const next = s[this.pos + m.length];
      if ((next === "'" || next === '"') && /^(r|u|b|br|rb|f|fr|rf)$/i.test(m)) {
        this.pos += m.length;
        return this.string(m.toLowerCase(), start);
      }
      this.pos += m.length;
      return this.tok('name', m.normalize('NFKC'), start);
    }
    for (const op of OPS) {
      if (s.startsWith(op, this.pos)) {
        const start = this.pos;
        this.pos += op.length;
        if (op === '(' || op === '[' || op === '{') this.depth++;
        if (op === ')' || op === ']' || op === '}') {
          if (this.depth === 0) this.fail(`unmatched '${op}'`, this.line, start - this.lineStart + 1);
          this.depth--;
        }
        return this.tok('op', op, start);
      }
    }
    if (ID_CONT.test(c)) this.fail(`invalid character '${c}' in identifier`);
    return this.fail(`invalid character '${c}' (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`);
  }

  private number(): Token {
    const start = this.pos;
    const rest = this.src.slice(this.pos, this.pos + 4096);
    const radix = /^0(?:[xX](?:_?[0-9a-fA-F])+|[oO](?:_?[0-7])+|[bB](?:_?[01])+)/.exec(rest);
    const dec = /^(?:(?:[0-9](?:_?[0-9])*)?\.[0-9](?:_?[0-9])*|[0-9](?:_?[0-9])*\.?)(?:[eE][-+]?[0-9](?:_?[0-9])*)?/.exec(rest);
    const text = radix?.[0] ?? dec![0];
    const after = rest[text.length] ?? '';
    if (/^[jJ]$/.test(after)) this.fail('complex numbers are not supported', this.line, start - this.lineStart + 1);
    if (after === '_' || (after !== '' && ID_CONT.test(after) && !/^[eE]$/.test(after)))
      this.fail(`invalid number literal '${text}${after}'`, this.line, start - this.lineStart + 1);
    if (after === '.' && radix) this.fail(`invalid number literal '${text}.'`, this.line, start - this.lineStart + 1);
    this.pos += text.length;
    const clean = text.replace(/_/g, '');
    const isFloat = !radix && /[.eE]/.test(clean);
    // Python 3 forbids leading zeros on a non-zero decimal integer (0777 was octal in Python 2).
    if (!isFloat && !radix && /^0+[1-9]/.test(clean))
      this.fail('leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers', this.line, start - this.lineStart + 1);
    return this.tok(isFloat ? 'float' : 'int', clean, start);
  }

  private string(prefix: string, start = this.pos): Token {
    const line = this.line;
    const lineStart = this.lineStart;
    if (prefix.includes('b')) this.fail('bytes literals are not supported', line, start - lineStart + 1);
    if (prefix.includes('f')) this.fail('f-strings are not supported', line, start - lineStart + 1);
    const raw = prefix.includes('r');
    const s = this.src;
    const q = s[this.pos]!;
    const triple = s.startsWith(q.repeat(3), this.pos);
    const close = triple ? q.repeat(3) : q;
    this.pos += close.length;
    let out = '';
    for (;;) {
      const c = s[this.pos];
      if (c === undefined) this.fail(triple ? 'unterminated triple-quoted string literal' : 'unterminated string literal', line, start - lineStart + 1);
      if (s.startsWith(close, this.pos)) {
        this.pos += close.length;
        return this.tok('string', out, start, line, lineStart);
      }
      if (c === '\n') {
        if (!triple) this.fail('unterminated string literal', line, start - lineStart + 1);
        out += c;
        this.newline();
        continue;
      }
      if (c !== '\\') {
        out += c;
        this.pos++;
        continue;
      }
      const e = s[this.pos + 1];
      if (e === undefined) this.fail('unterminated string literal', line, start - lineStart + 1);
      if (raw) {
        // A raw string keeps the backslash; it only stops the next character from closing the string.
        out += '\\';
        this.pos++;
        if (e === '\n') {
          out += '\n';
          this.newline();
        } else {
          out += e;
          this.pos++;
        }
        continue;
      }
      out += this.escape(e);
    }
  }

  /** One escape after a backslash at this.pos; advances past it. Python's rules, \N{…} excepted. */
  private escape(e: string): string {
    const at = this.pos;
    this.pos += 2;
    if (e === '\n') {
      this.line++;
      this.lineStart = this.pos;
      return '';
    }
    if (e in SIMPLE_ESCAPES) return SIMPLE_ESCAPES[e]!;
    if (/[0-7]/.test(e)) {
      const m = /^[0-7]{1,3}/.exec(this.src.slice(at + 1, at + 4))![0];
      this.pos = at + 1 + m.length;
      return String.fromCodePoint(parseInt(m, 8));
    }
    const hexLen = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hexLen) {
      const hex = this.src.slice(this.pos, this.pos + hexLen);
      if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(hex)) this.fail(`truncated \\${e}${'X'.repeat(hexLen)} escape`, this.line, at - this.lineStart + 1);
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) this.fail(`illegal Unicode character in \\U escape`, this.line, at - this.lineStart + 1);
      this.pos += hexLen;
      return cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp);
    }
    if (e === 'N') this.fail('\\N{…} escapes are not supported', this.line, at - this.lineStart + 1);
    // Python keeps an unknown escape such as \d as the two characters (regexes in TestSteps rely on it).
    return '\\' + e;
  }
}
