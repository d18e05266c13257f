import type { Methodology } from './context.js';
import { TrialRunner } from './trial-runner.js';
import { frameSizes } from './traffic-spec.js';
import { rateColumns } from './rows.js';
import type { ResultRow } from './types.js';

/** rfc2544_continuous: one trial at TRAFFIC.frame_rate (% of line rate) for TRAFFICGEN_DURATION; no search. */
export const continuous: Methodology = async (ctx) => {
  const rows: ResultRow[] = [];
  const trials = [];
  const counter = { next: 0 };
  const pct = Number(ctx.settings.get('TRAFFIC.frame_rate'));
  for (const size of frameSizes(ctx.settings)) {
    const runner = new TrialRunner(ctx, size, counter);
    const out = await runner.measure({ rateFps: (pct / 100) * runner.lineRateFps, purpose: 'continuous' });
    rows.push({ packet_size: size, ...rateColumns(out.result, size, runner.lineRateFps), ...(out.valid ? {} : { search_status: out.invalidReason ?? 'invalid' }) });
    trials.push(...runner.trials);
  }
  return { rows, trials };
};
