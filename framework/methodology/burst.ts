import type { Methodology } from './context.js';
import { fixedRateTrials } from './fixed-rate.js';
import { rateColumns, round } from './rows.js';
import { int } from './options.js';

/**
 * burst: one burst of TRAFFIC.burst_size frames per direction at TRAFFIC.frame_rate (% of line rate) per
 * frame size (VSPERF send_burst_traffic). Columns: tx_frames, rx_frames, tx_bytes, rx_bytes,
 * payload_err (when the generator reports it), seq_err (reordered + duplicated), plus the rate columns.
 */
export const burst: Methodology = async (ctx) => {
  const burstSize = int(ctx.settings, 'TRAFFIC.burst_size', 100, 1);
  return fixedRateTrials(ctx, { frames: burstSize, purpose: 'burst' }, ({ result: r }, runner) => {
    const payloadErr = r.info?.payloadErrors;
    return {
      tx_frames: r.txFrames,
      rx_frames: r.rxFrames,
      tx_bytes: r.txBytes,
      rx_bytes: r.rxBytes,
      ...(typeof payloadErr === 'number' ? { payload_err: payloadErr } : {}),
      seq_err: r.reordered + r.duplicated,
      ...rateColumns(r, runner.l2FrameSize, runner.lineRateFps),
      frame_loss_percent: round(r.lossPct, 6),
    };
  });
};
