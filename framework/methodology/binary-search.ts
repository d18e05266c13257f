/**
 * VSPERF's RFC 2544 throughput binary search (tools/pkt_gen/trex/trex_client.py, send_rfc2544_throughput
 * and run_trials), as a pure state machine. Rates are percent of line rate per direction:
 *
 *   right = center = TRAFFIC.frame_rate, left = 0, best = none
 *   while right − left > TRAFFICGEN_TREX_RFC2544_TPUT_THRESHOLD:
 *     trial of TRAFFICGEN_DURATION s at center; loss% = (tx − rx)·100/tx over all ports
 *     rx == 0                          → stop, no result (VSPERF returns empty stats)
 *     loss == 0 and center == start    → stop, this trial is the result (zero loss, not ≤ lossrate)
 *     loss > TRAFFICGEN_LOSSRATE       → [loss verification: re-run the same rate up to MAX_REPEAT times]
 *                                        right = center, center = (left + right) / 2
 *     otherwise                        → best = trial, left = center, center = (left + right) / 2
 *   optional verification: best rate for VERIFICATION_DURATION s; a failure restarts the search on
 *   [0, best − threshold], at most MAXIMUM_VERIFICATION_TRIALS times.
 *
 * vsperf-ts additions, all recorded in the result: the upper bound is capped at the generator's maximum
 * rate; a generator-limited trial never counts as DUT loss: the runner backs off (backoff.ts) and hands
 * over a valid trial at a lower rate, the search lowers its upper bound to what the generator achieved
 * and goes on from the backed-off trial (status 'generator-limited': the result is a lower bound). Only
 * when no rate gives a valid trial does it stop without a result.
 */
import type { Search, SearchDone, TrialOutcome, TrialRequest } from './types.js';
import { lowerBoundNote, type Backoff } from './backoff.js';
import type { BinarySearchOptions } from './options.js';

export interface BinarySearchConfig extends BinarySearchOptions {
  /** 100 % reference (fps per direction). */
  readonly lineRateFps: number;
  /** Highest offerable rate (generator cap) (fps per direction). */
  readonly maxRateFps: number;
  /** TRAFFICGEN_LOSSRATE (%). */
  readonly lossRatePct: number;
  /** TRAFFIC.frame_rate: first trial and upper bound (%). */
  readonly startPct: number;
  /** TRAFFICGEN_DURATION (s). */
  readonly durationS: number;
}

export type BinarySearchStatus = 'ok' | 'passed-at-start' | 'no-rx' | 'no-passing-rate' | 'unverified' | 'generator-limited';

export interface BinarySearchStep {
  readonly pct: number;
  readonly lossPct: number;
  readonly pass: boolean;
  readonly purpose: string;
  readonly valid: boolean;
}

export interface BinarySearchResult {
  /** The reported trial (last passing, or the passing verification trial). */
  readonly best?: TrialOutcome;
  /** Rate of the reported trial (% of line rate). */
  readonly bestPct: number;
  readonly leftPct: number;
  readonly rightPct: number;
  readonly status: BinarySearchStatus;
  readonly message: string;
  readonly steps: readonly BinarySearchStep[];
}

type Phase = 'search' | 'verify' | 'done';

export class VsperfBinarySearch implements Search<BinarySearchResult> {
  private left = 0;
  private right: number;
  private center: number;
  private best: TrialOutcome | undefined;
  private bestPct = 0;
  private repeat = 0;
  private phase: Phase = 'search';
  private status: BinarySearchStatus = 'ok';
  private message = '';
  private verifications = 0;
  private limitedNote = '';
  private invalidInARow = 0;
  /** No valid trial at any back-off rate. */
  private exhausted = false;
  private readonly steps: BinarySearchStep[] = [];
  private readonly startPct: number;

  constructor(private readonly cfg: BinarySearchConfig) {
    const capPct = (cfg.maxRateFps / cfg.lineRateFps) * 100;
    this.startPct = Math.min(cfg.startPct, capPct);
    if (this.startPct < cfg.startPct) this.limitedNote = `upper bound capped at the generator maximum ${fmt(capPct)} % of line rate`;
    this.right = this.startPct;
    this.center = this.startPct;
  }

  private fps(pct: number): number {
    return (pct / 100) * this.cfg.lineRateFps;
  }

  next(): TrialRequest | SearchDone<BinarySearchResult> {
    // At least one trial, even when the start rate is already within the precision of 0 (VSPERF would report nothing).
    if (this.phase === 'search' && this.steps.length > 0 && this.right - this.left <= this.cfg.thresholdPct) this.endSearch();
    if (this.phase === 'verify') {
      return { rateFps: this.fps(this.bestPct), durationS: this.cfg.verificationS, purpose: 'verify' };
    }
    if (this.phase === 'done') return { done: true, result: this.result() };
    const purpose = this.repeat > 0 ? `loss-verify ${this.repeat}/${this.cfg.maxRepeat}` : this.steps.length === 0 ? 'start' : 'bisect';
    return { rateFps: this.fps(this.center), durationS: this.cfg.durationS, purpose };
  }

  private endSearch(): void {
    if (this.best && this.cfg.verification && this.verifications < this.cfg.maxVerificationTrials) {
      this.phase = 'verify';
      return;
    }
    if (this.best && this.cfg.verification) {
      this.status = 'unverified';
      this.message = `could not pass verification after ${this.verifications} attempts; reporting the last passing rate`;
    }
    this.phase = 'done';
  }

  record(req: TrialRequest, out: TrialOutcome): void {
    const pct = (req.rateFps / this.cfg.lineRateFps) * 100;
    const lossPct = out.result.lossPct;
    if (!out.valid) {
      this.steps.push({ pct, lossPct, pass: false, purpose: req.purpose ?? '', valid: false });
      this.onInvalid(out, pct);
      return;
    }
    this.invalidInARow = 0;
    if (out.backoff && this.onBackoff(out.backoff, pct)) {
      this.steps.push({ pct, lossPct, pass: lossPct <= this.cfg.lossRatePct, purpose: req.purpose ?? '', valid: true });
      return;
    }
    const pass = lossPct <= this.cfg.lossRatePct;
    this.steps.push({ pct, lossPct, pass, purpose: req.purpose ?? '', valid: true });
    if (this.phase === 'verify') {
      this.verifications++;
      if (pass) {
        this.best = out;
        this.phase = 'done';
        return;
      }
      // Verification failed: search again below the failed rate.
      this.right = Math.max(0, this.bestPct - this.cfg.thresholdPct);
      this.left = 0;
      this.center = this.right;
      this.best = undefined;
      this.bestPct = 0;
      this.repeat = 0;
      this.phase = 'search';
      return;
    }
    if (out.result.rxFrames === 0) {
      this.status = 'no-rx';
      this.message = `the DUT forwarded no frames at ${fmt(pct)} % of line rate (VSPERF stops here with an empty result)`;
      this.best = undefined;
      this.bestPct = 0;
      this.phase = 'done';
      return;
    }
    if (lossPct === 0 && this.center === this.startPct && this.right === this.startPct) {
      this.best = out;
      this.bestPct = this.center;
      this.left = this.center;
      this.status = this.status === 'generator-limited' ? this.status : 'passed-at-start';
      this.message = this.message || `zero loss at the start rate ${fmt(this.center)} %`;
      this.phase = 'done';
      if (this.cfg.verification) this.phase = 'verify';
      return;
    }
    if (!pass) {
      if (this.cfg.lossVerification && this.repeat < this.cfg.maxRepeat) {
        this.repeat++;
        return;
      }
      this.repeat = 0;
      this.right = this.center;
    } else {
      this.repeat = 0;
      this.best = out;
      this.bestPct = this.center;
      this.left = this.center;
    }
    this.center = (this.left + this.right) / 2;
  }

  /**
   * An invalid trial. Through the TrialRunner it only arrives when every back-off rate was generator-limited
   * too (`backoffExhausted`): no valid trial, nothing known about the DUT. Driven without the runner's
   * back-off, the search lowers its ceiling to 99 % of what the generator achieved and re-tests there.
   */
  private onInvalid(out: TrialOutcome, pct: number): void {
    this.status = 'generator-limited';
    if (out.backoffExhausted) {
      this.exhausted = true;
      this.message = out.backoffExhausted;
      this.phase = 'done';
      return;
    }
    this.invalidInARow++;
    const achievedPct = (out.result.achievedTxFps / this.cfg.lineRateFps) * 100;
    const ceiling = Math.min(pct, achievedPct) * 0.99;
    this.limitedNote = `generator could not send ${fmt(pct)} % (achieved ${fmt(achievedPct)} %): upper bound lowered to ${fmt(ceiling)} %; the result is a lower bound of the DUT's throughput`;
    if (this.invalidInARow >= 3 || !(ceiling > this.left) || ceiling <= 0) {
      this.exhausted = !this.best;
      this.message = `${this.limitedNote}; search stopped after ${this.invalidInARow} invalid trials in a row${this.best ? '' : ' (no valid trial)'}`;
      this.phase = 'done';
      return;
    }
    if (this.phase === 'verify') {
      this.phase = 'search';
      this.best = undefined;
      this.bestPct = 0;
      this.left = 0;
    }
    this.right = ceiling;
    this.center = ceiling;
    this.repeat = 0;
  }

  /**
   * The trial ran below `center` because the generator could not offer it: lower the upper bound and go
   * on from the trial that ran. True when that trial is at or below an already passing rate, so it adds
   * nothing but the lower ceiling.
   */
  private onBackoff(b: Backoff, pct: number): boolean {
    const ceiling = (b.ceilingFps / this.cfg.lineRateFps) * 100;
    this.status = 'generator-limited';
    this.limitedNote = `${lowerBoundNote(b)}; the result is a lower bound of the DUT's throughput`;
    if (this.phase === 'verify') {
      // The verification rate itself is out of reach: search again below the generator's ceiling.
      this.phase = 'search';
      this.best = undefined;
      this.bestPct = 0;
      this.left = 0;
    }
    this.repeat = 0;
    if (this.best && pct <= this.left) {
      this.right = Math.max(this.left, Math.min(this.right, ceiling));
      this.center = (this.left + this.right) / 2;
      return true;
    }
    this.right = Math.max(pct, Math.min(this.right, ceiling));
    this.center = pct;
    return false;
  }

  private result(): BinarySearchResult {
    let status = this.status;
    let message = this.message;
    if (!this.best && status !== 'no-rx') {
      // A back-off that then found loss everywhere measured the DUT: that is no generator limit.
      if (!this.exhausted) status = 'no-passing-rate';
      message = message || `loss above ${this.cfg.lossRatePct} % at every rate tried down to ${fmt(this.right)} % of line rate`;
    }
    if (this.limitedNote && !message.includes(this.limitedNote)) message = message ? `${message}; ${this.limitedNote}` : this.limitedNote;
    return {
      ...(this.best ? { best: this.best } : {}),
      bestPct: this.bestPct,
      leftPct: this.left,
      rightPct: this.right,
      status,
      message: message || `bracket [${fmt(this.left)}, ${fmt(this.right)}] % of line rate`,
      steps: this.steps,
    };
  }
}

function fmt(x: number): string {
  return Number(x.toFixed(4)).toString();
}
