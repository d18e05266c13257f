/**
 * VSPERF `--test-params`: "KEY=VALUE;KEY=VALUE" with Python-literal values, or a list of such strings,
 * one per testcase (the last repeats when more testcases run than strings were given).
 */
import { ParseError } from '../errors.js';
import { LiteralParser } from './literal.js';
import type { JsonObject } from './settings.js';
import { ConfNamespace } from './pyconf/interpret.js';

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parse one "KEY=VALUE;…" string. */
export function parseTestParams(src: string): JsonObject {
  const p: LiteralParser = new LiteralParser(src);
  const out: JsonObject = {};
  for (;;) {
    p.skipWs();
    while (p.peek() === ';') {
      p.pos++;
      p.skipWs();
    }
    if (p.eof()) return out;
    const keyAt = p.pos;
    const m = /^[^=;\s]+/.exec(src.slice(p.pos));
    const key = m?.[0] ?? '';
    if (!KEY.test(key)) p.fail(key ? `'${key}' is not a setting name` : 'expected a setting name', keyAt);
    if (key === 'TEST_PARAMS') p.fail('TEST_PARAMS cannot be set from --test-params', keyAt);
    p.pos += key.length;
    p.skipWs();
    p.expect('=');
    out[key] = p.value(0, { bareWords: true });
    p.skipWs();
    if (!p.eof() && p.peek() !== ';') p.fail(`expected ';' after the value of ${key}`);
  }
}

/**
 * The whole option: a list literal of strings gives per-testcase params; anything else is one set
 * for every testcase.
 */
export function parseTestParamsOption(src: string): JsonObject[] {
  const trimmed = src.trim();
  if (trimmed.startsWith('[')) {
    const p: LiteralParser = new LiteralParser(trimmed);
    const v = p.value();
    p.skipWs();
    if (!p.eof()) p.fail(`unexpected '${p.peek()}' after the list`);
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ParseError(trimmed, 0, 'a --test-params list must hold strings of the form "KEY=VALUE;…"');
    if (v.length === 0) throw new ParseError(trimmed, 0, 'empty --test-params list');
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
