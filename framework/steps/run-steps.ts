/**
 * The step executor (VSPERF step_run): steps in order, each with its parameters macro-expanded
 * against the results so far, its output optionally filtered, then — in integration testcases and
 * unless the step says `!` — validated by the object's validate_<method>. The first failing step
 * ends the list; the caller stops what the steps started.
 */
import { sleep } from '../host/proc.js';
import { VsperfError, errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { expandParam, type MacroContext } from './macros.js';
import { pyRepr, type PyValue } from './pyvalue.js';
import { filterOutput, type ParsedStep } from './steps.js';
import type { StepObjects } from './types.js';

export interface StepRunOptions {
  readonly steps: readonly ParsedStep[];
  readonly objects: StepObjects;
  /** Validate every step (integration testcases); performance testcases do not. */
  readonly check: boolean;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** A setting's current value for `$NAME` macros (undefined: no such setting). */
  setting(name: string): PyValue | undefined;
  /** TEST_STEP_DELAY: seconds to wait after each step. */
  readonly stepDelayS?: number;
  /** `wait` steps: resolves when the user pressed Enter (rejects when not interactive). */
  waitForUser?(prompt: string): Promise<void>;
  /**
   * A failing step's cause when it is known better than "the step failed" (the sandbox could not carry
   * the traffic a check needs): its code and one line, which then lead the failure.
   */
  explainFailure?(step: ParsedStep, ctx: MacroContext): { readonly code: string; readonly message: string } | undefined;
}

export interface StepRunResult {
  readonly ok: boolean;
  /** The failing step as VSPERF reports it (`object method [params]`), with the reason. */
  readonly details: string;
  readonly results: readonly PyValue[];
  /** Index of the failing step. */
  readonly failedStep?: number;
  /** The failure's code when explainFailure named its cause (else the caller's generic one). */
  readonly code?: string;
}

/** Parameters beyond this many characters are cut in a failure's one line (a Python snippet, a long flow list). */
const DETAIL_PARAMS_MAX = 100;

function describe(s: ParsedStep, params: readonly PyValue[], max = Infinity): string {
  let p = params.length ? pyRepr(params as PyValue) : '';
  if (p.length > max) p = `${p.slice(0, max - 1)}…`;
  return `${s.object} ${s.method}${p ? ' ' + p : ''}`.trim();
}

export async function runTestSteps(o: StepRunOptions): Promise<StepRunResult> {
  const results: PyValue[] = new Array<PyValue>(o.steps.length).fill(null);
  const aliases = new Map<string, number>();
  for (const s of o.steps) {
    o.signal.throwIfAborted();
    if (s.alias !== undefined) aliases.set(s.alias, s.index);
    const ctx: MacroContext = { results: results.slice(0, s.index), aliases, setting: o.setting };
    if (s.object === 'sleep') {
      o.log.info(`step ${s.index}: sleep ${String(s.params[0])} s`);
      await sleep(Number(s.params[0]) * 1000, o.signal);
      continue;
    }
    if (s.object === 'wait') {
      if (!o.waitForUser)
        return { ok: false, details: `wait: step ${s.index} waits for Enter, but vsperf is not attached to a terminal`, results, failedStep: s.index };
      await o.waitForUser(`Step ${s.index}: press Enter to continue with the next step...`);
      continue;
    }
    let params: PyValue[] = [...s.params];
    let label = describe(s, params);
    let brief = describe(s, params, DETAIL_PARAMS_MAX);
    const check = o.check && !s.noCheck && s.family !== 'log';
    let ok: boolean;
    let why = '';
    try {
      params = s.params.map((p) => expandParam(p, ctx));
      const filter = s.filter !== undefined ? (expandParam(s.filter, ctx) as string) : undefined;
      const filtered = filter !== undefined ? ` filter "${filter}"` : '';
      label = describe(s, params) + filtered;
      brief = describe(s, params, DETAIL_PARAMS_MAX) + filtered;
      const target = o.objects.target(s.object);
      if (typeof target === 'string') throw new VsperfError('E_STEP_UNSUPPORTED', target);
      o.log.debug(`step ${s.index} '${label}' start`);
      let result = await target.call(s.method, params);
      if (filter !== undefined) result = filterOutput(result, filter);
      results[s.index] = result;
      o.log.debug(`step ${s.index} '${label}' result ${pyRepr(result)}`);
      if (o.stepDelayS) await sleep(o.stepDelayS * 1000, o.signal);
      ok = true;
      if (check) {
        if (!target.validate || (target.canValidate && !target.canValidate(s.method))) {
          ok = false;
          why = `no validation for ${s.object} ${s.method} (prefix the object with "!" to skip it)`;
        } else {
          ok = await target.validate(s.method, result, params);
          if (!ok) why = 'validation failed';
        }
      }
    } catch (e) {
      if (o.signal.aborted) throw e;
      ok = false;
      why = e instanceof VsperfError ? e.brief() : errorMessage(e);
    }
    if (check || !ok) o.log.info(`Step ${s.index} - '${label}' ... ${ok ? 'OK' : 'FAILED'}${why ? `: ${why}` : ''}`);
    if (!ok) {
      const cause = o.explainFailure?.(s, ctx);
      if (cause) o.log.info(`Step ${s.index}: ${cause.message}`);
      return cause
        ? { ok: false, details: `${cause.message}: ${brief}`, results, failedStep: s.index, code: cause.code }
        : { ok: false, details: `${brief}${why ? `: ${why}` : ''}`, results, failedStep: s.index };
    }
  }
  return { ok: true, details: '', results };
}
