import type { Methodology, TrialRecord } from './context.js';
import { TrialRunner } from './trial-runner.js';
import { frameSizes } from './traffic-spec.js';
import { rateColumns, round, searchColumns } from './rows.js';
import { int } from './options.js';
import type { ResultRow } from './types.js';

/**
 * burst: one burst of TRAFFIC.burst_size frames per direction at TRAFFIC.frame_rate (% of line rate) per
 * frame size (VSPERF send_burst_traffic). Columns: tx_frames, rx_frames, tx_bytes, rx_bytes,
 * payload_err (when the generator reports it), seq_err (reordered + duplicated), plus the rate columns.
 */
export const burst: Methodology = async (ctx) => {
  const rows: ResultRow[] = [];
  const trials: TrialRecord[] = [];
  const counter = { next: 0 };
  const burstSize = int(ctx.settings, 'TRAFFIC.burst_size', 100, 1);
  for (const size of frameSizes(ctx.settings)) {
    const runner = new TrialRunner(ctx, size, counter);
    await runner.learn();
    const from = runner.trials.length;
    const wanted = (runner.options.frameRatePct / 100) * runner.lineRateFps;
    const rateFps = Math.min(wanted, runner.maxRateFps);
    const out = await runner.measure({ rateFps, frames: burstSize, purpose: 'burst' });
    const r = out.result;
    const payloadErr = r.info?.payloadErrors;
    const notes = [
      ...(rateFps < wanted ? [`rate capped at the generator maximum ${Math.round(rateFps)} fps`] : []),
      ...(out.valid ? [] : [`invalid: ${out.invalidReason}`]),
    ];
    rows.push({
      packet_size: size,
      tx_frames: r.txFrames,
      rx_frames: r.rxFrames,
      tx_bytes: r.txBytes,
      rx_bytes: r.rxBytes,
      ...(typeof payloadErr === 'number' ? { payload_err: payloadErr } : {}),
      seq_err: r.reordered + r.duplicated,
      ...rateColumns(r, runner.l2FrameSize, runner.lineRateFps),
      frame_loss_percent: round(r.lossPct, 6),
      ...searchColumns(runner.trials.slice(from), notes.length ? notes.join('; ') : 'ok'),
    });
    trials.push(...runner.trials);
  }
  return { rows, trials };
};
