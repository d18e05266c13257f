/**
 * Parser for the VSPERF conf dialect: statements `NAME = expr`, `NAME[k]… = expr`, `a, b = expr`,
 * `NAME += expr`, `import os`/`import copy`, `from conf import settings`, expression statements
 * (a call such as `PATHS['x'].update({...})`). Expressions: literals, names, + - * / // % ** << >>,
 * unary + - ~, subscripts and slices, attributes and calls (checked when evaluated). Everything else
 * is a ConfSourceError at its line and column.
 */
import { ConfSourceError } from '../../errors.js';
import { Lexer, type Token } from './lexer.js';
import type { PyValue } from './values.js';

export interface Pos {
  readonly line: number;
  readonly col: number;
}

export type Expr =
  | { t: 'const'; v: PyValue; at: Pos }
  | { t: 'name'; id: string; at: Pos }
  | { t: 'list' | 'tuple'; items: Expr[]; at: Pos }
  | { t: 'dict'; entries: [Expr, Expr][]; at: Pos }
  | { t: 'bin'; op: string; l: Expr; r: Expr; at: Pos }
  | { t: 'unary'; op: string; e: Expr; at: Pos }
  | { t: 'index'; obj: Expr; index: Expr; at: Pos }
  | { t: 'slice'; obj: Expr; lo?: Expr; hi?: Expr; step?: Expr; at: Pos }
  | { t: 'attr'; obj: Expr; name: string; at: Pos }
  | { t: 'call'; fn: Expr; args: Expr[]; kwargs: [string, Expr][]; at: Pos };

export type Stmt =
  | { t: 'assign'; targets: Expr[]; value: Expr; at: Pos }
  | { t: 'aug'; target: Expr; op: string; value: Expr; at: Pos }
  | { t: 'expr'; e: Expr; at: Pos }
  | { t: 'import'; modules: string[]; at: Pos }
  | { t: 'from'; module: string; names: string[]; at: Pos };

const STATEMENT_KEYWORDS = new Set([
  'if',
  'elif',
  'else',
  'for',
  'while',
  'def',
  'class',
  'with',
  'try',
  'except',
  'finally',
  'return',
  'yield',
  'del',
  'global',
  'nonlocal',
  'assert',
  'raise',
  'pass',
  'break',
  'continue',
  'async',
  'await',
  'match',
]);
const EXPR_KEYWORDS = new Set(['lambda', 'not', 'and', 'or', 'is', 'in', 'if', 'else', 'for', 'await', 'yield']);
const CONSTANTS: Record<string, PyValue> = { True: true, False: false, None: null };
const MAX_NESTING = 200;
const COMPARISONS = new Set(['==', '!=', '<', '>', '<=', '>=']);

export class Parser {
  private i = 0;
  private readonly lexer: Lexer;
  /** Tokens lexed so far: the lexer runs only as far as the parser looks, so errors come in order. */
  private readonly buf: Token[] = [];

  constructor(
    text: string,
    private readonly file: string,
  ) {
    this.lexer = new Lexer(text, file);
  }

  private tok(i: number): Token {
    while (this.buf.length <= i) {
      const last = this.buf[this.buf.length - 1];
      this.buf.push(last?.kind === 'eof' ? last : this.lexer.nextToken());
    }
    return this.buf[i]!;
  }

  private get cur(): Token {
    return this.tok(this.i);
  }

  private fail(msg: string, at: Pos = this.cur): never {
    throw new ConfSourceError(this.file, at.line, at.col, msg);
  }

  private isOp(op: string): boolean {
    return this.cur.kind === 'op' && this.cur.text === op;
  }

  private isName(text: string): boolean {
    return this.cur.kind === 'name' && this.cur.text === text;
  }

  private take(op: string): boolean {
    if (!this.isOp(op)) return false;
    this.i++;
    return true;
  }

  private expect(op: string, what: string): void {
    if (!this.take(op)) this.unexpected(`expected '${op}' ${what}`);
  }

  private unexpected(context: string): never {
    const t = this.cur;
    if (t.kind === 'op' && COMPARISONS.has(t.text)) this.fail(`comparison '${t.text}' is not supported`);
    if (t.kind === 'op' && /^(\*\*|\/\/|>>|<<|[-*/%@&|^])=$/.test(t.text)) this.fail(`augmented assignment '${t.text}' is not supported (only +=)`);
    if (t.kind === 'op' && [':=', '->', '&', '|', '^', '@', '...'].includes(t.text)) this.fail(`operator '${t.text}' is not supported`);
    if (t.kind === 'name' && EXPR_KEYWORDS.has(t.text)) this.fail(`'${t.text}' expressions are not supported`);
    const found = t.kind === 'eof' ? 'end of file' : t.kind === 'newline' ? 'end of line' : t.kind === 'string' ? 'a string' : `'${t.text}'`;
    return this.fail(`${context}, found ${found}`);
  }

  wholeExpression(): Expr {
    const e = this.tupleExpr();
    if (this.cur.kind === 'newline') this.i++;
    if (this.cur.kind !== 'eof') this.unexpected('expected end of the value');
    return e;
  }

  parseFile(): Stmt[] {
    const out: Stmt[] = [];
    while (this.cur.kind !== 'eof') {
      for (;;) {
        out.push(this.statement());
        if (!this.take(';') || this.cur.kind === 'newline') break;
      }
      if (this.cur.kind !== 'newline') this.unexpected('expected end of statement');
      this.i++;
    }
    return out;
  }

  private statement(): Stmt {
    const t = this.cur;
    const at: Pos = { line: t.line, col: t.col };
    if (t.kind === 'name' && t.text === 'import') return this.importStmt(at);
    if (t.kind === 'name' && t.text === 'from') return this.fromStmt(at);
    if (t.kind === 'name' && STATEMENT_KEYWORDS.has(t.text) && !(t.text === 'match' && this.tok(this.i + 1).kind === 'op'))
      this.fail(`'${t.text}' statements are not supported`);
    const first = this.tupleExpr();
    if (this.isOp('+=')) {
      this.i++;
      this.checkTarget(first, false);
      return { t: 'aug', target: first, op: '+', value: this.tupleExpr(), at };
    }
    if (!this.isOp('=')) {
      if (this.cur.kind !== 'newline' && !this.isOp(';')) this.unexpected('expected end of statement');
      return { t: 'expr', e: first, at };
    }
    const targets = [first];
    let value: Expr = first;
    while (this.take('=')) {
      value = this.tupleExpr();
      targets.push(value);
    }
    targets.pop();
    for (const tg of targets) this.checkTarget(tg, true);
    return { t: 'assign', targets, value, at };
  }

  private checkTarget(e: Expr, allowTuple: boolean): void {
    if (e.t === 'name') {
      if (e.id in CONSTANTS) this.fail(`cannot assign to ${e.id}`, e.at);
      return;
    }
    if (e.t === 'index') return;
    if (allowTuple && (e.t === 'tuple' || e.t === 'list')) {
      for (const x of e.items) this.checkTarget(x, true);
      return;
    }
    if (e.t === 'attr') this.fail('assignment to an attribute is not supported', e.at);
    if (e.t === 'slice') this.fail('assignment to a slice is not supported', e.at);
    this.fail('cannot assign to this expression (only to NAME, NAME[key] or NAME, NAME)', e.at);
  }

  private dotted(): string {
    const parts: string[] = [];
    do {
      if (this.cur.kind !== 'name') this.unexpected('expected a module name');
      parts.push(this.cur.text);
      this.i++;
    } while (this.take('.'));
    return parts.join('.');
  }

  private importStmt(at: Pos): Stmt {
    this.i++;
    const modules: string[] = [];
    do {
      const mAt = { line: this.cur.line, col: this.cur.col };
      const m = this.dotted();
      if (this.isName('as')) this.fail(`'import … as' is not supported`);
      if (!['os', 'os.path', 'copy'].includes(m)) this.fail(`import of '${m}' is not supported (only os and copy)`, mAt);
      modules.push(m);
    } while (this.take(','));
    return { t: 'import', modules, at };
  }

  private fromStmt(at: Pos): Stmt {
    this.i++;
    const mAt = { line: this.cur.line, col: this.cur.col };
    const module = this.dotted();
    if (!this.isName('import')) this.unexpected("expected 'import'");
    this.i++;
    const names: string[] = [];
    do {
      if (this.cur.kind !== 'name') this.unexpected('expected a name to import');
      names.push(this.cur.text);
      this.i++;
      if (this.isName('as')) this.fail(`'from … import … as' is not supported`);
    } while (this.take(','));
    if (module !== 'conf' || names.some((n) => n !== 'settings'))
      this.fail(`'from ${module} import ${names.join(', ')}' is not supported (only 'from conf import settings')`, mAt);
    return { t: 'from', module, names, at };
  }

  /** expr (',' expr)* [','] — a bare tuple where Python allows one. */
  private tupleExpr(): Expr {
    const at = this.pos();
    const first = this.expr();
    if (!this.isOp(',')) return first;
    const items = [first];
    while (this.take(',')) {
      if (this.endsTuple()) break;
      items.push(this.expr());
    }
    return { t: 'tuple', items, at };
  }

  private endsTuple(): boolean {
    const t = this.cur;
    return t.kind === 'newline' || t.kind === 'eof' || (t.kind === 'op' && [')', ']', '}', '=', ';', '+='].includes(t.text));
  }

  private pos(): Pos {
    return { line: this.cur.line, col: this.cur.col };
  }

  private expr(): Expr {
    const e = this.binary(0);
    if (this.cur.kind === 'op' && COMPARISONS.has(this.cur.text)) this.unexpected('');
    if (this.cur.kind === 'name' && EXPR_KEYWORDS.has(this.cur.text)) this.unexpected('');
    return e;
  }

  private static readonly LEVELS: readonly (readonly string[])[] = [
    ['<<', '>>'],
    ['+', '-'],
    ['*', '/', '//', '%'],
  ];

  private binary(level: number): Expr {
    if (level === Parser.LEVELS.length) return this.unary();
    let l = this.binary(level + 1);
    for (;;) {
      const t = this.cur;
      if (t.kind !== 'op' || !Parser.LEVELS[level]!.includes(t.text)) return l;
      this.i++;
      const r = this.binary(level + 1);
      l = { t: 'bin', op: t.text, l, r, at: { line: t.line, col: t.col } };
    }
  }

  private nesting = 0;

  /** Python refuses deeper nesting too; the limit keeps the recursion far from the JS stack's. */
  private nested<T>(f: () => T): T {
    if (++this.nesting > MAX_NESTING) this.fail(`expression nested deeper than ${MAX_NESTING} levels is not supported`);
    try {
      return f();
    } finally {
      this.nesting--;
    }
  }

  private unary(): Expr {
    const t = this.cur;
    if (t.kind === 'op' && (t.text === '-' || t.text === '+' || t.text === '~')) {
      this.i++;
      return { t: 'unary', op: t.text, e: this.nested(() => this.unary()), at: { line: t.line, col: t.col } };
    }
    return this.power();
  }

  private power(): Expr {
    const base = this.primary();
    const t = this.cur;
    if (!this.take('**')) return base;
    return { t: 'bin', op: '**', l: base, r: this.unary(), at: { line: t.line, col: t.col } };
  }

  private primary(): Expr {
    let e = this.atom();
    for (;;) {
      const at = this.pos();
      if (this.take('.')) {
        if (this.cur.kind !== 'name') this.unexpected("expected a name after '.'");
        e = { t: 'attr', obj: e, name: this.cur.text, at };
        this.i++;
      } else if (this.take('[')) {
        e = this.subscript(e, at);
      } else if (this.take('(')) {
        e = this.call(e, at);
      } else return e;
    }
  }

  private subscript(obj: Expr, at: Pos): Expr {
    const part = (): Expr | undefined => (this.isOp(':') || this.isOp(']') ? undefined : this.expr());
    const lo = part();
    if (!this.isOp(':')) {
      if (lo === undefined) this.unexpected('expected an index');
      if (this.isOp(',')) this.fail('tuple indexes are not supported');
      this.expect(']', 'to close the index');
      return { t: 'index', obj, index: lo, at };
    }
    this.i++;
    const hi = part();
    let step: Expr | undefined;
    if (this.take(':')) step = part();
    this.expect(']', 'to close the slice');
    return { t: 'slice', obj, ...(lo ? { lo } : {}), ...(hi ? { hi } : {}), ...(step ? { step } : {}), at };
  }

  private call(fn: Expr, at: Pos): Expr {
    const args: Expr[] = [];
    const kwargs: [string, Expr][] = [];
    while (!this.isOp(')')) {
      if (this.isOp('*') || this.isOp('**')) this.fail('*args and **kwargs in calls are not supported');
      const t = this.cur;
      if (t.kind === 'name' && this.tok(this.i + 1).kind === 'op' && this.tok(this.i + 1).text === '=') {
        this.i += 2;
        if (kwargs.some(([k]) => k === t.text)) this.fail(`keyword argument repeated: ${t.text}`, t);
        kwargs.push([t.text, this.expr()]);
      } else {
        if (kwargs.length) this.fail('positional argument follows keyword argument');
        args.push(this.expr());
      }
      if (!this.take(',')) break;
    }
    this.expect(')', 'to close the call');
    return { t: 'call', fn, args, kwargs, at };
  }

  private atom(): Expr {
    const t = this.cur;
    const at: Pos = { line: t.line, col: t.col };
    if (t.kind === 'int') {
      this.i++;
      return {
        t: 'const',
        v: BigInt(
          t.text
            .replace(/^0[oO]/, '0o')
            .replace(/^0[bB]/, '0b')
            .replace(/^0[xX]/, '0x'),
        ),
        at,
      };
    }
    if (t.kind === 'float') {
      this.i++;
      return { t: 'const', v: Number(t.text), at };
    }
    if (t.kind === 'string') {
      // Adjacent string literals are one string, as in Python ('a' 'b' == 'ab').
      let v = '';
      while (this.cur.kind === 'string') {
        v += this.cur.text;
        this.i++;
      }
      return { t: 'const', v, at };
    }
    if (t.kind === 'name') {
      if (t.text in CONSTANTS) {
        this.i++;
        return { t: 'const', v: CONSTANTS[t.text]!, at };
      }
      // Only these keywords can start an expression in Python; any other is a syntax error, not a feature.
      if (['not', 'lambda', 'await', 'yield'].includes(t.text)) this.unexpected('expected a value');
      if (EXPR_KEYWORDS.has(t.text) || STATEMENT_KEYWORDS.has(t.text) || t.text === 'import' || t.text === 'from')
        this.fail(`invalid syntax: '${t.text}' where a value was expected`);
      this.i++;
      return { t: 'name', id: t.text, at };
    }
    if (this.isOp('(') || this.isOp('[') || this.isOp('{')) return this.nested(() => this.bracketed(at));
    return this.unexpected('expected a value');
  }

  private bracketed(at: Pos): Expr {
    if (this.take('(')) {
      if (this.take(')')) return { t: 'tuple', items: [], at };
      const e = this.tupleExpr();
      if (this.isName('for')) this.fail('generator expressions are not supported');
      this.expect(')', 'to close the parenthesis');
      return e;
    }
    if (this.take('[')) return { t: 'list', items: this.items(']', 'list'), at };
    this.expect('{', '');
    return this.dictOrSet(at);
  }

  private items(close: string, what: string): Expr[] {
    const items: Expr[] = [];
    while (!this.isOp(close)) {
      if (this.isOp('*')) this.fail('unpacking with * is not supported');
      items.push(this.expr());
      if (this.isName('for')) this.fail('comprehensions are not supported');
      if (!this.take(',')) break;
    }
    this.expect(close, `to close the ${what}`);
    return items;
  }

  private dictOrSet(at: Pos): Expr {
    const entries: [Expr, Expr][] = [];
    while (!this.isOp('}')) {
      if (this.isOp('**')) this.fail('dict unpacking with ** is not supported');
      const k = this.expr();
      if (this.isOp(',') || this.isOp('}')) this.fail('sets are not supported', k.at);
      this.expect(':', 'after the dict key');
      entries.push([k, this.expr()]);
      if (this.isName('for')) this.fail('comprehensions are not supported');
      if (!this.take(',')) break;
    }
    this.expect('}', 'to close the dict');
    return { t: 'dict', entries, at };
  }
}

/** One expression filling the whole text (Python's eval mode, as ast.literal_eval parses). */
export function parseExpression(text: string, file: string): Expr {
  return new Parser(text, file).wholeExpression();
}

export function parseConf(text: string, file: string): Stmt[] {
  return new Parser(text, file).parseFile();
}
