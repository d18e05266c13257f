import type { Methodology } from './context.js';
import { fixedRateTrials } from './fixed-rate.js';
import { rateColumns } from './rows.js';

/**
 * rfc2544_continuous: one trial at TRAFFIC.frame_rate (% of line rate) for TRAFFICGEN_DURATION per
 * frame size; no search (VSPERF send_cont_traffic). A rate above the generator's maximum is capped and
 * said so; a generator-limited trial is reported with its reason instead of as DUT loss.
 */
export const continuous: Methodology = (ctx) =>
  fixedRateTrials(ctx, { purpose: 'continuous' }, (out, runner) => rateColumns(out.result, runner.l2FrameSize, runner.lineRateFps));
