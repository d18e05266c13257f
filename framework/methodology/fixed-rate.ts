/**
 * One trial per frame size at TRAFFIC.frame_rate (% of line rate), no search: what burst and
 * rfc2544_continuous share. A rate above the generator's maximum is capped and said so in the row's
 * notes, as is an invalid (e.g. generator-limited) trial.
 */
import type { MethodologyContext, MethodologyOutput, TrialRecord } from './context.js';
import { TrialRunner } from './trial-runner.js';
import { frameSizes } from './traffic-spec.js';
import { searchColumns } from './rows.js';
import type { ResultRow, TrialOutcome, TrialRequest } from './types.js';

export async function fixedRateTrials(
  ctx: MethodologyContext,
  request: Omit<TrialRequest, 'rateFps'>,
  columns: (out: TrialOutcome, runner: TrialRunner) => ResultRow,
): Promise<MethodologyOutput> {
  const rows: ResultRow[] = [];
  const trials: TrialRecord[] = [];
  const counter = { next: 0 };
  for (const size of frameSizes(ctx.settings)) {
    const runner = new TrialRunner(ctx, size, counter);
    await runner.learn();
    const from = runner.trials.length;
    const wanted = (runner.options.frameRatePct / 100) * runner.lineRateFps;
    const rateFps = Math.min(wanted, runner.maxRateFps);
    const out = await runner.measure({ ...request, rateFps, ...(rateFps < wanted ? { requestedFps: wanted } : {}) });
    const notes = [
      ...(rateFps < wanted ? [`rate capped at the generator maximum ${Math.round(rateFps)} fps`] : []),
      ...(out.valid ? [] : [`invalid: ${out.invalidReason}`]),
    ];
    rows.push({ packet_size: size, ...columns(out, runner), ...searchColumns(runner.trials.slice(from), notes.length ? notes.join('; ') : 'ok') });
    trials.push(...runner.trials);
  }
  return { rows, trials };
}
