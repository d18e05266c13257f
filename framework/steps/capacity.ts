/**
 * Whether a failing `tools assert` on a traffic result failed because the sandbox could not carry the
 * traffic the check needs, rather than because the switch did something wrong. Pure: the rows, what
 * is known about each row's trial, and the assertion's text in; a verdict out.
 *
 * The check is re-evaluated with the row's received rate set to other values (nothing else changed):
 * the lowest received rate at which it would pass is what the check needs. The failure is the
 * sandbox's only when
 *   - the generator sent less than the testcase asked for (it was capped or fell short), and
 *   - even a switch that forwarded every frame it was offered could not have passed: the check needs
 *     more than the generator sent (or, when the switch could not hand frames to a VNF, more than the
 *     VNF forwarded), and
 *   - the switch's own policy (policer, QoS) dropped nothing in that trial: a policer that cut the
 *     traffic below what the check needs is the switch's doing, whatever the sandbox's speed.
 * A check that needs less traffic than was received (a policer that was not applied), or that passes
 * at no higher rate, stays an ordinary failure.
 */
import { evalExpression } from './expr.js';
import { expandParam, parseSubscripts, type MacroContext } from './macros.js';
import { pyIndex, pyTruthy, type PyValue } from './pyvalue.js';

/** What the trial behind one result row showed about the sandbox. */
export interface RowEvidence {
  /** Frame size of the row (bytes). */
  readonly frameSize: number;
  /** Rate the testcase asked for (fps, per direction): TRAFFIC.frame_rate of line rate. */
  readonly requestedFps: number;
  /** Most the generator sent in the row's trials (fps). */
  readonly offeredFps: number;
  /** Frames the generator sent in the row's trial. */
  readonly txFrames: number;
  /** Frames the switch's policers and QoS dropped in that trial; undefined: the switch does not count them. */
  readonly policerDrops?: number;
  /** Frames the switch could not hand to a VNF's port (its queue full) in that trial. */
  readonly vnfDrops?: number;
}

export interface CapacityShortfall {
  readonly frameSize: number;
  readonly requestedFps: number;
  /** What the sandbox carried at most: the generator's rate, or the VNF's when it was the narrower. */
  readonly carriedFps: number;
  readonly limitedBy: 'generator' | 'vnf';
  /** Lowest received rate at which the check passes (fps). */
  readonly neededFps: number;
  readonly rxFps: number;
}

/** The generator sent less than asked beyond this fraction: the sandbox could not offer the rate. */
const SHORTFALL = 0.01;
/** Drops a counter may show without meaning anything (a frame in flight, a control frame). */
const dropTolerance = (frames: number): number => Math.max(10, frames * 0.001);

const STEP_RE = /#STEP\[([\w\-:]+)\]((?:\[[\w\-'"]+\])*)/g;

type Row = Readonly<Record<string, PyValue>>;

/** Rows with evidence that the expression reads (through `#STEP[...]` and its subscripts). */
function referencedRows(expr: string, ctx: MacroContext, evidence: (row: object) => RowEvidence | undefined): Row[] {
  const found: Row[] = [];
  for (const m of expr.matchAll(STEP_RE)) {
    const key = m[1]!;
    const alias = ctx.aliases.get(key);
    let v: PyValue;
    try {
      v = alias !== undefined ? (ctx.results[alias] ?? null) : pyIndex(ctx.results as PyValue[], Number(key));
      for (const k of parseSubscripts(m[2]!)) {
        if (v && typeof v === 'object' && !Array.isArray(v) && evidence(v)) break;
        v = pyIndex(v, k);
      }
    } catch {
      continue;
    }
    if (v && typeof v === 'object' && !Array.isArray(v) && evidence(v) && !found.includes(v as Row)) found.push(v as Row);
  }
  return found;
}

/** The row with its received rate set to `fps`, every received column scaled as the row computed it. */
function withRx(row: Row, fps: number): Row {
  const num = (k: string): number | undefined => (typeof row[k] === 'number' ? (row[k] as number) : undefined);
  const txFps = num('tx_rate_fps');
  const per = (col: string): number | undefined => {
    const tx = num(col.replace('throughput_rx', 'tx_rate'));
    return tx !== undefined && txFps ? tx / txFps : undefined;
  };
  const out: Record<string, PyValue> = { ...row, throughput_rx_fps: fps };
  for (const col of ['throughput_rx_mbps', 'throughput_rx_percent']) {
    const k = per(col);
    if (k !== undefined && col in row) out[col] = fps * k;
  }
  return out;
}

/** Does the assertion hold with `row` replaced by `alt`? (An error evaluating it: no.) */
function holds(expr: string, ctx: MacroContext, row: Row, alt: Row): boolean {
  const swap = (v: PyValue): PyValue => (v === row ? alt : Array.isArray(v) ? v.map(swap) : v);
  try {
    const text = expandParam(expr, { ...ctx, results: ctx.results.map(swap) }) as string;
    return pyTruthy(evalExpression(text));
  } catch {
    return false;
  }
}

/** Lowest received rate in (from, to] at which the check holds, or undefined when it holds nowhere there. */
function lowestPassing(test: (fps: number) => boolean, from: number, to: number): number | undefined {
  const steps = 2000;
  const lo0 = Math.max(from, 1);
  const ratio = Math.pow(to / lo0, 1 / steps);
  let prev = lo0;
  for (let i = 1; i <= steps; i++) {
    const x = i === steps ? to : lo0 * Math.pow(ratio, i);
    if (test(x)) {
      // The check's boundary lies between the last failing and this passing rate.
      let lo = prev;
      let hi = x;
      for (let j = 0; j < 40 && hi - lo > 0.5; j++) {
        const mid = (lo + hi) / 2;
        if (test(mid)) hi = mid;
        else lo = mid;
      }
      return hi;
    }
    prev = x;
  }
  return undefined;
}

/**
 * The sandbox shortfall behind a failing assertion `expr` (as written, macros unexpanded), or undefined
 * when the failure is not explained by it. `evidence` gives what is known of a traffic result row.
 */
export function capacityShortfall(expr: string, ctx: MacroContext, evidence: (row: object) => RowEvidence | undefined): CapacityShortfall | undefined {
  for (const row of referencedRows(expr, ctx, evidence)) {
    const e = evidence(row)!;
    const rxFps = typeof row.throughput_rx_fps === 'number' ? row.throughput_rx_fps : 0;
    if (e.policerDrops === undefined) continue;
    // The switch's policy cut the traffic: the switch's doing, whatever the sandbox's speed.
    if (e.policerDrops > dropTolerance(e.txFrames)) continue;
    const vnfLimited = (e.vnfDrops ?? 0) > dropTolerance(e.txFrames);
    if (!vnfLimited && e.offeredFps >= e.requestedFps * (1 - SHORTFALL)) continue;
    const carriedFps = vnfLimited ? Math.min(rxFps, e.offeredFps) : e.offeredFps;
    if (holds(expr, ctx, row, row)) continue;
    const neededFps = lowestPassing((fps) => holds(expr, ctx, row, withRx(row, fps)), rxFps, e.requestedFps);
    if (neededFps === undefined || neededFps <= carriedFps * (1 + SHORTFALL)) continue;
    return { frameSize: e.frameSize, requestedFps: e.requestedFps, carriedFps, limitedBy: vnfLimited ? 'vnf' : 'generator', neededFps, rxFps };
  }
  return undefined;
}

/** The one line a user reads: what the sandbox lacks, with the figures. */
export function describeShortfall(s: CapacityShortfall): string {
  const r = (x: number): string => String(Math.round(x));
  const carried =
    s.limitedBy === 'vnf'
      ? `the sandbox's VNF forwarded at most ${r(s.carriedFps)} fps of ${s.frameSize} B frames (the switch could not hand it the rest)`
      : `the sandbox's generator offered at most ${r(s.carriedFps)} fps of ${s.frameSize} B frames`;
  return `${carried} where the testcase asks for ${r(s.requestedFps)} fps; the check needs ≥ ${r(s.neededFps)} fps received (got ${r(s.rxFps)})`;
}
