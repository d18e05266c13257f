import type { Methodology } from './context.js';
import { TrialRunner } from './trial-runner.js';
import { frameSizes } from './traffic-spec.js';
import { rateColumns } from './rows.js';
import type { ResultRow, Search, TrialOutcome, TrialRequest, SearchDone } from './types.js';

/**
 * VSPERF RFC 2544 throughput: binary search on [0, frame_rate % of line rate] for the highest rate
 * whose loss ≤ TRAFFICGEN_LOSSRATE (%), stopping when the bracket is ≤ precision (percent points).
 */
export class BinarySearch implements Search<TrialOutcome | undefined> {
  private left = 0;
  private right: number;
  private center: number;
  private best: TrialOutcome | undefined;
  private finished = false;

  constructor(
    private readonly maxFps: number,
    private readonly lossPct: number,
    private readonly precisionPct: number,
    startPct = 100,
  ) {
    this.right = startPct;
    this.center = startPct;
  }

  next(): TrialRequest | SearchDone<TrialOutcome | undefined> {
    if (this.finished || this.right - this.left <= this.precisionPct) return { done: true, result: this.best };
    return { rateFps: (this.center / 100) * this.maxFps, purpose: 'bisect' };
  }

  record(_req: TrialRequest, out: TrialOutcome): void {
    const pass = out.valid && out.result.lossPct <= this.lossPct;
    if (pass) {
      this.best = out;
      if (out.result.lossPct === 0 && this.center === this.right) {
        this.finished = true;
        return;
      }
      this.left = this.center;
    } else {
      this.right = this.center;
    }
    this.center = (this.left + this.right) / 2;
  }
}

export const throughput: Methodology = async (ctx) => {
  const rows: ResultRow[] = [];
  const trials = [];
  const counter = { next: 0 };
  for (const size of frameSizes(ctx.settings)) {
    const runner = new TrialRunner(ctx, size, counter);
    const search = new BinarySearch(runner.maxRateFps, ctx.settings.number('TRAFFICGEN_LOSSRATE'), ctx.settings.getOr('TRAFFICGEN_RFC2544_PRECISION_PCT', 0.5) as number, Number(ctx.settings.get('TRAFFIC.frame_rate')));
    const best = await runner.drive(search);
    trials.push(...runner.trials);
    rows.push(
      best
        ? { packet_size: size, ...rateColumns(best.result, size, runner.lineRateFps), trials: runner.trials.length }
        : { packet_size: size, throughput_rx_fps: 0, tx_rate_fps: 0, frame_loss_percent: 100, trials: runner.trials.length, search_status: 'no passing rate' },
    );
  }
  return { rows, trials };
};
