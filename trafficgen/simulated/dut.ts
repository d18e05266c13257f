/**
 * Simulated DUT models for tests, benchmarks and dry runs. Pure and seeded: the same seed and the same
 * sequence of trials give the same numbers. Nothing here sleeps or touches the host.
 *
 * A model has a forwarding capacity (fps per direction), a loss-vs-rate curve (cliff, soft knee, or
 * an arbitrary piecewise-linear curve, which may be non-monotone), optional collapse under overload,
 * seeded per-trial noise on the capacity, occasional loss spikes, a burst buffer (back-to-back), a MAC
 * table with a size and a learning rate (RFC 2889), and a latency model with percentiles.
 */
import type { LatencyStats } from '../../framework/api/trafficgen.js';

/** Deterministic PRNG (mulberry32): a float in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type CurveKind = 'cliff' | 'soft' | 'points';

export interface DutOptions {
  /** Forwarding capacity (fps per direction): above it the excess is lost. */
  readonly capacityFps: number;
  /**
   * Loss-vs-rate curve: 'cliff' loses only the excess above capacity; 'soft' adds a quadratic loss
   * ramp from `kneeRatio × capacity` up to `softLossAtCapacity` at capacity; 'points' interpolates
   * `points` (rate fps, loss ratio) linearly and may be non-monotone. All three keep the capacity cliff.
   */
  readonly curve?: CurveKind;
  readonly kneeRatio?: number;
  readonly softLossAtCapacity?: number;
  readonly points?: ReadonlyArray<readonly [number, number]>;
  /** Above capacity the forwarding rate falls by this fraction per 100 % of overload (0 = none, 1 = livelock). */
  readonly overloadCollapse?: number;
  /** Relative noise on the capacity per trial, uniform in ±noise (0.01 = ±1 %). */
  readonly noise?: number;
  /** Probability per second of traffic of a loss spike (a burst of lost frames at any rate). */
  readonly spikeProbabilityPerS?: number;
  /** Frames lost per spike. */
  readonly spikeFrames?: number;
  readonly seed?: number;
  /** Frames the DUT queues without loss in a line-rate burst (back-to-back). */
  readonly bufferFrames?: number;
  /** MAC table size (addresses), for L2 multistream traffic and RFC 2889. */
  readonly fdbSize?: number;
  /** New addresses the DUT learns per second; faster learning frames are partly not learned. */
  readonly learningRateFps?: number;
  /** Frames to a destination the DUT has not learned: 'drop' (lost) or 'flood' (delivered on 2 ports). */
  readonly unknownUnicast?: 'drop' | 'flood';
  /** Unloaded latency (ns). */
  readonly baseLatencyNs?: number;
}

export interface TrialLoss {
  readonly lost: number;
  /** Lost frames due to a spike (included in `lost`). */
  readonly spikeLost: number;
  /** Lost frames due to unknown destinations (included in `lost`). */
  readonly unknownLost: number;
}

/** A stateful simulated DUT (state: PRNG position and MAC table). */
export class SimulatedDut {
  readonly options: Required<Omit<DutOptions, 'points'>> & { points: ReadonlyArray<readonly [number, number]> };
  private readonly rand: () => number;
  /** MAC table: address set key (flows per direction) and how many addresses are known. */
  private fdb: { key: string; learned: number } | undefined;

  constructor(o: DutOptions) {
    if (!(o.capacityFps > 0)) throw new RangeError(`capacityFps must be > 0, got ${o.capacityFps}`);
    const points = [...(o.points ?? [])].sort((a, b) => a[0] - b[0]);
    if ((o.curve ?? 'cliff') === 'points' && points.length === 0) throw new RangeError("curve 'points' needs at least one [rateFps, lossRatio] point");
    this.options = {
      capacityFps: o.capacityFps,
      curve: o.curve ?? 'cliff',
      kneeRatio: o.kneeRatio ?? 0.95,
      softLossAtCapacity: o.softLossAtCapacity ?? 0.01,
      points,
      overloadCollapse: o.overloadCollapse ?? 0,
      noise: o.noise ?? 0,
      spikeProbabilityPerS: o.spikeProbabilityPerS ?? 0,
      spikeFrames: o.spikeFrames ?? 10,
      seed: o.seed ?? 1,
      bufferFrames: o.bufferFrames ?? 4096,
      fdbSize: o.fdbSize ?? 8192,
      learningRateFps: o.learningRateFps ?? 50_000,
      unknownUnicast: o.unknownUnicast ?? 'drop',
      baseLatencyNs: o.baseLatencyNs ?? 10_000,
    };
    this.rand = rng(this.options.seed);
  }

  /**
   * Noise-free loss ratio at a rate (per direction) with the capacity scaled by `capacityFactor`.
   * This is the "truth" the benchmarks compare searches against.
   */
  lossRatio(rateFps: number, capacityFactor = 1): number {
    if (rateFps <= 0) return 0;
    const o = this.options;
    const cap = o.capacityFps * capacityFactor;
    let forwarded = Math.min(rateFps, cap);
    if (rateFps > cap && o.overloadCollapse > 0) forwarded = cap * Math.max(0, 1 - o.overloadCollapse * Math.min(1, (rateFps - cap) / cap));
    let loss = 1 - forwarded / rateFps;
    if (o.curve === 'soft') {
      const knee = o.kneeRatio * cap;
      if (rateFps > knee) {
        const x = Math.min(1, (rateFps - knee) / Math.max(1e-9, cap - knee));
        loss = Math.max(loss, o.softLossAtCapacity * x * x);
      }
    } else if (o.curve === 'points') {
      loss = Math.max(loss, interpolate(o.points, rateFps / capacityFactor));
    }
    return Math.min(1, Math.max(0, loss));
  }

  /**
   * The true throughput for a loss ratio goal: the highest rate r ≤ maxRateFps such that every rate
   * up to r loses at most `goalLossRatio` (noise-free). For non-monotone DUTs this is the first
   * failure point, which is what a bracketing search converges to from below.
   */
  trueThroughput(goalLossRatio: number, maxRateFps: number): number {
    const steps = 200_000;
    let prev = 0;
    for (let i = 1; i <= steps; i++) {
      const r = (maxRateFps * i) / steps;
      if (this.lossRatio(r) > goalLossRatio) {
        // Refine inside (prev, r] by bisection.
        let lo = prev;
        let hi = r;
        for (let k = 0; k < 60; k++) {
          const mid = (lo + hi) / 2;
          if (this.lossRatio(mid) > goalLossRatio) hi = mid;
          else lo = mid;
        }
        return lo;
      }
      prev = r;
    }
    return maxRateFps;
  }

  /** Draws the per-trial capacity factor (noise). */
  private capacityFactor(): number {
    return this.options.noise > 0 ? 1 + this.options.noise * (2 * this.rand() - 1) : 1;
  }

  /** Frames lost out of `txFrames` sent at `rateFps` for `durationS` (one direction), with noise and spikes. */
  trialLoss(rateFps: number, durationS: number, txFrames: number, factor = this.capacityFactor()): TrialLoss {
    if (txFrames <= 0) return { lost: 0, spikeLost: 0, unknownLost: 0 };
    let lost = Math.round(this.lossRatio(rateFps, factor) * txFrames);
    let spikeLost = 0;
    const ps = this.options.spikeProbabilityPerS;
    if (ps > 0) {
      const p = 1 - Math.pow(1 - Math.min(1, ps), Math.max(0, durationS));
      if (this.rand() < p) spikeLost = this.options.spikeFrames;
    }
    lost = Math.min(txFrames, lost + spikeLost);
    return { lost, spikeLost: Math.min(spikeLost, txFrames), unknownLost: 0 };
  }

  /** A trial's per-trial capacity factor, shared by both directions. */
  drawFactor(): number {
    return this.capacityFactor();
  }

  /**
   * A burst of `frames` at `rateFps` (back-to-back): the DUT forwards at its capacity while the burst
   * lasts and queues up to bufferFrames; the rest is lost.
   */
  burstLoss(frames: number, rateFps: number, factor = 1): number {
    if (frames <= 0 || rateFps <= 0) return 0;
    const fwdRate = rateFps * (1 - this.lossRatio(rateFps, factor));
    const drained = (frames / rateFps) * fwdRate;
    return Math.max(0, Math.min(frames, Math.round(frames - this.options.bufferFrames - drained)));
  }

  /**
   * MAC table effect of an L2 multistream trial with `flowsPerDirection` address pairs. Returns the
   * fraction of frames addressed to a destination not yet learned (lost when unknownUnicast is
   * 'drop'), then learns this trial's source addresses (up to the table size and learning rate).
   * The table holds one address set (keyed by base address and count): a new set replaces the old
   * one, as if the old entries had aged out.
   */
  macTable(flowsPerDirection: number, directions: number, rateFps: number, addressBase = '', framesPerDirection = flowsPerDirection): number {
    const o = this.options;
    const key = `${addressBase}/${flowsPerDirection}x${directions}`;
    const addrs = flowsPerDirection * directions;
    const known = this.fdb?.key === key ? this.fdb.learned : 0;
    const unknownFraction = addrs > 0 ? Math.max(0, 1 - known / addrs) : 0;
    const learnable = Math.min(addrs, o.fdbSize);
    // One pass over the address set learns a share learningRate / offered rate of the addresses; a trial
    // that cycles through the set `passes` times learns 1 − (1 − share)^passes of them.
    const share = Math.min(1, o.learningRateFps / Math.max(1, rateFps * directions));
    const passes = Math.max(1, framesPerDirection / Math.max(1, flowsPerDirection));
    const learnedNow = Math.floor(learnable * (1 - Math.pow(1 - share, passes)));
    this.fdb = { key, learned: Math.max(this.fdb?.key === key ? Math.min(this.fdb.learned, learnable) : 0, learnedNow) };
    return o.unknownUnicast === 'drop' ? unknownFraction : 0;
  }

  /** Forget all learned addresses (the aging time passed, or the switch was restarted). */
  flushMacTable(): void {
    this.fdb = undefined;
  }

  /** Latency statistics of a trial at a load, for `samples` received frames. */
  latency(rateFps: number, samples: number, factor = 1): LatencyStats {
    const o = this.options;
    const cap = o.capacityFps * factor;
    const rho = Math.min(0.98, rateFps / cap);
    const minNs = o.baseLatencyNs * 0.8;
    // Queueing delay grows as load/(1 − load); at overload the queue is full (buffer drained at capacity).
    let meanExtra = o.baseLatencyNs * 0.2 + o.baseLatencyNs * (rho / (1 - rho)) * 0.1;
    if (rateFps > cap) meanExtra += (o.bufferFrames / cap) * 1e9;
    meanExtra *= 0.95 + 0.1 * this.rand();
    // Shifted exponential: quantile q at min + mean·ln(1/(1−q)).
    const q = (p: number): number => minNs + meanExtra * Math.log(1 / (1 - p));
    const percentilesNs = { p50: q(0.5), p90: q(0.9), p99: q(0.99), 'p99.9': q(0.999), 'p99.99': q(0.9999) };
    const maxNs = samples > 0 ? q(1 - 1 / Math.max(2, samples)) : 0;
    const lowerNs: number[] = [];
    const counts: number[] = [];
    if (samples > 0) {
      const buckets = 16;
      const top = maxNs;
      let assigned = 0;
      for (let i = 0; i < buckets; i++) {
        const lo = minNs + ((top - minNs) * i) / buckets;
        const hi = minNs + ((top - minNs) * (i + 1)) / buckets;
        const cdf = (x: number): number => 1 - Math.exp(-(x - minNs) / meanExtra);
        const c = i === buckets - 1 ? samples - assigned : Math.round(samples * (cdf(hi) - cdf(lo)));
        lowerNs.push(lo);
        counts.push(Math.max(0, c));
        assigned += Math.max(0, c);
      }
    }
    return {
      minNs: samples > 0 ? minNs : 0,
      avgNs: samples > 0 ? minNs + meanExtra : 0,
      maxNs,
      percentilesNs: samples > 0 ? percentilesNs : {},
      ...(samples > 0 ? { histogram: { lowerNs, counts } } : {}),
      samples,
    };
  }
}

function interpolate(points: ReadonlyArray<readonly [number, number]>, x: number): number {
  if (points.length === 0) return 0;
  const first = points[0]!;
  if (x <= first[0]) return first[1];
  for (let i = 1; i < points.length; i++) {
    const [x1, y1] = points[i]!;
    const [x0, y0] = points[i - 1]!;
    if (x <= x1) return x1 === x0 ? y1 : y0 + ((y1 - y0) * (x - x0)) / (x1 - x0);
  }
  return points[points.length - 1]![1];
}
