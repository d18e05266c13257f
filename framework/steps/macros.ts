/**
 * Macro expansion in step parameters, as VSPERF's step_eval_param does it: `#STEP[i][j]…` pastes
 * str() of an earlier step's result (i: absolute index, negative index into the steps so far, or a
 * step alias), `$NAME[...]` pastes str() of a setting (any name VSPERF's getValue knows); a `$` that
 * names no setting stays as written.
 * Strings are expanded inside lists and dicts too. The subscripts are parsed, never evaluated.
 */
import { pyIndex, pyStr, StepExprError, type PyValue } from './pyvalue.js';

const STEP_RE = /#STEP\[([\w\-:]+)\]((?:\[[\w\-'"]+\])*)/g;
const SETTING_RE = /\$([\w-]+)((?:\[[\w[\]\-'"]+\])*)/g;

/** `[0]["x"][-1]` → [0, 'x', -1]. */
export function parseSubscripts(chain: string): PyValue[] {
  const out: PyValue[] = [];
  const re = /\[\s*(?:(-?\d+)|'([^']*)'|"([^"]*)")\s*\]/y;
  let i = 0;
  while (i < chain.length) {
    re.lastIndex = i;
    const m = re.exec(chain);
    if (!m) throw new StepExprError(`SyntaxError: bad subscript ${JSON.stringify(chain.slice(i))} (use [n], ['key'] or ["key"])`);
    out.push(m[1] !== undefined ? Number(m[1]) : (m[2] ?? m[3])!);
    i = re.lastIndex;
  }
  return out;
}

export interface MacroContext {
  /** Results of the steps before this one (index = step number). */
  readonly results: readonly PyValue[];
  /** Step alias → step number. */
  readonly aliases: ReadonlyMap<string, number>;
  /** A setting's value, or undefined when there is no such setting. */
  setting(name: string): PyValue | undefined;
}

function stepResult(key: string, ctx: MacroContext): PyValue {
  const alias = ctx.aliases.get(key);
  if (alias !== undefined) return ctx.results[alias] ?? null;
  if (!/^-?\d+$/.test(key)) throw new StepExprError(`NameError: #STEP[${key}]: no step has the alias "${key}"`);
  return pyIndex(ctx.results as PyValue[], Number(key));
}

function expandString(s: string, ctx: MacroContext): string {
  let out = s.replace(STEP_RE, (_m, key: string, chain: string) =>
    pyStr(parseSubscripts(chain).reduce<PyValue>((v, k) => pyIndex(v, k), stepResult(key, ctx))),
  );
  // As VSPERF: every `$NAME[...]` found in the string is looked up in turn and each text found is
  // replaced everywhere (Python's str.replace), so the order of lookups and replacements is VSPERF's.
  // A name that is no setting (AttributeError) or a subscript that misses (IndexError, KeyError)
  // leaves the text as written; any other error (TypeError, a bad subscript) fails the step.
  for (const [whole, name, chain] of [...out.matchAll(SETTING_RE)]) {
    const base = ctx.setting(name!);
    if (base === undefined) continue;
    let text: string;
    try {
      text = pyStr(parseSubscripts(chain!).reduce<PyValue>((v, k) => pyIndex(v, k), base));
    } catch (e) {
      if (e instanceof StepExprError && /^(IndexError|KeyError|AttributeError)\b/.test(e.message)) continue;
      throw e;
    }
    out = out.split(whole).join(text);
  }
  return out;
}

/** Expand macros in one step parameter (strings, and strings inside lists/dicts). */
export function expandParam(v: PyValue, ctx: MacroContext): PyValue {
  if (typeof v === 'string') return expandString(v, ctx);
  if (Array.isArray(v)) return v.map((x) => expandParam(x, ctx));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expandParam(x, ctx)]));
  return v;
}

/** Step references a parameter makes (for load-time validation): absolute indexes and aliases. */
export function stepReferences(v: PyValue): string[] {
  if (typeof v === 'string') return [...v.matchAll(STEP_RE)].map((m) => m[1]!);
  if (Array.isArray(v)) return v.flatMap(stepReferences);
  if (v && typeof v === 'object') return Object.values(v).flatMap(stepReferences);
  return [];
}
