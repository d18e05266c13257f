/**
 * Integer load arithmetic of the multi-goal search (loads are LoadGrid indices): where to split an
 * interval, and how to keep a proposed load away from the limits and the known bounds.
 */

/**
 * The load to measure inside (lo, hi) for a target of `width` steps. Splits so that one part is a
 * power-of-two multiple of the width (then every later interval stays a whole number of widths and
 * the search ends on exactly one width), choosing the most even such split and putting the smaller
 * part below. An interval under two widths is halved as evenly as the grid allows.
 */
export function middle(lo: number, hi: number, width: number): number {
  const d = hi - lo;
  if (d <= width) throw new RangeError(`interval of ${d} steps is not wider than ${width}`);
  if (d === 2 * width) return lo + width;
  if (d < 2 * width) return width % 2 === 0 ? middle(lo, hi, width / 2) : lo + Math.floor(d / 2);
  let best = width;
  for (let p = width * 2; p < d; p *= 2) if (p * (d - p) >= best * (d - best)) best = p;
  return lo + Math.min(best, d - best);
}

/** Known relevant bounds (grid steps) and the search's own limits. */
export interface Limits {
  readonly lo?: number;
  readonly hi?: number;
  readonly min: number;
  readonly max: number;
}

/**
 * Moves a proposed load to where a trial is worth it: strictly inside the known bounds and at least
 * `width` away from them, or onto a search limit (min/max load) when it falls within `width` of one.
 * Undefined when there is no such place (the bounds are already close enough).
 */
export function keepInside(load: number, width: number, l: Limits): number | undefined {
  if (l.lo === undefined && l.hi === undefined) return settle(load, width, l.min, l.max, false, false);
  if (l.lo === undefined) {
    if (l.hi! <= l.min || load >= l.hi!) return undefined;
    return settle(load, width, l.min, l.hi!, false, true);
  }
  if (l.hi === undefined) {
    if (l.lo >= l.max || load <= l.lo) return undefined;
    return settle(load, width, l.lo, l.max, true, false);
  }
  if (!(l.lo < load && load < l.hi)) return undefined;
  return settle(load, width, l.lo, l.hi, true, true);
}

/** `load` within [a, b]; an excluded end keeps one width away, an included end absorbs loads within one width. */
function settle(load: number, width: number, a: number, b: number, aExcluded: boolean, bExcluded: boolean): number | undefined {
  const x = Math.min(b, Math.max(a, load));
  if (width >= b - a) return !aExcluded ? a : !bExcluded ? b : undefined;
  let softA = a + width;
  let softB = b - width;
  if (softA > softB) softA = softB = middle(a, b, width);
  if (x < softA) return aExcluded ? softA : a;
  if (x > softB) return bExcluded ? softB : b;
  return x;
}
