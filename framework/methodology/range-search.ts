/**
 * NFVbench's single-pass NDR/PDR range search (nfvbench/traffic_client.py `__range_search`), as a pure
 * state machine, for comparison benchmarks. Loads are % of line rate per direction on [0, 200]; the first
 * trial is the midpoint 100 %. Each trial is compared with every remaining target (drop % ≤ target %);
 * targets that pass go right, the others left; the left half is searched first; a target is "found" at
 * the left end once the interval is narrower than load_epsilon, or at 100 % when a midpoint ≥ 100 passes.
 */
import type { Search, SearchDone, TrialOutcome, TrialRequest } from './types.js';

export interface RangeTarget {
  readonly name: string;
  /** Allowed drop (%). */
  readonly dropPct: number;
}

export interface RangeSearchConfig {
  readonly targets: readonly RangeTarget[];
  readonly lineRateFps: number;
  /** Interval width (% points) below which targets are found (NFVbench load_epsilon 0.1). */
  readonly loadEpsilonPct: number;
  readonly durationS: number;
}

export interface RangeFound {
  readonly name: string;
  /** Load found (% of line rate per direction). */
  readonly loadPct: number;
  readonly loadFps: number;
  readonly outcome?: TrialOutcome;
}

interface Frame {
  readonly left: number;
  readonly right: number;
  readonly targets: RangeTarget[];
}

export class RangeSearch implements Search<RangeFound[]> {
  private readonly stack: Frame[];
  private readonly found = new Map<string, RangeFound>();
  private readonly best = new Map<string, TrialOutcome>();
  private pendingMid: number | undefined;

  constructor(private readonly cfg: RangeSearchConfig) {
    this.stack = [{ left: 0, right: 200, targets: [...cfg.targets] }];
  }

  private setFound(t: RangeTarget, loadPct: number): void {
    const o = this.best.get(t.name);
    this.found.set(t.name, { name: t.name, loadPct, loadFps: (loadPct / 100) * this.cfg.lineRateFps, ...(o ? { outcome: o } : {}) });
  }

  next(): TrialRequest | SearchDone<RangeFound[]> {
    for (;;) {
      const f = this.stack[this.stack.length - 1];
      if (!f) return { done: true, result: this.cfg.targets.map((t) => this.found.get(t.name) ?? { name: t.name, loadPct: 0, loadFps: 0 }) };
      if (f.targets.length === 0) {
        this.stack.pop();
        continue;
      }
      if (f.right - f.left < this.cfg.loadEpsilonPct) {
        this.stack.pop();
        for (const t of f.targets) this.setFound(t, f.left);
        continue;
      }
      const mid = (f.left + f.right) / 2;
      this.pendingMid = mid;
      return { rateFps: (Math.min(mid, 100) / 100) * this.cfg.lineRateFps, durationS: this.cfg.durationS, purpose: 'range' };
    }
  }

  record(_req: TrialRequest, out: TrialOutcome): void {
    const f = this.stack.pop()!;
    const mid = this.pendingMid!;
    const r = out.result;
    const dropPct = r.txFrames > 0 ? ((r.txFrames - r.rxFrames) / r.txFrames) * 100 : 100;
    const left: RangeTarget[] = [];
    const right: RangeTarget[] = [];
    for (const t of f.targets) {
      if (out.valid && dropPct <= t.dropPct) {
        this.best.set(t.name, out);
        right.push(t);
      } else left.push(t);
    }
    // Left half first (pushed last), then the right half.
    if (right.length > 0) {
      if (mid >= 100) for (const t of right) this.setFound(t, 100);
      else this.stack.push({ left: mid, right: f.right, targets: right });
    }
    if (left.length > 0) this.stack.push({ left: f.left, right: mid, targets: left });
  }
}
