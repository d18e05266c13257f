/**
 * rfc2544_back2back (RFC 2544 §26.4, VSPERF LTD.Throughput.RFC2544.BackToBackFrames): the longest burst
 * at TRAFFIC.frame_rate (100 % = minimum inter-frame gap) that the DUT forwards with loss ≤
 * TRAFFICGEN_LOSSRATE. The first burst lasts TRAFFICGEN_DURATION seconds; when it loses frames the
 * burst length is bisected (geometrically while the bracket spans more than ×4, then arithmetically)
 * until the bracket is within TRAFFICGEN_RFC2544_B2B_PRECISION_PCT (at least one frame). Repeated
 * TRAFFICGEN_RFC2544_TESTS times; VSPERF's b2b_* columns are averaged over the repetitions.
 */
import type { Methodology, TrialRecord } from './context.js';
import { TrialRunner } from './trial-runner.js';
import { frameSizes } from './traffic-spec.js';
import { meanRows, round, searchColumns } from './rows.js';
import { num } from './options.js';
import type { ResultRow, Search, SearchDone, TrialOutcome, TrialRequest } from './types.js';
import { lowerBoundNote } from './backoff.js';

export interface B2bConfig {
  readonly rateFps: number;
  readonly maxFrames: number;
  readonly lossRatePct: number;
  /** Stop when (hi − lo) ≤ max(1, lo × precisionPct / 100). */
  readonly precisionPct: number;
}

export interface B2bResult {
  /** Longest passing burst (frames per direction); 0 when even one frame is lost. */
  readonly frames: number;
  readonly best?: TrialOutcome;
  readonly status: 'ok' | 'no-loss-at-max' | 'no-passing-burst' | 'generator-limited';
  readonly message: string;
}

export class B2bSearch implements Search<B2bResult> {
  private lo = 0;
  private hi: number;
  private best: TrialOutcome | undefined;
  private first = true;
  private stopped: B2bResult | undefined;
  /** Burst rate: the configured one until the generator backs off from it. */
  private rateFps: number;
  private limitedNote = '';

  constructor(private readonly cfg: B2bConfig) {
    this.hi = Math.max(1, Math.round(cfg.maxFrames));
    this.rateFps = cfg.rateFps;
  }

  private note(message: string): string {
    return this.limitedNote ? `${message}; ${this.limitedNote}` : message;
  }

  private finished(): boolean {
    return this.hi - this.lo <= Math.max(1, (this.lo * this.cfg.precisionPct) / 100);
  }

  next(): TrialRequest | SearchDone<B2bResult> {
    if (this.stopped) return { done: true, result: this.stopped };
    if (this.first) return { rateFps: this.rateFps, frames: this.hi, purpose: 'longest burst', latency: false };
    if (this.finished()) {
      const r: B2bResult =
        this.lo > 0
          ? {
              frames: this.lo,
              ...(this.best ? { best: this.best } : {}),
              status: this.limitedNote ? 'generator-limited' : 'ok',
              message: this.note(`longest passing burst ${this.lo} frames, shortest failing ${this.hi}`),
            }
          : { frames: 0, status: 'no-passing-burst', message: this.note(`loss above ${this.cfg.lossRatePct} % even with a ${this.hi}-frame burst`) };
      return { done: true, result: r };
    }
    const base = Math.max(1, this.lo);
    const mid = this.hi / base > 4 ? Math.round(Math.sqrt(base * this.hi)) : Math.round((this.lo + this.hi) / 2);
    return { rateFps: this.rateFps, frames: Math.min(this.hi - 1, Math.max(this.lo + 1, mid)), purpose: 'bisect', latency: false };
  }

  record(req: TrialRequest, out: TrialOutcome): void {
    const frames = req.frames ?? 0;
    if (!out.valid) {
      const why =
        out.backoffExhausted ??
        `${out.invalidReason ?? 'invalid trial'}: the generator cannot send a back-to-back burst at ${Math.round(this.rateFps)} fps; search stopped`;
      this.stopped = { frames: this.lo, ...(this.best ? { best: this.best } : {}), status: 'generator-limited', message: this.note(why) };
      return;
    }
    if (out.backoff) {
      // Later bursts go at the rate the generator managed; a burst below line rate is not back-to-back.
      this.rateFps = out.backoff.rateFps;
      this.limitedNote = `${lowerBoundNote(out.backoff)}; bursts at ${Math.round(this.rateFps)} fps, not back-to-back at the configured rate`;
    }
    const pass = out.result.lossPct <= this.cfg.lossRatePct;
    if (this.first) {
      this.first = false;
      if (pass) {
        this.stopped = {
          frames,
          best: out,
          status: 'no-loss-at-max',
          message: this.note(`no loss with the longest burst tried (${frames} frames = TRAFFICGEN_DURATION at the burst rate)`),
        };
        return;
      }
    }
    if (pass) {
      this.lo = frames;
      this.best = out;
    } else this.hi = frames;
  }
}

export const back2back: Methodology = async (ctx) => {
  const rows: ResultRow[] = [];
  const trials: TrialRecord[] = [];
  const counter = { next: 0 };
  const precisionPct = num(ctx.settings, 'TRAFFICGEN_RFC2544_B2B_PRECISION_PCT', 0.1, 0, 100);
  for (const size of frameSizes(ctx.settings)) {
    const runner = new TrialRunner(ctx, size, counter);
    await runner.learn();
    const o = runner.options;
    const wanted = (o.frameRatePct / 100) * runner.lineRateFps;
    const rateFps = Math.min(wanted, runner.maxRateFps);
    const capped = rateFps < wanted ? `; burst rate capped at the generator maximum ${Math.round(rateFps)} fps (not back-to-back at line rate)` : '';
    const reps: ResultRow[] = [];
    for (let i = 0; i < o.tests; i++) {
      const from = runner.trials.length;
      const r = await runner.drive(new B2bSearch({ rateFps, maxFrames: rateFps * o.durationS, lossRatePct: o.lossRatePct, precisionPct }));
      const b = r.best?.result;
      reps.push({
        packet_size: size,
        b2b_frames: r.frames,
        b2b_tx_count: b ? b.txFrames : 0,
        b2b_tx_fps: b ? round(b.achievedTxFps) : 0,
        b2b_rx_fps: b ? round(b.rxFps) : 0,
        b2b_tx_percent: b ? round((b.achievedTxFps / runner.lineRateFps) * 100) : 0,
        b2b_rx_percent: b ? round((b.rxFps / runner.lineRateFps) * 100) : 0,
        b2b_frame_loss_frames: b ? b.lostFrames : 0,
        b2b_frame_loss_percent: b ? round(b.lossPct, 6) : 100,
        b2b_duration_s: b ? round(r.frames / Math.max(1, b.achievedTxFps), 9) : 0,
        ...searchColumns(runner.trials.slice(from), `${r.status === 'ok' ? 'ok' : `${r.status}: ${r.message}`}${capped}`),
      });
    }
    rows.push(meanRows(reps));
    trials.push(...runner.trials);
  }
  return { rows, trials };
};
