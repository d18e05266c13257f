/**
 * One goal's part of the multi-goal search (RFC 9971's controller, as FD.io CSIT's MLRsearch structures
 * it): the goal works through its targets from coarse to fine and, at each step, nominates one trial
 * from the first strategy that has something worth measuring:
 *
 * 1. halve    — the bracket inherited from the coarser target, when it is 1–2 widths wide;
 * 2. refine-lo, refine-hi — re-measure the inherited lower / upper bound at this target's duration;
 * 3. extend-lo, extend-hi — a bound is missing: step below the upper (above the lower) bound, the step
 *    growing by the expansion coefficient each time the missing bound does not appear;
 * 4. bisect   — split the bracket (grid-steps.ts `middle`), or extend first when the bracket has moved
 *    away from the inherited one (the true value is then likely just past the new bound).
 *
 * "Not worth measuring": outside the current bracket, or the bracket is already one width or less.
 * Loads are LoadGrid steps; widths are step counts.
 */
import { keepInside, middle } from './grid-steps.js';
import type { ClassifyParams } from './load-stats.js';

export interface StepTarget extends ClassifyParams {
  /** Nominal relative width of the target. */
  readonly relativeWidth: number;
  /** The same width in grid steps (the final target's steps × 2^k for the k-th coarser one). */
  readonly widthSteps: number;
}

export interface StepBounds {
  readonly lo?: number;
  readonly hi?: number;
}

/** What a selector needs from the search: the relevant bounds under a target and the load limits. */
export interface SelectorHost {
  bounds(t: StepTarget): StepBounds;
  readonly minStep: number;
  readonly maxStep: number;
  /** The width of the last measured nomination, shared by all goals (a hint for the next extension). */
  globalWidth: number;
}

export interface Nomination {
  readonly step: number;
  readonly durationS: number;
  /** Interval width the trial is expected to leave (orders equal nominations; sets the global width). */
  readonly width?: number;
  readonly purpose: string;
  readonly goalIndex: number;
  /** Called after the trial was measured and recorded. */
  readonly won: () => void;
}

type Proposal = { step: number; width: number; purpose: string; won?: (b: StepBounds, step: number) => void };

export class GoalSelector {
  private index = 0;
  private initLo: number | undefined;
  private initHi: number | undefined;
  /** Next extension width of the current target (before max with the global width). */
  private nextWidth = 0;
  /** The final target was reached at the last nomination (a later trial may reopen it). */
  finished = false;

  constructor(
    private readonly host: SelectorHost,
    readonly chain: readonly StepTarget[],
    readonly goalIndex: number,
    private readonly expansion: number,
    initial: StepBounds,
  ) {
    this.restart(initial);
  }

  /** Starts again at the coarsest target from two initial loads (after the initial trials). */
  restart(initial: StepBounds): void {
    this.index = 0;
    this.finished = false;
    this.enter(initial.lo, initial.hi);
  }

  get target(): StepTarget {
    return this.chain[this.index]!;
  }

  get targetIndex(): number {
    return this.index;
  }

  private enter(lo: number | undefined, hi: number | undefined): void {
    this.initLo = lo;
    this.initHi = hi;
    const w = this.target.widthSteps;
    this.nextWidth = Math.max(w, lo !== undefined && hi !== undefined ? hi - lo : 0) * this.expansion;
  }

  private expand(): void {
    this.nextWidth *= this.expansion;
    this.host.globalWidth = this.nextWidth;
  }

  private limitTo(lastWidth: number): void {
    this.nextWidth = Math.max(lastWidth, this.target.widthSteps) * this.expansion;
  }

  private extensionWidth(): number {
    return Math.max(this.host.globalWidth, this.nextWidth);
  }

  /** The next trial this goal wants, or undefined when its final target is reached. */
  nominate(): Nomination | undefined {
    let b = this.host.bounds(this.target);
    for (;;) {
      const p = this.propose(b);
      if (p) {
        this.finished = false;
        const won = p.won;
        return {
          step: p.step,
          durationS: this.target.trialDurationS,
          width: p.width,
          purpose: p.purpose,
          goalIndex: this.goalIndex,
          won: () => won?.(this.host.bounds(this.target), p.step),
        };
      }
      if (this.index === this.chain.length - 1) {
        this.finished = true;
        return undefined;
      }
      this.index++;
      this.enter(b.lo, b.hi);
      b = this.host.bounds(this.target);
    }
  }

  private notWorth(b: StepBounds, step: number): boolean {
    if (b.lo !== undefined && b.lo >= step) return true;
    if (b.hi !== undefined && b.hi <= step) return true;
    return b.lo !== undefined && b.hi !== undefined && b.hi - b.lo <= this.target.widthSteps;
  }

  private limits(b: StepBounds): { lo?: number; hi?: number; min: number; max: number } {
    return { ...b, min: this.host.minStep, max: this.host.maxStep };
  }

  private propose(b: StepBounds): Proposal | undefined {
    return (
      this.halve(b) ??
      this.refine(b, this.initLo, 'refine-lo') ??
      this.refine(b, this.initHi, 'refine-hi') ??
      this.extendLo(b) ??
      this.extendHi(b) ??
      this.bisect(b)
    );
  }

  private halve(b: StepBounds): Proposal | undefined {
    const w = this.target.widthSteps;
    if (this.initLo === undefined || this.initHi === undefined) return undefined;
    const d = this.initHi - this.initLo;
    if (d <= w || d > 2 * w) return undefined;
    const step = middle(this.initLo, this.initHi, w);
    if (this.notWorth(b, step)) return undefined;
    this.limitTo(w);
    return { step, width: w, purpose: 'halve' };
  }

  private refine(b: StepBounds, step: number | undefined, purpose: string): Proposal | undefined {
    if (step === undefined || this.notWorth(b, step)) return undefined;
    this.limitTo(this.target.widthSteps);
    return { step, width: this.target.widthSteps, purpose };
  }

  private extendLo(b: StepBounds): Proposal | undefined {
    if (b.lo !== undefined || b.hi === undefined || b.hi <= this.host.minStep) return undefined;
    const width = this.extensionWidth();
    const step = keepInside(b.hi - width, this.target.widthSteps, this.limits(b));
    if (step === undefined || this.notWorth(b, step)) return undefined;
    return { step, width, purpose: 'extend-lo', won: (nb, s) => (nb.hi === s ? this.expand() : undefined) };
  }

  private extendHi(b: StepBounds): Proposal | undefined {
    if (b.hi !== undefined || b.lo === undefined || b.lo >= this.host.maxStep) return undefined;
    const width = this.extensionWidth();
    const step = keepInside(b.lo + width, this.target.widthSteps, this.limits(b));
    if (step === undefined || this.notWorth(b, step)) return undefined;
    return { step, width, purpose: 'extend-hi', won: (nb, s) => (nb.lo === s ? this.expand() : undefined) };
  }

  private bisect(b: StepBounds): Proposal | undefined {
    const w = this.target.widthSteps;
    if (b.lo === undefined || b.lo >= this.host.maxStep || b.hi === undefined || b.hi <= this.host.minStep) return undefined;
    if (b.hi - b.lo <= w) return undefined;
    const mid = middle(b.lo, b.hi, w);
    // The upper bound fell below the inherited one: the edge is likely just under it, look there first.
    if (this.initHi !== undefined && mid < this.initHi) {
      const width = this.extensionWidth();
      const step = keepInside(b.hi - width, w, this.limits(b));
      if (step !== undefined && step > mid && step < this.initHi)
        return { step, width, purpose: 'extend-lo', won: (nb, s) => (nb.hi === s ? this.expand() : undefined) };
    }
    // Likewise above a lower bound that rose over the inherited one.
    if (this.initLo !== undefined && mid > this.initLo) {
      const width = this.extensionWidth();
      const step = keepInside(b.lo + width, w, this.limits(b));
      if (step !== undefined && step < mid && step > this.initLo)
        return { step, width, purpose: 'extend-hi', won: (nb, s) => (nb.lo === s ? this.expand() : undefined) };
    }
    if (this.notWorth(b, mid)) return undefined;
    const width = Math.min(mid - b.lo, b.hi - mid);
    this.limitTo(width);
    return { step: mid, width, purpose: 'bisect' };
  }
}
