// Bench only: the multi-goal search as it was before issue 17 (linear midpoints on a 0.001 fps grid), kept
// so that `npm run bench -- search` measures the gain of the current search in one run. Not used at run time.
/**
 * Multi-goal NDR/PDR search in the spirit of MLRsearch (RFC 9971), as a pure state machine.
 *
 * - Several goals at once (e.g. NDR: loss ratio 0, PDR: 0.5 %); every trial counts for every goal.
 * - Each goal has a chain of targets from coarse to fine: short trials, small duration sums and wide
 *   widths first, the goal's final trial duration / duration sum / relative width last. Width doubles
 *   at each coarser step; duration sums shrink geometrically down to the initial trial duration.
 * - Loads are classified per goal and target from all trials at that load (load-stats.ts: exceed ratio,
 *   short trials cancelling, duration sum); the relevant lower bound is the largest lower bound below
 *   the smallest upper bound.
 * - Each goal nominates one trial per step (halve the bracket inherited from the coarser target,
 *   refine an undecided load, bisect, or extend outward with a growing step, seeded by the forwarding
 *   rate seen at the upper bound); the smallest load wins, then the longest duration.
 * - Result per goal: relevant lower and upper bound under its final target and the conditional
 *   throughput at the lower bound; "irregular" when max load is a lower bound or min load an upper bound.
 * - A generator-limited trial is never DUT loss: the max load is lowered to what the generator achieved.
 */
import type { Search, SearchDone, TrialOutcome, TrialRequest } from '../../framework/methodology/types.js';
import { lossRatioOf, trialDurationS } from '../../framework/methodology/types.js';
import {
  classify,
  conditionalThroughput,
  pessimisticLossRatio,
  type ClassifyParams,
  type LoadClass,
  type LoadTrial,
} from '../../framework/methodology/load-stats.js';
import type { MultiGoalOptions, SearchGoal } from '../../framework/methodology/goals.js';

export interface Target extends ClassifyParams {
  readonly relativeWidth: number;
}

/** Targets from coarse to fine; the last is the goal's final target. */
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
        // Coarse targets decide on one short trial when the goal tolerates no exceeding.
        exceedRatio: g.exceedRatio,
        relativeWidth: Math.min(0.5, g.relativeWidth * Math.pow(2, k)),
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

interface LoadEntry {
  readonly load: number;
  readonly trials: Array<LoadTrial & { fwdFps: number }>;
}

interface Nomination {
  readonly load: number;
  readonly durationS: number;
  readonly purpose: string;
  readonly goalIndex: number;
}

interface GoalState {
  readonly goal: SearchGoal;
  readonly chain: readonly Target[];
  targetIndex: number;
  finished: boolean;
  /** Bounds when the previous target finished (for halving). */
  inherited?: { lo?: number; hi?: number };
  halved: boolean;
  extendsUp: number;
  extendsDown: number;
  /** Why the final target finished: 'regular', 'regular (load grid …)' or 'irregular: …'. */
  irregular?: string;
}

export interface MultiGoalConfig extends MultiGoalOptions {
  /** Highest load (fps per direction): line rate capped by the generator and max_load_fps. */
  readonly maxLoadFps: number;
}

/** Loads live on a 0.001 fps grid so that repeated trials at one load aggregate exactly. */
const GRID = 0.001;
const round = (x: number): number => Math.round(x * 1000) / 1000;

export class MultiGoalSearch implements Search<MultiGoalResult> {
  private readonly loads = new Map<number, LoadEntry>();
  private readonly goals: GoalState[];
  private maxLoad: number;
  private readonly minLoad: number;
  private warmupPending: boolean;
  private trialCount = 0;
  private timeS = 0;
  private stoppedBy: string | undefined;
  private readonly notes: string[] = [];
  private pending: Nomination | undefined;

  constructor(private readonly cfg: MultiGoalConfig) {
    if (cfg.goals.length === 0) throw new RangeError('at least one goal is needed');
    this.maxLoad = round(cfg.maxLoadFps);
    this.minLoad = round(Math.min(cfg.minLoadFps ?? cfg.maxLoadFps / 1000, this.maxLoad / 2));
    this.warmupPending = cfg.warmupDurationS > 0;
    this.goals = cfg.goals.map((g) => ({
      goal: g,
      chain: targetChain(g, cfg.precedingTargets),
      targetIndex: 0,
      finished: false,
      halved: false,
      extendsUp: 0,
      extendsDown: 0,
    }));
  }

  next(): TrialRequest | SearchDone<MultiGoalResult> {
    if (this.warmupPending) {
      return { rateFps: this.maxLoad, durationS: this.cfg.warmupDurationS, purpose: 'warmup' };
    }
    if (this.stoppedBy) return { done: true, result: this.result() };
    const noms: Nomination[] = [];
    for (let i = 0; i < this.goals.length; i++) {
      const n = this.nominate(i);
      if (n) noms.push(n);
    }
    if (noms.length === 0) return { done: true, result: this.result() };
    if (this.trialCount >= this.cfg.maxTrials) return this.stop(`max_trials (${this.cfg.maxTrials}) reached`);
    noms.sort((a, b) => a.load - b.load || b.durationS - a.durationS || a.goalIndex - b.goalIndex);
    const win = noms[0]!;
    if (this.cfg.searchDurationMaxS > 0 && this.timeS + win.durationS > this.cfg.searchDurationMaxS) {
      return this.stop(`search_duration_max_s (${this.cfg.searchDurationMaxS} s) reached`);
    }
    this.pending = win;
    const goalsHere = noms.filter((n) => n.load === win.load).map((n) => this.goals[n.goalIndex]!.goal.name);
    return { rateFps: win.load, durationS: win.durationS, purpose: win.purpose, goal: [...new Set(goalsHere)].join('+') };
  }

  private stop(why: string): SearchDone<MultiGoalResult> {
    this.stoppedBy = why;
    return { done: true, result: this.result() };
  }

  record(req: TrialRequest, out: TrialOutcome): void {
    if (req.purpose === 'warmup') {
      this.warmupPending = false;
      if (!out.valid) this.onInvalid(req, out);
      return;
    }
    const nom = this.pending;
    this.pending = undefined;
    if (!out.valid) {
      this.onInvalid(req, out);
      return;
    }
    this.trialCount++;
    const d = trialDurationS(out);
    this.timeS += d;
    const load = round(req.rateFps);
    let e = this.loads.get(load);
    if (!e) {
      e = { load, trials: [] };
      this.loads.set(load, e);
    }
    const lr = lossRatioOf(out.result);
    e.trials.push({ durationS: d, lossRatio: lr, fwdFps: load * (1 - lr) });
    if (nom) {
      const g = this.goals[nom.goalIndex]!;
      if (nom.purpose.startsWith('extend-up')) g.extendsUp++;
      if (nom.purpose.startsWith('extend-down')) g.extendsDown++;
      if (nom.purpose === 'halve') g.halved = true;
    }
  }

  private onInvalid(req: TrialRequest, out: TrialOutcome): void {
    const achieved = Math.min(req.rateFps, out.result.achievedTxFps);
    const newMax = round(achieved * 0.99);
    this.notes.push(
      `${out.invalidReason ?? 'invalid trial'} at ${Math.round(req.rateFps)} fps: max load lowered to ${Math.round(newMax)} fps (results above it are the generator's limit, not the DUT's)`,
    );
    if (!(newMax > this.minLoad) || newMax >= this.maxLoad) {
      this.stoppedBy = `generator-limited at ${Math.round(req.rateFps)} fps (${out.invalidReason ?? 'invalid'}); cannot search below the min load ${Math.round(this.minLoad)} fps`;
      return;
    }
    this.maxLoad = newMax;
    for (const g of this.goals) {
      g.extendsUp = 0;
      g.halved = true;
    }
  }

  /** Classification of every measured load ≤ max load, for one target. */
  private classes(t: Target): Array<{ load: number; cls: LoadClass; entry: LoadEntry }> {
    const out: Array<{ load: number; cls: LoadClass; entry: LoadEntry }> = [];
    for (const e of this.loads.values()) if (e.load <= this.maxLoad) out.push({ load: e.load, cls: classify(e.trials, t), entry: e });
    return out.sort((a, b) => a.load - b.load);
  }

  /** Relevant bounds under a target. */
  private bounds(t: Target): { lo?: number; hi?: number; classes: ReturnType<MultiGoalSearch['classes']> } {
    const classes = this.classes(t);
    const hi = classes.find((c) => c.cls === 'upper')?.load;
    let lo: number | undefined;
    for (const c of classes) if (c.cls === 'lower' && (hi === undefined || c.load < hi)) lo = c.load;
    return { ...(lo !== undefined ? { lo } : {}), ...(hi !== undefined ? { hi } : {}), classes };
  }

  private width(lo: number, hi: number): number {
    return (hi - lo) / hi;
  }

  /** Is a target finished? Returns the reason when it is. */
  private targetDone(t: Target, lo: number | undefined, hi: number | undefined): string | undefined {
    if (lo !== undefined && hi !== undefined && this.width(lo, hi) <= t.relativeWidth + 1e-12) return 'regular';
    if (lo !== undefined && hi !== undefined) {
      const mid = round((lo + hi) / 2);
      if (mid <= lo || mid >= hi) return 'regular (load grid resolution reached)';
    }
    if (hi === undefined && lo !== undefined && lo >= this.maxLoad) return 'irregular: max load is a lower bound';
    if (lo === undefined && hi !== undefined && hi <= this.minLoad) return 'irregular: min load is an upper bound';
    return undefined;
  }

  private nominate(gi: number): Nomination | undefined {
    const g = this.goals[gi]!;
    for (;;) {
      if (g.finished) return undefined;
      const t = g.chain[g.targetIndex]!;
      const { lo, hi, classes } = this.bounds(t);
      const done = this.targetDone(t, lo, hi);
      if (done) {
        if (g.targetIndex === g.chain.length - 1) {
          g.finished = true;
          g.irregular = done;
          return undefined;
        }
        g.targetIndex++;
        g.inherited = { ...(lo !== undefined ? { lo } : {}), ...(hi !== undefined ? { hi } : {}) };
        g.halved = false;
        g.extendsUp = 0;
        g.extendsDown = 0;
        continue;
      }
      const nom = (load: number, purpose: string): Nomination => ({ load: round(load), durationS: t.trialDurationS, purpose, goalIndex: gi });
      const inside = (x: number): boolean => (lo === undefined || x > lo) && (hi === undefined || x < hi);
      // 1. Halve the bracket inherited from the coarser target (once), at this target's duration.
      const inh = g.inherited;
      if (!g.halved && inh?.lo !== undefined && inh.hi !== undefined && this.width(inh.lo, inh.hi) > t.relativeWidth) {
        const mid = round((inh.lo + inh.hi) / 2);
        if (inside(mid) && !this.loads.has(mid) && mid > inh.lo && mid < inh.hi) return nom(mid, 'halve');
        g.halved = true;
      }
      // 2. Refine an undecided load inside the bracket: the highest one that looks low-loss, else the lowest.
      const undecided = classes.filter((c) => c.cls === 'undecided' && inside(c.load));
      if (undecided.length > 0) {
        const looksLow = undecided.filter((c) => {
          const lowT = c.entry.trials.filter((x) => x.lossRatio <= t.lossRatio).reduce((a, x) => a + x.durationS, 0);
          const highT = c.entry.trials.filter((x) => x.lossRatio > t.lossRatio).reduce((a, x) => a + x.durationS, 0);
          return lowT >= highT;
        });
        const pick = looksLow.length > 0 ? looksLow[looksLow.length - 1]! : undecided[0]!;
        return nom(pick.load, looksLow.length > 0 ? 'refine-lo' : 'refine-hi');
      }
      // 3. Bisect, or extend outward when a bound is missing.
      if (lo !== undefined && hi !== undefined) return nom((lo + hi) / 2, 'bisect');
      if (lo !== undefined) {
        const step = t.relativeWidth * Math.pow(this.cfg.expansionCoefficient, g.extendsUp);
        return nom(Math.min(this.maxLoad, Math.max(lo + GRID, lo / (1 - Math.min(0.5, step)))), `extend-up`);
      }
      if (hi !== undefined) {
        const step = t.relativeWidth * Math.pow(this.cfg.expansionCoefficient, g.extendsDown);
        let cand = hi * (1 - Math.min(0.5, step));
        if (g.extendsDown === 0) {
          // Seed from the forwarding rate seen at the upper bound (MLRsearch's "mrr").
          const e = this.loads.get(hi)!;
          const fwd = Math.min(...e.trials.map((x) => x.fwdFps));
          const mrr = fwd / (1 - t.lossRatio);
          if (mrr < cand && mrr > 0) cand = mrr;
        }
        return nom(Math.max(this.minLoad, Math.min(hi - GRID, cand)), 'extend-down');
      }
      return nom(this.maxLoad, 'initial');
    }
  }

  private result(): MultiGoalResult {
    const goals: GoalResult[] = this.goals.map((g) => {
      const t = g.chain[g.chain.length - 1]!;
      const { lo, hi } = this.bounds(t);
      const entry = lo !== undefined ? this.loads.get(lo) : undefined;
      const ct = lo !== undefined && entry ? conditionalThroughput(lo, entry.trials, t) : undefined;
      const plr = entry ? pessimisticLossRatio(entry.trials, t) : undefined;
      const width = lo !== undefined && hi !== undefined ? this.width(lo, hi) : undefined;
      const regular = lo !== undefined && hi !== undefined && (width! <= t.relativeWidth + 1e-12 || (g.irregular ?? '').startsWith('regular'));
      const status = g.finished
        ? (g.irregular ?? 'regular')
        : `incomplete: ${this.stoppedBy ?? 'search ended'} (target ${g.targetIndex + 1} of ${g.chain.length})`;
      return {
        goal: g.goal.name,
        lossRatio: g.goal.lossRatio,
        exceedRatio: g.goal.exceedRatio,
        ...(lo !== undefined ? { lowerBoundFps: lo } : {}),
        ...(hi !== undefined ? { upperBoundFps: hi } : {}),
        ...(ct !== undefined ? { conditionalThroughputFps: ct } : {}),
        ...(plr !== undefined ? { pessimisticLossRatio: plr } : {}),
        ...(width !== undefined ? { relativeWidth: width } : {}),
        regular: regular && g.finished,
        status,
      };
    });
    return {
      goals,
      trials: this.trialCount,
      trialTimeS: this.timeS,
      maxLoadFps: this.maxLoad,
      minLoadFps: this.minLoad,
      ...(this.stoppedBy ? { stoppedBy: this.stoppedBy } : {}),
      notes: this.notes,
    };
  }
}
