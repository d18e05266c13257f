/**
 * The load grid of the multi-goal search: loads are integers on a logarithmic scale, so that a relative
 * width is a whole number of steps and halving, doubling and "one width above" are exact integer
 * operations (RFC 9971 leaves the rounding to the implementation; FD.io CSIT's MLRsearch uses such a
 * grid too, and this one follows the same rule so that both search on identical loads).
 *
 * Step 0 is the min load, step `top` the max load, step i the load min × e^(i·unit) between them. `top`
 * is the smallest step count for which every goal's relative width is a whole number of steps covering
 * 99 %–99.9999 % of it: an interval of that many steps always meets the goal (float rounding cannot
 * make it wider) and is never much narrower than asked.
 */

/** Accepted share of a goal width that its whole number of steps may represent. */
const MIN_QUALITY = 0.99;
const MAX_QUALITY = 0.999999;

export class LoadGrid {
  /** Log width of one step. */
  readonly unit: number;
  /** Index of the max load (the min load is index 0). */
  readonly top: number;

  constructor(
    readonly minLoadFps: number,
    readonly maxLoadFps: number,
    relativeWidths: readonly number[],
  ) {
    if (!(minLoadFps > 0 && minLoadFps < maxLoadFps)) throw new RangeError(`load grid needs 0 < min (${minLoadFps}) < max (${maxLoadFps})`);
    const span = Math.log(maxLoadFps / minLoadFps);
    this.top = LoadGrid.stepCount(span, relativeWidths);
    this.unit = span / this.top;
  }

  /** The smallest step count over `span` (log) at which every width is a whole number of steps within the quality window. */
  static stepCount(span: number, relativeWidths: readonly number[]): number {
    const logs = relativeWidths.map((w) => -Math.log1p(-w));
    const fits = (n: number): boolean =>
      logs.every((l) => {
        const units = (l * n) / span;
        const q = Math.floor(units) / units;
        return q >= MIN_QUALITY && q <= MAX_QUALITY;
      });
    // Below this count the narrowest width is less than one step (or exactly one, which float rounding could widen).
    let n = Math.max(1, Math.ceil(span / (Math.min(...logs) * MAX_QUALITY)));
    while (!fits(n)) n++;
    return n;
  }

  /** Steps of a relative width, rounded down (never wider than the width). */
  steps(relativeWidth: number): number {
    let k = Math.floor(-Math.log1p(-relativeWidth) / this.unit);
    while (k > 1 && this.relativeWidth(k) > relativeWidth) k--;
    return Math.max(1, k);
  }

  /** Load (fps) of a grid index, clamped to [0, top]. */
  fps(i: number): number {
    if (i <= 0) return this.minLoadFps;
    if (i >= this.top) return this.maxLoadFps;
    return this.minLoadFps * Math.exp(i * this.unit);
  }

  /** Largest grid index whose load is ≤ fps (0 below the min load, top above the max load). */
  floor(fps: number): number {
    if (!(fps > this.minLoadFps)) return 0;
    if (fps >= this.maxLoadFps) return this.top;
    let i = Math.floor(Math.log(fps / this.minLoadFps) / this.unit);
    // exp/log may be off by an ulp at a grid point: settle on the exact answer.
    while (i + 1 <= this.top && this.fps(i + 1) <= fps) i++;
    while (i > 0 && this.fps(i) > fps) i--;
    return Math.max(0, i);
  }

  /** Relative width (hi − lo) / hi of an interval given in steps. */
  relativeWidth(steps: number): number {
    return -Math.expm1(-steps * this.unit);
  }
}
