import type { Methodology, TrialRecord } from './context.js';
import { TrialRunner } from './trial-runner.js';
import { frameSizes } from './traffic-spec.js';
import { rateColumns, searchColumns } from './rows.js';
import type { ResultRow } from './types.js';

/**
 * rfc2544_continuous: one trial at TRAFFIC.frame_rate (% of line rate) for TRAFFICGEN_DURATION per
 * frame size; no search (VSPERF send_cont_traffic). A rate above the generator's maximum is capped and
 * said so; a generator-limited trial is reported with its reason instead of as DUT loss.
 */
export const continuous: Methodology = async (ctx) => {
  const rows: ResultRow[] = [];
  const trials: TrialRecord[] = [];
  const counter = { next: 0 };
  for (const size of frameSizes(ctx.settings)) {
    const runner = new TrialRunner(ctx, size, counter);
    await runner.learn();
    const from = runner.trials.length;
    const wanted = (runner.options.frameRatePct / 100) * runner.lineRateFps;
    const rateFps = Math.min(wanted, runner.maxRateFps);
    const out = await runner.measure({ rateFps, purpose: 'continuous' });
    const notes = [
      ...(rateFps < wanted ? [`rate capped at the generator maximum ${Math.round(rateFps)} fps`] : []),
      ...(out.valid ? [] : [`invalid: ${out.invalidReason}`]),
    ];
    rows.push({ packet_size: size, ...rateColumns(out.result, runner.l2FrameSize, runner.lineRateFps), ...searchColumns(runner.trials.slice(from), notes.length ? notes.join('; ') : 'ok') });
    trials.push(...runner.trials);
  }
  return { rows, trials };
};
