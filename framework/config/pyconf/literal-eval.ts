/**
 * Python's ast.literal_eval for VSPERF's --test-params values: the text must parse as one Python
 * expression (else a syntax error), and only literals count — numbers, strings, True/False/None,
 * tuples, lists, dicts, and + or - directly on a number. Anything else that parses (a name, a call,
 * arithmetic, a comparison) is Python's ValueError, which VSPERF turns into the plain string.
 */
import { ConfSourceError } from '../../errors.js';
import { parseExpression, type Expr } from './parser.js';
import { PyDict, PyTuple, type PyValue } from './values.js';

export type LiteralEvalResult =
  | { kind: 'value'; value: PyValue }
  | { kind: 'not-literal' }
  | { kind: 'syntax-error'; error: ConfSourceError }
  | { kind: 'unstorable'; error: ConfSourceError };

class NotLiteral extends Error {}

/** Parser refusals for text Python parses fine (so literal_eval says ValueError, not SyntaxError). */
const VALID_PYTHON_BUT_NOT_LITERAL =
  /^(f-strings|comparison|operator|tuple indexes|generator expressions|comprehensions|unpacking|dict unpacking|\*args|'(not|lambda|and|or|is|in|if|else|for|await|yield)' expressions) .*not supported/;

function literal(e: Expr): PyValue {
  switch (e.t) {
    case 'const':
      return e.v;
    case 'list':
      return e.items.map(literal);
    case 'tuple':
      return new PyTuple(e.items.map(literal));
    case 'dict': {
      const d = new PyDict();
      for (const [k, v] of e.entries) if (!d.set(literal(k), literal(v))) throw new NotLiteral();
      return d;
    }
    case 'unary': {
      // literal_eval: one sign directly on an int or float constant (not on a bool, not twice).
      if ((e.op === '-' || e.op === '+') && e.e.t === 'const' && (typeof e.e.v === 'bigint' || typeof e.e.v === 'number')) return e.op === '-' ? -e.e.v : e.e.v;
      throw new NotLiteral();
    }
    default:
      throw new NotLiteral();
  }
}

export function literalEval(text: string, file = '<value>'): LiteralEvalResult {
  let e: Expr;
  try {
    e = parseExpression(text.replace(/^[ \t]+/, ''), file);
  } catch (err) {
    if (!(err instanceof ConfSourceError)) throw err;
    if (VALID_PYTHON_BUT_NOT_LITERAL.test(err.reason)) return { kind: 'not-literal' };
    // Literals Python has but settings cannot hold: refused, but only where the value is used.
    if (/^(bytes literals|complex numbers|sets) are not supported/.test(err.reason)) return { kind: 'unstorable', error: err };
    return { kind: 'syntax-error', error: err };
  }
  try {
    return { kind: 'value', value: literal(e) };
  } catch (err) {
    if (err instanceof NotLiteral) return { kind: 'not-literal' };
    throw err;
  }
}
