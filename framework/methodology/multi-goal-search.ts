/**
 * Multi-goal NDR/PDR search: MLRsearch (RFC 9971) as a pure state machine, structured like FD.io CSIT's
 * reference implementation (written from RFC 9971 and a reading of CSIT's design; no code copied).
 *
 * - Several goals at once (e.g. NDR: loss ratio 0, PDR: 0.5 %); every trial counts for every goal.
 * - Loads live on a logarithmic integer grid whose step divides every goal width (load-grid.ts), so a
 *   final interval is exactly one goal width, never narrower than asked.
 * - Each goal has a chain of targets from coarse to fine: the final target (final trial duration,
 *   duration sum, goal width) and `precedingTargets` coarser ones whose duration sums shrink
 *   geometrically to the initial trial duration and whose widths double at each step.
 * - Initial trials (at the coarsest duration): the max load; then the forwarding rate seen there,
 *   divided by (1 − smallest goal loss ratio) and rounded down to the grid; then, if that was low-loss,
 *   one coarsest width above it, else the forwarding rate seen at it, rounded down again.
 * - Then each goal nominates a trial (goal-selector.ts: halve, refine, extend, bisect); the smallest
 *   load wins, then the longest duration, then the widest expected interval.
 * - Loads are classified per goal and target from all trials at that load (load-stats.ts). The search
 *   ends when every goal's final target has both relevant bounds within one goal width (or a limit
 *   is a bound: "irregular").
 * - Result per goal: the relevant lower and upper bounds of its final target and the conditional
 *   throughput at the lower bound (the primary figure).
 * - A generator-limited trial is never DUT loss: the runner backs off (backoff.ts) and the search lowers
 *   its max load below the generator's ceiling (`lowerMaxLoad`, the one place that handles it).
 */
import type { Search, SearchDone, TrialOutcome, TrialRequest } from './types.js';
import { lossRatioOf, trialDurationS } from './types.js';
import { classify, conditionalThroughput, pessimisticLossRatio, type ClassifyParams, type LoadTrial } from './load-stats.js';
import type { MultiGoalOptions, SearchGoal } from './goals.js';
import { LoadGrid } from './load-grid.js';
import { keepInside } from './grid-steps.js';
import { GoalSelector, type Nomination, type SelectorHost, type StepBounds, type StepTarget } from './goal-selector.js';

export interface Target extends ClassifyParams {
  readonly relativeWidth: number;
}

/** Targets from coarse to fine; the last is the goal's final target. Widths double towards the coarse end. */
export function targetChain(g: SearchGoal, preceding: number): Target[] {
  const final: Target = {
    lossRatio: g.lossRatio,
    exceedRatio: g.exceedRatio,
    relativeWidth: g.relativeWidth,
    trialDurationS: g.finalTrialDurationS,
    durationSumS: g.durationSumS,
  };
  const chain: Target[] = [final];
  const n = g.initialTrialDurationS < g.durationSumS ? preceding : 0;
  if (n > 0) {
    const m = Math.pow(g.initialTrialDurationS / g.durationSumS, 1 / n);
    for (let k = 1; k <= n; k++) {
      const sum = k === n ? g.initialTrialDurationS : g.durationSumS * Math.pow(m, k);
      chain.unshift({
        lossRatio: g.lossRatio,
        exceedRatio: g.exceedRatio,
        relativeWidth: g.relativeWidth * Math.pow(2, k),
        trialDurationS: Math.min(g.finalTrialDurationS, sum),
        durationSumS: sum,
      });
    }
  }
  return chain;
}

export interface GoalResult {
  readonly goal: string;
  readonly lossRatio: number;
  readonly exceedRatio: number;
  readonly lowerBoundFps?: number;
  readonly upperBoundFps?: number;
  /** RFC 9971 conditional throughput at the relevant lower bound: the primary figure. */
  readonly conditionalThroughputFps?: number;
  /** Loss ratio used for the conditional throughput (at the lower bound). */
  readonly pessimisticLossRatio?: number;
  /** (upper − lower) / upper. */
  readonly relativeWidth?: number;
  /** Both bounds exist and are within the goal width. */
  readonly regular: boolean;
  readonly status: string;
}

export interface MultiGoalResult {
  readonly goals: readonly GoalResult[];
  readonly trials: number;
  readonly trialTimeS: number;
  readonly maxLoadFps: number;
  readonly minLoadFps: number;
  readonly stoppedBy?: string;
  readonly notes: readonly string[];
}

export interface MultiGoalConfig extends MultiGoalOptions {
  /** Highest load (fps per direction): line rate capped by the generator and max_load_fps. */
  readonly maxLoadFps: number;
}

interface LoadEntry {
  readonly step: number;
  readonly trials: LoadTrial[];
}

/** Where the initial trials are: the next one to measure, or the main loop. */
type Phase = { kind: 'max' } | { kind: 'mrr'; step: number } | { kind: 'mrr2'; mrr: number; step: number } | { kind: 'main' };

/** A pending trial: what to do once it is recorded. */
interface Pending {
  readonly step: number;
  readonly nomination?: Nomination;
  /** A short probe before the nominated longer trial (see `probe`). */
  readonly probe?: boolean;
}

export class MultiGoalSearch implements Search<MultiGoalResult>, SelectorHost {
  private readonly grid: LoadGrid;
  private readonly loads = new Map<number, LoadEntry>();
  private readonly selectors: GoalSelector[];
  /** Coarsest targets' settings used by the initial trials: smallest loss ratio, longest duration, widest width. */
  private readonly initial: { lossRatio: number; durationS: number; widthSteps: number };
  readonly minStep = 0;
  maxStep: number;
  globalWidth = 0;
  private phase: Phase = { kind: 'max' };
  private warmupPending: boolean;
  private trialCount = 0;
  private timeS = 0;
  private stoppedBy: string | undefined;
  private readonly notes: string[] = [];
  private pending: Pending | undefined;

  constructor(private readonly cfg: MultiGoalConfig) {
    if (cfg.goals.length === 0) throw new RangeError('at least one goal is needed');
    if (!(cfg.maxLoadFps > 0)) throw new RangeError(`max load must be > 0, got ${cfg.maxLoadFps}`);
    const minLoad = Math.min(cfg.minLoadFps ?? cfg.maxLoadFps / 1000, cfg.maxLoadFps / 2);
    this.grid = new LoadGrid(
      minLoad,
      cfg.maxLoadFps,
      cfg.goals.map((g) => g.relativeWidth),
    );
    this.maxStep = this.grid.top;
    this.warmupPending = cfg.warmupDurationS > 0;
    const chains = cfg.goals.map((g) => {
      const steps = this.grid.steps(g.relativeWidth);
      const chain = targetChain(g, cfg.precedingTargets);
      return chain.map((t, k): StepTarget => ({ ...t, widthSteps: steps * 2 ** (chain.length - 1 - k) }));
    });
    const first = chains.map((c) => c[0]!);
    this.initial = {
      lossRatio: Math.min(...first.map((t) => t.lossRatio)),
      durationS: Math.max(...first.map((t) => t.trialDurationS)),
      widthSteps: Math.max(...first.map((t) => t.widthSteps)),
    };
    this.selectors = chains.map((c, i) => new GoalSelector(this, c, i, cfg.expansionCoefficient, {}));
  }

  next(): TrialRequest | SearchDone<MultiGoalResult> {
    if (this.warmupPending) return { rateFps: this.grid.fps(this.maxStep), durationS: this.cfg.warmupDurationS, purpose: 'warmup' };
    if (this.stoppedBy) return { done: true, result: this.result() };
    const want = this.phase.kind === 'main' ? this.mainNomination() : this.initialTrial();
    if (!want) return { done: true, result: this.result() };
    if (this.trialCount >= this.cfg.maxTrials) return this.stop(`max_trials (${this.cfg.maxTrials}) reached`);
    if (this.cfg.searchDurationMaxS > 0 && this.timeS + want.durationS > this.cfg.searchDurationMaxS) {
      return this.stop(`search_duration_max_s (${this.cfg.searchDurationMaxS} s) reached`);
    }
    this.pending = { step: want.step, ...(want.nomination ? { nomination: want.nomination } : {}), ...(want.probe ? { probe: true } : {}) };
    return { rateFps: this.grid.fps(want.step), durationS: want.durationS, purpose: want.purpose, ...(want.goal ? { goal: want.goal } : {}) };
  }

  private initialTrial(): { step: number; durationS: number; purpose: string; goal?: string; nomination?: Nomination; probe?: boolean } {
    const durationS = this.initial.durationS;
    // Initial trials serve every goal.
    const goal = this.cfg.goals.map((g) => g.name).join('+');
    switch (this.phase.kind) {
      case 'max':
        return { step: this.maxStep, durationS, purpose: 'initial', goal };
      case 'mrr':
        return { step: this.phase.step, durationS, purpose: 'initial-mrr', goal };
      default:
        return { step: (this.phase as { step: number }).step, durationS, purpose: 'initial-mrr2', goal };
    }
  }

  private mainNomination(): { step: number; durationS: number; purpose: string; goal: string; nomination: Nomination; probe?: boolean } | undefined {
    const noms = this.selectors.map((s) => s.nominate()).filter((n): n is Nomination => n !== undefined);
    if (noms.length === 0) return undefined;
    noms.sort(
      (a, b) =>
        a.step - b.step ||
        b.durationS - a.durationS ||
        (a.width === undefined ? 1 : 0) - (b.width === undefined ? 1 : 0) ||
        (b.width ?? 0) - (a.width ?? 0) ||
        a.goalIndex - b.goalIndex,
    );
    const win = noms[0]!;
    const goals = noms.filter((n) => n.step === win.step).map((n) => this.cfg.goals[n.goalIndex]!.name);
    const goal = [...new Set(goals)].join('+');
    const probeS = this.probeDuration(win);
    if (probeS !== undefined) return { step: win.step, durationS: probeS, purpose: `${win.purpose}-probe`, goal, nomination: win, probe: true };
    return { step: win.step, durationS: win.durationS, purpose: win.purpose, goal, nomination: win };
  }

  /**
   * Not in CSIT: before a longer trial at a load never measured, a trial of the goal's initial duration
   * when (a) a single high-loss one would already make the load an upper bound of the nominating target
   * (exceed ratio 0, or a duration sum so short that one initial trial exceeds the quota) and (b) the
   * load is likely to lose: every trial at a higher load forwarded less than this load would carry at
   * the goal loss ratio (CSIT's own forwarding-rate estimate). A load that loses in the short trial is
   * decided at a fraction of the time; one that does not costs the short trial, and the nominated trial
   * follows. (b) keeps probes off loads that would pass anyway: each extra trial near the capacity of a
   * noisy DUT is one more chance of a bad draw, which with exceed ratio 0 lowers the result. Every trial
   * still counts for every goal.
   */
  private probeDuration(n: Nomination): number | undefined {
    if (this.cfg.csitCompatible) return undefined;
    const sel = this.selectors[n.goalIndex]!;
    const probeS = sel.chain[0]!.trialDurationS;
    if (!(n.durationS > probeS) || this.loads.has(n.step)) return undefined;
    if (!this.likelyHighLoss(n.step, sel.target.lossRatio)) return undefined;
    return classify([{ durationS: probeS, lossRatio: 1 }], sel.target) === 'upper' ? probeS : undefined;
  }

  private stop(why: string): SearchDone<MultiGoalResult> {
    this.stoppedBy = why;
    return { done: true, result: this.result() };
  }

  record(req: TrialRequest, out: TrialOutcome): void {
    if (req.purpose === 'warmup') {
      this.warmupPending = false;
      if (!out.valid) this.generatorLimited(req, out);
      else if (out.backoff) this.lowerMaxLoad(out.backoff.requestedFps, out.backoff.ceilingFps, out.backoff.reason);
      return;
    }
    const pending = this.pending;
    this.pending = undefined;
    if (!out.valid) {
      this.generatorLimited(req, out);
      return;
    }
    const d = trialDurationS(out);
    const lr = lossRatioOf(out.result);
    this.trialCount++;
    this.timeS += d;
    if (out.backoff) {
      // The runner backed off from a generator-limited rate (backoff.ts) to a load off this grid: its time
      // counts, its loss is not attributed to a grid load; the search restarts below the generator's ceiling.
      if (!this.lowerMaxLoad(out.backoff.requestedFps, out.backoff.ceilingFps, out.backoff.reason))
        this.stoppedBy ??= this.belowMinLoad(out.backoff.requestedFps, out.backoff.reason);
      return;
    }
    const step = pending?.step ?? this.grid.floor(req.rateFps);
    let e = this.loads.get(step);
    if (!e) {
      e = { step, trials: [] };
      this.loads.set(step, e);
    }
    e.trials.push({ durationS: d, lossRatio: lr });
    if (this.phase.kind === 'main') {
      const n = pending?.nomination;
      // A probe that did not decide its load leaves the nomination open: the longer trial comes next.
      if (pending?.probe && n && classify(e.trials, this.selectors[n.goalIndex]!.target) !== 'upper') return;
      if (n?.width !== undefined) this.globalWidth = n.width;
      n?.won();
    } else {
      this.afterInitialTrial(step, lr);
    }
  }

  /** The initial trials: max load, then the forwarding-rate estimate rounded down, then one width above it. */
  private afterInitialTrial(step: number, lossRatio: number): void {
    const { lossRatio: ratio, widthSteps: w } = this.initial;
    const limits = { min: this.minStep, max: this.maxStep };
    // Forwarding rate at this load, as the load that would carry it at the goal loss ratio, rounded down.
    const estimate = (): number => this.grid.floor((this.grid.fps(step) * (1 - lossRatio)) / (1 - ratio));
    if (this.phase.kind === 'max') {
      const est = estimate();
      if (est >= this.maxStep) return this.startMain(step, step);
      const mrr = keepInside(est, w, limits);
      if (mrr === undefined) return this.startMain(step, step);
      this.phase = { kind: 'mrr', step: mrr };
      return;
    }
    if (this.phase.kind === 'mrr') {
      const mrr2 = lossRatio > ratio ? keepInside(estimate(), w, { ...limits, hi: step }) : keepInside(step + w, w, { ...limits, lo: step, hi: this.maxStep });
      if (mrr2 === undefined) return this.startMain(step, step);
      this.phase = { kind: 'mrr2', mrr: step, step: mrr2 };
      return;
    }
    if (this.phase.kind === 'mrr2') this.startMain(this.phase.mrr, step);
  }

  private startMain(a: number, b: number): void {
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    this.globalWidth = hi - lo;
    this.phase = { kind: 'main' };
    for (const s of this.selectors) s.restart({ lo, hi });
  }

  /**
   * A trial the generator could not deliver says nothing about the DUT (a runner without back-off, or
   * back-off exhausted): the max load drops below what the generator achieved, or the search stops.
   */
  private generatorLimited(req: TrialRequest, out: TrialOutcome): void {
    if (out.backoffExhausted) {
      this.stoppedBy = out.backoffExhausted;
      return;
    }
    const why = out.invalidReason ?? 'invalid trial';
    if (!this.lowerMaxLoad(req.rateFps, Math.min(req.rateFps, out.result.achievedTxFps), why)) this.stoppedBy = this.belowMinLoad(req.rateFps, why);
  }

  private belowMinLoad(rateFps: number, why: string): string {
    return `generator-limited at ${Math.round(rateFps)} fps (${why}); cannot search below the min load ${Math.round(this.grid.fps(this.minStep))} fps`;
  }

  /**
   * Results above what the generator achieved are its limit, not the DUT's: the max load drops to the
   * grid load at or below 99 % of it and the search starts again from its initial trials there (every
   * trial at or below the new max load still counts). False when that would be at or below the min load.
   */
  private lowerMaxLoad(rateFps: number, achievedFps: number, why: string): boolean {
    const newMax = achievedFps * 0.99;
    const step = this.grid.floor(newMax);
    if (step >= this.maxStep) return true;
    if (!(newMax > this.grid.fps(this.minStep)) || step <= this.minStep) return false;
    this.notes.push(
      `${why} at ${Math.round(rateFps)} fps: max load lowered to ${Math.round(this.grid.fps(step))} fps (results above it are the generator's limit, not the DUT's; the bounds are lower bounds)`,
    );
    this.maxStep = step;
    this.phase = { kind: 'max' };
    for (const sel of this.selectors) sel.restart({});
    return true;
  }

  /**
   * Every trial at a higher load forwarded less than this load would carry at `lossRatio` (and there is
   * one). "Every", not "some": on a noisy DUT one low draw above would fire probes that then pass, and
   * each passing probe is a second draw before the long trial.
   */
  private likelyHighLoss(step: number, lossRatio: number): boolean {
    const fps = this.grid.fps(step);
    let seen = false;
    for (const [s, e] of this.loads) {
      if (s <= step) continue;
      for (const t of e.trials) {
        if ((this.grid.fps(s) * (1 - t.lossRatio)) / (1 - lossRatio) >= fps) return false;
        seen = true;
      }
    }
    return seen;
  }

  /** Relevant bounds under a target: the smallest upper bound, and the largest lower bound below it. */
  bounds(t: StepTarget): StepBounds {
    const steps = [...this.loads.keys()].filter((s) => s <= this.maxStep).sort((a, b) => a - b);
    let lo: number | undefined;
    for (const s of steps) {
      const cls = classify(this.loads.get(s)!.trials, t);
      if (cls === 'upper') return { ...(lo !== undefined ? { lo } : {}), hi: s };
      if (cls === 'lower') lo = s;
    }
    return lo !== undefined ? { lo } : {};
  }

  private goalStatus(s: GoalSelector, b: StepBounds): string {
    if (!s.finished) return `incomplete: ${this.stoppedBy ?? 'search ended'} (target ${s.targetIndex + 1} of ${s.chain.length})`;
    const w = s.target.widthSteps;
    if (b.lo !== undefined && b.hi !== undefined && b.hi - b.lo <= w) return 'regular';
    if (b.hi === undefined && b.lo !== undefined && b.lo >= this.maxStep) return 'irregular: max load is a lower bound';
    if (b.lo === undefined && b.hi !== undefined && b.hi <= this.minStep) return 'irregular: min load is an upper bound';
    return 'irregular: no bracket within the goal width';
  }

  private result(): MultiGoalResult {
    const goals: GoalResult[] = this.selectors.map((s) => {
      const g = this.cfg.goals[s.goalIndex]!;
      const t = s.chain[s.chain.length - 1]!;
      const b = this.bounds(t);
      const lo = b.lo !== undefined ? this.grid.fps(b.lo) : undefined;
      const hi = b.hi !== undefined ? this.grid.fps(b.hi) : undefined;
      const trials = b.lo !== undefined ? this.loads.get(b.lo)!.trials : undefined;
      const status = this.goalStatus(s, b);
      return {
        goal: g.name,
        lossRatio: g.lossRatio,
        exceedRatio: g.exceedRatio,
        ...(lo !== undefined ? { lowerBoundFps: lo } : {}),
        ...(hi !== undefined ? { upperBoundFps: hi } : {}),
        ...(lo !== undefined && trials
          ? { conditionalThroughputFps: conditionalThroughput(lo, trials, t), pessimisticLossRatio: pessimisticLossRatio(trials, t) }
          : {}),
        ...(lo !== undefined && hi !== undefined ? { relativeWidth: (hi - lo) / hi } : {}),
        regular: status === 'regular',
        status,
      };
    });
    return {
      goals,
      trials: this.trialCount,
      trialTimeS: this.timeS,
      maxLoadFps: this.grid.fps(this.maxStep),
      minLoadFps: this.grid.fps(this.minStep),
      ...(this.stoppedBy ? { stoppedBy: this.stoppedBy } : {}),
      notes: this.notes,
    };
  }
}
