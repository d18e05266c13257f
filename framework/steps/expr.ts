/**
 * The expressions `tools assert` and `tools eval` accept: a small Python subset evaluated without
 * eval. VSPERF hands these strings to Python's eval(); the testcases only ever compare step results
 * (`#STEP[-1][0] == 5`, `len(#STEP[-1])==1`, `"cir: 1000" in #STEP[-3]`,
 * `abs(1-float(x)*1000/float(y))`), so this grammar covers literals, subscripts, arithmetic,
 * comparisons (chained, `in`, `not in`, `is`), `not`/`and`/`or`, a few pure built-ins and string
 * methods. Names, attributes and calls outside that list are an error, never a lookup.
 */
import { pyCompare, pyContains, pyEquals, pyIndex, pyRepr, pyStr, pyTruthy, pyTypeName, StepExprError, type PyValue } from './pyvalue.js';

type Tok = { t: 'num'; v: number } | { t: 'str'; v: string } | { t: 'name'; v: string } | { t: 'op'; v: string } | { t: 'end' };

const OPS = ['**', '//', '==', '!=', '<=', '>=', '<', '>', '+', '-', '*', '/', '%', '(', ')', '[', ']', '{', '}', ',', ':', '.'];
const ESC: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0', a: '\x07', b: '\b', f: '\f', v: '\v' };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/.exec(src.slice(i));
    if (num) {
      out.push({ t: 'num', v: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    const str = /^([rR]?)(['"])/.exec(src.slice(i));
    if (str) {
      const raw = str[1] !== '';
      const q = str[2]!;
      let j = i + str[0].length;
      let s = '';
      for (;;) {
        if (j >= src.length) throw new StepExprError(`SyntaxError: unterminated string in ${JSON.stringify(src)}`);
        const ch = src[j]!;
        if (ch === q) break;
        if (ch === '\\' && j + 1 < src.length) {
          const e = src[j + 1]!;
          if (raw) s += ch + e;
          else s += ESC[e] ?? '\\' + e; // unknown escapes stay as written, as in Python
          j += 2;
          continue;
        }
        s += ch;
        j++;
      }
      out.push({ t: 'str', v: s });
      i = j + 1;
      continue;
    }
    const name = /^[A-Za-z_]\w*/.exec(src.slice(i));
    if (name) {
      out.push({ t: 'name', v: name[0] });
      i += name[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new StepExprError(`SyntaxError: unexpected ${JSON.stringify(c)} in ${JSON.stringify(src)}`);
    out.push({ t: 'op', v: op });
    i += op.length;
  }
  out.push({ t: 'end' });
  return out;
}

type Node =
  | { k: 'lit'; v: PyValue }
  | { k: 'list'; items: Node[] }
  | { k: 'dict'; items: [Node, Node][] }
  | { k: 'name'; v: string }
  | { k: 'index'; obj: Node; index: Node }
  | { k: 'call'; fn: string; self?: Node; args: Node[] }
  | { k: 'unary'; op: string; a: Node }
  | { k: 'bin'; op: string; a: Node; b: Node }
  | { k: 'cmp'; first: Node; rest: [string, Node][] }
  | { k: 'bool'; op: 'and' | 'or'; a: Node; b: Node };

class Parser {
  private i = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly src: string,
  ) {}

  private peek(): Tok {
    return this.toks[this.i]!;
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === v;
  }
  private isName(v: string): boolean {
    const t = this.peek();
    return t.t === 'name' && t.v === v;
  }
  private expect(v: string): void {
    if (!this.isOp(v)) throw this.error(`expected "${v}"`);
    this.i++;
  }
  private error(what: string): StepExprError {
    const t = this.peek();
    const at = t.t === 'end' ? 'end of input' : JSON.stringify(String(t.v));
    return new StepExprError(`SyntaxError: ${what} at ${at} in ${JSON.stringify(this.src)}`);
  }

  parse(): Node {
    const n = this.expr();
    if (this.peek().t !== 'end') throw this.error('unexpected token');
    return n;
  }

  private expr(): Node {
    let a = this.and();
    while (this.isName('or')) {
      this.i++;
      a = { k: 'bool', op: 'or', a, b: this.and() };
    }
    return a;
  }
  private and(): Node {
    let a = this.not();
    while (this.isName('and')) {
      this.i++;
      a = { k: 'bool', op: 'and', a, b: this.not() };
    }
    return a;
  }
  private not(): Node {
    if (this.isName('not')) {
      this.i++;
      return { k: 'unary', op: 'not', a: this.not() };
    }
    return this.comparison();
  }
  private compOp(): string | undefined {
    const t = this.peek();
    if (t.t === 'op' && ['==', '!=', '<', '>', '<=', '>='].includes(t.v)) {
      this.i++;
      return t.v;
    }
    if (this.isName('in')) {
      this.i++;
      return 'in';
    }
    if (this.isName('not') && this.toks[this.i + 1]?.t === 'name' && (this.toks[this.i + 1] as { v: string }).v === 'in') {
      this.i += 2;
      return 'not in';
    }
    if (this.isName('is')) {
      this.i++;
      if (this.isName('not')) {
        this.i++;
        return 'is not';
      }
      return 'is';
    }
    return undefined;
  }
  private comparison(): Node {
    const first = this.arith();
    const rest: [string, Node][] = [];
    for (let op = this.compOp(); op; op = this.compOp()) rest.push([op, this.arith()]);
    return rest.length ? { k: 'cmp', first, rest } : first;
  }
  private arith(): Node {
    let a = this.term();
    while (this.isOp('+') || this.isOp('-')) {
      const op = (this.toks[this.i++] as { v: string }).v;
      a = { k: 'bin', op, a, b: this.term() };
    }
    return a;
  }
  private term(): Node {
    let a = this.factor();
    while (this.isOp('*') || this.isOp('/') || this.isOp('//') || this.isOp('%')) {
      const op = (this.toks[this.i++] as { v: string }).v;
      a = { k: 'bin', op, a, b: this.factor() };
    }
    return a;
  }
  private factor(): Node {
    if (this.isOp('-') || this.isOp('+')) {
      const op = (this.toks[this.i++] as { v: string }).v;
      return { k: 'unary', op, a: this.factor() };
    }
    const base = this.postfix();
    if (this.isOp('**')) {
      this.i++;
      return { k: 'bin', op: '**', a: base, b: this.factor() };
    }
    return base;
  }
  private postfix(): Node {
    let n = this.atom();
    for (;;) {
      if (this.isOp('[')) {
        this.i++;
        const index = this.expr();
        this.expect(']');
        n = { k: 'index', obj: n, index };
      } else if (this.isOp('(')) {
        if (n.k !== 'name') throw this.error('only built-in functions can be called');
        n = { k: 'call', fn: n.v, args: this.args() };
      } else if (this.isOp('.')) {
        this.i++;
        const t = this.peek();
        if (t.t !== 'name') throw this.error('expected a method name');
        this.i++;
        if (!this.isOp('(')) throw this.error(`attribute access (.${t.v}) is not supported`);
        n = { k: 'call', fn: `.${t.v}`, self: n, args: this.args() };
      } else return n;
    }
  }
  private args(): Node[] {
    this.expect('(');
    const args: Node[] = [];
    while (!this.isOp(')')) {
      args.push(this.expr());
      if (!this.isOp(')')) this.expect(',');
    }
    this.i++;
    return args;
  }
  private atom(): Node {
    const t = this.peek();
    if (t.t === 'num' || t.t === 'str') {
      this.i++;
      let v: PyValue = t.v;
      // adjacent string literals concatenate, as in Python
      while (t.t === 'str' && this.peek().t === 'str') v = (v as string) + (this.toks[this.i++] as { v: string }).v;
      return { k: 'lit', v };
    }
    if (t.t === 'name') {
      this.i++;
      if (t.v === 'True') return { k: 'lit', v: true };
      if (t.v === 'False') return { k: 'lit', v: false };
      if (t.v === 'None') return { k: 'lit', v: null };
      return { k: 'name', v: t.v };
    }
    if (this.isOp('(') || this.isOp('[')) {
      const close = this.isOp('(') ? ')' : ']';
      this.i++;
      const items: Node[] = [];
      let comma = false;
      while (!this.isOp(close)) {
        items.push(this.expr());
        if (!this.isOp(close)) {
          this.expect(',');
          comma = true;
        }
      }
      this.i++;
      if (close === ')' && items.length === 1 && !comma) return items[0]!;
      return { k: 'list', items };
    }
    if (this.isOp('{')) {
      this.i++;
      const items: [Node, Node][] = [];
      while (!this.isOp('}')) {
        const key = this.expr();
        this.expect(':');
        items.push([key, this.expr()]);
        if (!this.isOp('}')) this.expect(',');
      }
      this.i++;
      return { k: 'dict', items };
    }
    throw this.error('unexpected token');
  }
}

function num(v: PyValue, what: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return Number(v);
  throw new StepExprError(`TypeError: unsupported operand type(s) for ${what}: '${pyTypeName(v)}'`);
}

function toInt(v: PyValue): number {
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'boolean') return Number(v);
  if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) return parseInt(v, 10);
  throw new StepExprError(`ValueError: invalid literal for int(): ${pyRepr(v)}`);
}

function toFloat(v: PyValue): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return Number(v);
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(s)) return Number(s);
    if (/^[+-]?(inf|infinity)$/.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
    if (/^[+-]?nan$/.test(s)) return NaN;
  }
  throw new StepExprError(`ValueError: could not convert ${pyTypeName(v)} to float: ${pyRepr(v)}`);
}

function lenOf(v: PyValue): number {
  if (typeof v === 'string' || Array.isArray(v)) return v.length;
  if (v && typeof v === 'object') return Object.keys(v).length;
  throw new StepExprError(`TypeError: object of type '${pyTypeName(v)}' has no len()`);
}

/** Python's round(): half to even. */
function pyRound(x: number, digits = 0): number {
  const f = 10 ** digits;
  const y = x * f;
  const r = Math.round(y);
  const even = Math.abs(y % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
  return even / f;
}

const FUNCS: Record<string, (args: PyValue[]) => PyValue> = {
  len: ([v]) => lenOf(v),
  int: ([v]) => toInt(v),
  float: ([v]) => toFloat(v),
  str: ([v]) => (v === undefined ? '' : pyStr(v)),
  bool: ([v]) => pyTruthy(v),
  abs: ([v]) => Math.abs(num(v, 'abs()')),
  round: ([v, d]) => pyRound(num(v, 'round()'), d === undefined || d === null ? 0 : toInt(d)),
  min: (a) => (a.length === 1 && Array.isArray(a[0]) ? [...a[0]] : a).reduce((x, y) => (pyCompare(y, x) < 0 ? y : x)),
  max: (a) => (a.length === 1 && Array.isArray(a[0]) ? [...a[0]] : a).reduce((x, y) => (pyCompare(y, x) > 0 ? y : x)),
  sum: ([v]) => (Array.isArray(v) ? v.reduce<number>((s, x) => s + num(x, '+'), 0) : num(v, 'sum()')),
};

function strMethod(self: PyValue, name: string, args: PyValue[]): PyValue {
  if (typeof self !== 'string') throw new StepExprError(`AttributeError: '${pyTypeName(self)}' object has no attribute '${name}'`);
  const s0 = (i: number): string => {
    const a = args[i];
    if (typeof a !== 'string') throw new StepExprError(`TypeError: ${name}() argument must be str, not ${pyTypeName(a)}`);
    return a;
  };
  switch (name) {
    case 'split':
      return args.length
        ? self.split(s0(0))
        : self
            .trim()
            .split(/\s+/)
            .filter((x) => x !== '');
    case 'strip':
      return self.trim();
    case 'lower':
      return self.toLowerCase();
    case 'upper':
      return self.toUpperCase();
    case 'startswith':
      return self.startsWith(s0(0));
    case 'endswith':
      return self.endsWith(s0(0));
    case 'replace':
      return self.split(s0(0)).join(s0(1));
    default:
      throw new StepExprError(`method .${name}() is not supported in step expressions`);
  }
}

function evalNode(n: Node): PyValue {
  switch (n.k) {
    case 'lit':
      return n.v;
    case 'list':
      return n.items.map(evalNode);
    case 'dict':
      return Object.fromEntries(n.items.map(([k, v]) => [pyStr(evalNode(k)), evalNode(v)]));
    case 'name':
      throw new StepExprError(`NameError: name '${n.v}' is not defined (step expressions have no variables)`);
    case 'index':
      return pyIndex(evalNode(n.obj), evalNode(n.index));
    case 'call': {
      const args = n.args.map(evalNode);
      if (n.self) return strMethod(evalNode(n.self), n.fn.slice(1), args);
      const f = FUNCS[n.fn];
      if (!f) throw new StepExprError(`function ${n.fn}() is not supported in step expressions (allowed: ${Object.keys(FUNCS).join(', ')})`);
      return f(args);
    }
    case 'unary': {
      const a = evalNode(n.a);
      if (n.op === 'not') return !pyTruthy(a);
      return n.op === '-' ? -num(a, 'unary -') : num(a, 'unary +');
    }
    case 'bool': {
      const a = evalNode(n.a);
      if (n.op === 'and') return pyTruthy(a) ? evalNode(n.b) : a;
      return pyTruthy(a) ? a : evalNode(n.b);
    }
    case 'cmp': {
      let left = evalNode(n.first);
      for (const [op, node] of n.rest) {
        const right = evalNode(node);
        if (!compare(op, left, right)) return false;
        left = right;
      }
      return true;
    }
    case 'bin':
      return binary(n.op, evalNode(n.a), evalNode(n.b));
  }
}

function compare(op: string, a: PyValue, b: PyValue): boolean {
  switch (op) {
    case '==':
      return pyEquals(a, b);
    case '!=':
      return !pyEquals(a, b);
    case '<':
      return pyCompare(a, b) < 0;
    case '>':
      return pyCompare(a, b) > 0;
    case '<=':
      return pyCompare(a, b) <= 0;
    case '>=':
      return pyCompare(a, b) >= 0;
    case 'in':
      return pyContains(b, a);
    case 'not in':
      return !pyContains(b, a);
    case 'is':
      return (a ?? null) === (b ?? null);
    default:
      return (a ?? null) !== (b ?? null);
  }
}

function binary(op: string, a: PyValue, b: PyValue): PyValue {
  if (op === '+') {
    if (typeof a === 'string' && typeof b === 'string') return a + b;
    if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  }
  if (op === '*' && typeof a === 'string' && typeof b === 'number') return a.repeat(Math.max(0, b));
  const x = num(a, op);
  const y = num(b, op);
  if ((op === '/' || op === '//' || op === '%') && y === 0) throw new StepExprError('ZeroDivisionError: division by zero');
  switch (op) {
    case '+':
      return x + y;
    case '-':
      return x - y;
    case '*':
      return x * y;
    case '/':
      return x / y;
    case '//':
      return Math.floor(x / y);
    case '%':
      return x - y * Math.floor(x / y);
    default:
      return x ** y;
  }
}

/** Evaluate one expression (after #STEP/$ macro expansion). */
export function evalExpression(src: string): PyValue {
  return evalNode(new Parser(tokenize(src), src).parse());
}

/** Parse without evaluating (step validation at load time); throws StepExprError on bad syntax. */
export function checkExpressionSyntax(src: string): void {
  new Parser(tokenize(src), src).parse();
}
