/**
 * `tools exec_python` without Python: the one shape VSPERF's OVS testcases use it for, a flow-file
 * generator (p2p_l3_multi_IP_ovs, p2p_l4_multi_PORT_ovs), read with the conf dialect's lexer and
 * expression parser and evaluated here:
 *
 *   import netaddr;F=open("PATH","w");[print("FMT".format(ARG,…),file=F) for i in range(N)];F.close()
 *
 * ARG and N are int/str literals, the loop variable, + - * of ints, netaddr.IPAddress(<int|str>) and
 * its .value (IPv4 only). FMT has plain {} / {0} fields. Anything else (another statement, module,
 * call, attribute, an IPv6 address) is refused in one line, so no other code ever runs. Everything is
 * computed before the file is written: a script that fails leaves no half-written file.
 */
import { ConfSourceError, VsperfError } from '../errors.js';
import { strFormat } from '../config/pyconf/builtins.js';
import { PyError } from '../config/pyconf/ops.js';
import { Lexer, type Token } from '../config/pyconf/lexer.js';
import { parseExpression, type Expr } from '../config/pyconf/parser.js';
import { StepExprError } from './pyvalue.js';

/** What the script does: write `lines` (each ended by a newline) into `path` (as given: may be relative). */
export interface FlowFile {
  readonly path: string;
  readonly lines: readonly string[];
}

/** More lines than this is refused: 2^20 flows is past what one add-flows bundle of a test is meant to carry. */
export const MAX_FLOW_LINES = 1 << 20;
/** More bytes than this is refused too: a long format times many lines would exhaust memory before any write. */
export const MAX_FLOW_BYTES = 64 * 1024 * 1024;

const WHERE = 'exec_python';

/** The one-line refusal: the script is not the supported shape. */
export class ExecPythonUnsupported extends VsperfError {
  constructor(why: string) {
    super('E_STEP_UNSUPPORTED', `tools exec_python: vsperf-ts runs no Python, only VSPERF's netaddr flow-file generator (docs/coming-from-vsperf.md): ${why}`);
  }
}

type Value = { readonly t: 'int'; readonly v: bigint } | { readonly t: 'str'; readonly v: string } | { readonly t: 'ip'; readonly v: bigint };

const IPV4_MAX = (1n << 32n) - 1n;
const IPV6_MAX = (1n << 128n) - 1n;
const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const DOTTED = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

function refuse(why: string): never {
  throw new ExecPythonUnsupported(why);
}

/** A failure Python would raise while running the supported shape (exec_python then returns False). */
function raise(why: string): never {
  throw new StepExprError(why);
}

function describe(e: Expr): string {
  switch (e.t) {
    case 'const':
      return typeof e.v === 'string' ? 'a string' : typeof e.v === 'bigint' ? 'an int' : `the literal ${String(e.v)}`;
    case 'name':
      return `the name ${e.id}`;
    case 'attr':
      return `.${e.name}`;
    case 'call':
      return e.fn.t === 'name' ? `${e.fn.id}()` : e.fn.t === 'attr' ? `${dotted(e.fn)}()` : 'a call';
    case 'bin':
      return `the operator ${e.op}`;
    case 'unary':
      return `the operator ${e.op}`;
    default:
      return `a ${e.t}`;
  }
}

function dotted(e: Expr): string {
  if (e.t === 'name') return e.id;
  if (e.t === 'attr') return `${dotted(e.obj)}.${e.name}`;
  return '…';
}

function ipFromInt(v: bigint): Value {
  if (v < 0n) raise(`AddrFormatError: netaddr.IPAddress(${v}): negative address`);
  if (v > IPV6_MAX) raise(`AddrFormatError: netaddr.IPAddress(${v}): larger than any IPv6 address`);
  if (v > IPV4_MAX) refuse(`netaddr.IPAddress(${v}) is an IPv6 address to netaddr; only IPv4 addresses are supported`);
  return { t: 'ip', v };
}

function ipFromStr(s: string): Value {
  const m = DOTTED.exec(s);
  if (!m) refuse(`netaddr.IPAddress(${JSON.stringify(s)}): only an IPv4 address in dotted-quad form (no leading zeros) is supported`);
  return { t: 'ip', v: m.slice(1, 5).reduce((a, o) => (a << 8n) | BigInt(o), 0n) };
}

function ipStr(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');
}

/** str() of a value, as str.format's plain fields print it. */
function str(x: Value): string {
  return x.t === 'ip' ? ipStr(x.v) : x.t === 'int' ? x.v.toString() : x.v;
}

function int(x: Value, what: string): bigint {
  // netaddr's IPAddress is an index (range() takes one): not modelled here.
  if (x.t === 'ip') refuse(`${what} of an IPAddress is not supported (only of ints, such as its .value)`);
  if (x.t !== 'int') raise(`TypeError: ${what} needs an int, got str`);
  return x.v;
}

/**
 * An argument of the shape, checked for everything but types: the only node kinds, names, operators,
 * attributes and calls it has. What Python decides by the values' types is left to evalArg.
 */
type Arg =
  | { readonly k: 'lit'; readonly v: Value }
  | { readonly k: 'loop' }
  | { readonly k: 'unary'; readonly op: '-' | '+'; readonly a: Arg }
  | { readonly k: 'bin'; readonly op: '+' | '-' | '*'; readonly l: Arg; readonly r: Arg }
  | { readonly k: 'value'; readonly a: Arg }
  | { readonly k: 'ip'; readonly a: Arg };

/**
 * Refuse what the shape does not have before anything runs (Python would only fail on it when the loop
 * runs, and range(0) never does): node kinds, names, operators, attributes and calls. Types are
 * checked when evaluating, as Python does.
 */
function compileArg(e: Expr, loopName?: string): Arg {
  switch (e.t) {
    case 'const':
      if (typeof e.v === 'bigint') return { k: 'lit', v: { t: 'int', v: e.v } };
      if (typeof e.v === 'string') return { k: 'lit', v: { t: 'str', v: e.v } };
      return refuse(`${describe(e)} is not supported (only int and str literals)`);
    case 'name':
      if (e.id !== loopName) refuse(`the name ${e.id} is not supported here (only the loop variable${loopName ? ` ${loopName}` : ''} and netaddr.IPAddress)`);
      return { k: 'loop' };
    case 'unary':
      if (e.op !== '-' && e.op !== '+') refuse(`the operator ${e.op} is not supported`);
      return { k: 'unary', op: e.op, a: compileArg(e.e, loopName) };
    case 'bin':
      if (e.op !== '+' && e.op !== '-' && e.op !== '*') refuse(`the operator ${e.op} is not supported (only + - * of ints)`);
      return { k: 'bin', op: e.op, l: compileArg(e.l, loopName), r: compileArg(e.r, loopName) };
    case 'attr':
      if (e.name !== 'value') refuse(`the attribute .${e.name} is not supported (only netaddr.IPAddress(…).value)`);
      return { k: 'value', a: compileArg(e.obj, loopName) };
    case 'call':
      if (dotted(e.fn) !== 'netaddr.IPAddress') refuse(`the call ${describe(e)} is not supported (only netaddr.IPAddress(…))`);
      if (e.args.length !== 1 || e.kwargs.length) refuse('netaddr.IPAddress takes exactly one address here (no version= or flags=)');
      return { k: 'ip', a: compileArg(e.args[0]!, loopName) };
    default:
      return refuse(`${describe(e)} is not supported`);
  }
}

const typeName = (x: Value): string => (x.t === 'ip' ? 'IPAddress' : x.t);

/**
 * Evaluate a checked argument with the loop variable at `i`. What Python raises on (a TypeError of
 * str and int operands, .value of a str) is raised; what Python does but this does not (str + str and
 * str * int build strings; netaddr's own arithmetic and conversions of an address) is refused.
 */
function evalArg(a: Arg, i: bigint): Value {
  switch (a.k) {
    case 'lit':
      return a.v;
    case 'loop':
      return { t: 'int', v: i };
    case 'unary': {
      const x = int(evalArg(a.a, i), `unary ${a.op}`);
      return { t: 'int', v: a.op === '-' ? -x : x };
    }
    case 'bin': {
      const l = evalArg(a.l, i);
      const r = evalArg(a.r, i);
      // netaddr adds ints to addresses; the generator adds them to .value, and so must a script here.
      if (l.t === 'ip' || r.t === 'ip') refuse(`${a.op} of an IPAddress is not supported (only of ints, such as its .value)`);
      if (l.t === 'int' && r.t === 'int') return { t: 'int', v: a.op === '+' ? l.v + r.v : a.op === '-' ? l.v - r.v : l.v * r.v };
      // Python concatenates two strs and repeats a str by an int: valid, but not a flow-file generator's.
      if ((a.op === '+' && l.t === 'str' && r.t === 'str') || (a.op === '*' && l.t !== r.t)) refuse(`${a.op} of a str is not supported (only + - * of ints)`);
      return raise(`TypeError: unsupported operand type(s) for ${a.op}: '${typeName(l)}' and '${typeName(r)}'`);
    }
    case 'value': {
      const o = evalArg(a.a, i);
      if (o.t !== 'ip') raise(`AttributeError: '${o.t}' object has no attribute 'value'`);
      return { t: 'int', v: o.v };
    }
    case 'ip': {
      const x = evalArg(a.a, i);
      if (x.t === 'ip') refuse('netaddr.IPAddress of an IPAddress is not supported (give its .value or a string)');
      return x.t === 'int' ? ipFromInt(x.v) : ipFromStr(x.v);
    }
  }
}

/**
 * The replacement fields of a format string are plain ({} / {0}): conversions and specs would format
 * an IPAddress its own way. A field ends at its matching brace, as Python reads it: a spec may hold
 * fields of its own ({0:{1}}), valid Python that is refused here, not mistaken for an error. A format
 * Python cannot parse (a single brace) is left to strFormat, which raises as Python does.
 */
function checkFormat(fmt: string): void {
  for (let i = 0; i < fmt.length; i++) {
    if (fmt[i] === '}' && fmt[i + 1] === '}') i++;
    if (fmt[i] !== '{') continue;
    if (fmt[i + 1] === '{') {
      i++;
      continue;
    }
    let depth = 1;
    let j = i + 1;
    for (; j < fmt.length && depth > 0; j++) depth += fmt[j] === '{' ? 1 : fmt[j] === '}' ? -1 : 0;
    if (depth > 0) return;
    const field = fmt.slice(i + 1, j - 1);
    if (!/^\d*$/.test(field)) refuse(`the format field {${field}} is not supported (only {} and {0})`);
    i = j - 1;
  }
}

/** str.format of checked fields (checkFormat): what Python raises on (a single brace, a missing argument) is raised. */
function format(fmt: string, args: readonly Value[]): string {
  try {
    return strFormat(
      fmt,
      args.map((a) => str(a)),
      new Map(),
    );
  } catch (e) {
    if (e instanceof PyError) raise(e.message);
    throw e;
  }
}

interface Segment {
  readonly text: string;
  readonly toks: readonly Token[];
}

/** Split on `;` outside brackets; each segment keeps its source text and tokens. */
function statements(src: string): Segment[] {
  let toks: Token[];
  try {
    toks = new Lexer(src, WHERE).tokens().filter((t) => t.kind !== 'newline');
  } catch (e) {
    if (e instanceof ConfSourceError) refuse(e.reason);
    throw e;
  }
  const out: Segment[] = [];
  let depth = 0;
  let start = 0;
  let cur: Token[] = [];
  for (const t of toks) {
    if (t.kind === 'op' && '([{'.includes(t.text)) depth++;
    if (t.kind === 'op' && ')]}'.includes(t.text)) depth--;
    if ((t.kind === 'op' && t.text === ';' && depth === 0) || t.kind === 'eof') {
      out.push({ text: src.slice(start, t.col - 1).trim(), toks: cur });
      start = t.col;
      cur = [];
      continue;
    }
    cur.push(t);
  }
  return out;
}

function expr(text: string, what: string): Expr {
  try {
    return parseExpression(text, WHERE);
  } catch (e) {
    if (e instanceof ConfSourceError) refuse(`${what}: ${e.reason}`);
    throw e;
  }
}

const isName = (t: Token | undefined, text?: string): boolean => t?.kind === 'name' && (text === undefined || t.text === text);
const isOp = (t: Token | undefined, text: string): boolean => t?.kind === 'op' && t.text === text;

/**
 * Read and run the script (after macro expansion), without touching any file: the lines it would
 * write and where. Throws ExecPythonUnsupported (E_STEP_UNSUPPORTED) for anything outside the shape,
 * StepExprError (E_STEP_EXPR) for what Python would raise while running it.
 */
export function runFlowFileScript(src: string): FlowFile {
  if (/[\r\n\ufeff]/.test(src)) refuse('the script must be one line (the generator is a one-liner)');
  const st = statements(src).filter((s) => s.text !== '' || s.toks.length);
  if (st.length !== 4) refuse(`${st.length} statement(s) where the generator has 4`);
  const [imp, opener, comp, closer] = st as [Segment, Segment, Segment, Segment];

  if (!(imp.toks.length === 2 && isName(imp.toks[0], 'import') && isName(imp.toks[1])))
    refuse(`the first statement must be "import netaddr", got ${JSON.stringify(imp.text)}`);
  if (imp.toks[1]!.text !== 'netaddr') refuse(`import of ${imp.toks[1]!.text} is not supported (only netaddr)`);

  // F=open("PATH","w")
  const [fv, eq] = opener.toks;
  if (!(isName(fv) && isOp(eq, '='))) refuse(`the second statement must be F=open(PATH,"w"), got ${JSON.stringify(opener.text)}`);
  const file = fv!.text;
  const open = expr(opener.text.slice(opener.text.indexOf('=') + 1), 'open');
  if (!(open.t === 'call' && open.fn.t === 'name' && open.fn.id === 'open')) refuse(`${describe(open)} where open(PATH,"w") was expected`);
  const [p, mode] = open.args;
  if (open.kwargs.length || open.args.length !== 2 || p?.t !== 'const' || typeof p.v !== 'string' || mode?.t !== 'const' || mode.v !== 'w')
    refuse('only open(PATH,"w") with a string PATH is supported');
  if (p.v === '') raise("FileNotFoundError: No such file or directory: ''");

  // [print(FMT.format(ARGS),file=F) for i in range(N)]
  const ct = comp.toks;
  const forAt = ct.findIndex((t, k) => isName(t, 'for') && depthAt(ct, k) === 1);
  if (!(isOp(ct[0], '[') && isOp(ct[ct.length - 1], ']') && forAt > 0))
    refuse(`the third statement must be [print(…) for i in range(N)], got ${JSON.stringify(comp.text.slice(0, 60))}`);
  if (!(isName(ct[forAt + 1]) && isName(ct[forAt + 2], 'in'))) refuse('only "for NAME in range(N)" is supported');
  const loopName = ct[forAt + 1]!.text;
  const eltText = comp.text.slice(ct[1]!.col - ct[0]!.col, ct[forAt]!.col - ct[0]!.col);
  const iterText = comp.text.slice(ct[forAt + 3]!.col - ct[0]!.col, ct[ct.length - 1]!.col - ct[0]!.col);
  const iter = expr(iterText, 'range');
  if (!(iter.t === 'call' && iter.fn.t === 'name' && iter.fn.id === 'range' && iter.args.length === 1 && !iter.kwargs.length))
    refuse(`only range(N) is supported as the loop, got ${describe(iter)}`);
  const n = int(evalArg(compileArg(iter.args[0]!), 0n), 'range()');
  if (n > BigInt(MAX_FLOW_LINES)) refuse(`range(${n}) would write more than ${MAX_FLOW_LINES} lines`);

  const elt = expr(eltText, 'print');
  if (!(elt.t === 'call' && elt.fn.t === 'name' && elt.fn.id === 'print')) refuse(`${describe(elt)} where print(…,file=${file}) was expected`);
  const [kw] = elt.kwargs;
  if (!(elt.args.length === 1 && elt.kwargs.length === 1 && kw![0] === 'file' && kw![1].t === 'name'))
    refuse(`only print(FMT.format(…),file=${file}) is supported (one value, no sep= or end=)`);
  if ((kw![1] as { id: string }).id !== file) refuse(`print writes to ${(kw![1] as { id: string }).id}, not to the file opened as ${file}`);
  const call = elt.args[0]!;
  if (!(
    call.t === 'call' &&
    call.fn.t === 'attr' &&
    call.fn.name === 'format' &&
    call.fn.obj.t === 'const' &&
    typeof call.fn.obj.v === 'string' &&
    !call.kwargs.length
  ))
    refuse(`only a string literal's .format(…) can be printed, got ${describe(call)}`);
  const fmt = (call.fn as { obj: { v: string } }).obj.v;
  const args = call.args.map((a) => compileArg(a, loopName));
  checkFormat(fmt);

  // F.close()
  const ck = closer.toks;
  if (!(ck.length === 5 && isName(ck[0], file) && isOp(ck[1], '.') && isName(ck[2], 'close') && isOp(ck[3], '(') && isOp(ck[4], ')')))
    refuse(`the last statement must be ${file}.close(), got ${JSON.stringify(closer.text)}`);

  const lines: string[] = [];
  let bytes = 0;
  for (let i = 0n; i < n; i++) {
    const line = format(
      fmt,
      args.map((a) => evalArg(a, i)),
    );
    bytes += line.length + 1;
    if (bytes > MAX_FLOW_BYTES) refuse(`the flow file would be larger than ${MAX_FLOW_BYTES / 1024 / 1024} MiB (line ${i + 1n} of ${n})`);
    lines.push(line);
  }
  return { path: p.v, lines };
}

/** Bracket depth just before token k. */
function depthAt(toks: readonly Token[], k: number): number {
  let d = 0;
  for (let j = 0; j < k; j++) {
    const t = toks[j]!;
    if (t.kind === 'op' && '([{'.includes(t.text)) d++;
    else if (t.kind === 'op' && ')]}'.includes(t.text)) d--;
  }
  return d;
}
