/**
 * VSPERF `--test-params`: "KEY=VALUE;KEY=VALUE" with Python-literal values, or a list of such strings,
 * one per testcase (the last repeats when more testcases run than strings were given).
 */
import { ParseError } from '../errors.js';
import type { JsonObject } from './settings.js';
import { literalEval } from './pyconf/literal-eval.js';
import { strRepr } from './pyconf/repr.js';
import { ConversionError, toJson, type PyValue } from './pyconf/values.js';
import { ConfNamespace } from './pyconf/interpret.js';

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Python's str.strip(): the characters str.isspace() accepts (JS's trim differs on a few). */
const PY_SPACE = '\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

/**
 * One "KEY=VALUE;…" string, exactly as VSPERF's parse_param_string reads it: the text is cut by its
 * pattern `([^;=]+)(=([^;]+))?` (so a ';' always separates, even inside quotes), names and values are
 * stripped, a bare KEY is True, a value is ast.literal_eval'd and, when that is Python's ValueError
 * (a name such as vxlan, `a,b` of names), kept as the string. Where VSPERF would crash (a syntax
 * error) or later refuse the name (not a setting name, TEST_PARAMS), this is a ParseError instead.
 */
export function parseTestParams(src: string): JsonObject {
  // Later wins, as in VSPERF's dict: a value is converted only if no later one replaces it.
  const found = new Map<string, { value: PyValue | Unstorable; at: number }>();
  for (const m of src.matchAll(/([^;=]+)(=([^;]+))?/g)) {
    const key = m[1]!.replace(STRIP, '');
    if (!key) continue;
    const at = m.index! + m[1]!.search(/[^\s]/);
    if (!KEY.test(key)) throw new ParseError(src, at, `${strRepr(key)} is not a setting name`);
    if (key === 'TEST_PARAMS') throw new ParseError(src, at, 'TEST_PARAMS cannot be set from --test-params');
    const raw = (m[3] ?? '').replace(STRIP, '');
    const valueAt = m.index! + m[1]!.length + 1;
    found.delete(key);
    found.set(key, { value: raw === '' ? true : paramValue(raw, src, valueAt), at: valueAt });
  }
  const out: JsonObject = {};
  for (const [key, { value, at }] of found) {
    if (value instanceof Unstorable) throw new ParseError(src, at, value.reason);
    try {
      out[key] = toJson(value);
    } catch (e) {
      if (e instanceof ConversionError) throw new ParseError(src, at, e.message.replace(/^value: /, ''));
      throw e;
    }
  }
  return out;
}

class Unstorable {
  constructor(readonly reason: string) {}
}

function paramValue(raw: string, src: string, at: number): PyValue | Unstorable {
  const r = literalEval(raw);
  if (r.kind === 'unstorable') return new Unstorable(r.error.reason);
  if (r.kind === 'not-literal') return raw;
  if (r.kind === 'syntax-error') throw new ParseError(src, Math.min(at + Math.max(0, r.error.col - 1), src.length), r.error.reason);
  return r.value;
}

/**
 * The whole option: a list literal of strings gives per-testcase params; anything else is one set
 * for every testcase.
 */
export function parseTestParamsOption(src: string): JsonObject[] {
  // VSPERF looks at the first character only: '[' means a list of strings, one per testcase.
  if (src.startsWith('[')) {
    const r = literalEval(src);
    if (r.kind === 'syntax-error') throw new ParseError(src, Math.min(Math.max(0, r.error.col - 1), src.length), r.error.reason);
    const v = r.kind === 'value' ? r.value : undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
      throw new ParseError(src, 0, 'a --test-params list must hold strings of the form "KEY=VALUE;…"');
    if (v.length === 0) throw new ParseError(src, 0, 'empty --test-params list');
    return (v as string[]).map(parseTestParams);
  }
  return [parseTestParams(src)];
}

/** The params for testcase number `i` (0-based): VSPERF repeats the last entry. */
export function paramsForTestcase(list: readonly JsonObject[], i: number): JsonObject {
  return list.length ? list[Math.min(i, list.length - 1)]! : {};
}

/** A VSPERF `.conf` text on its own (no earlier layers): the settings it sets. Interpreted, never executed. */
export function parseConfFile(src: string, file = '<conf>'): JsonObject {
  return new ConfNamespace().runFile(src, file).values;
}
