/**
 * Simulated DUT models for tests, benchmarks and dry plumbing. Pure and seeded: the same seed and the
 * same trials give the same numbers.
 */

/** Deterministic PRNG (mulberry32). */
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

export interface DutModel {
  /** Frames lost out of `txFrames` offered at `rateFps` for `durationS`. */
  lost(rateFps: number, durationS: number, txFrames: number): number;
  /** Latency sample in ns at a load. */
  latencyNs(rateFps: number): number;
  /** Largest burst (frames at line rate) the DUT buffers without loss. */
  readonly bufferFrames: number;
}

export interface SimpleDutOptions {
  /** Forwarding capacity (fps per direction): above it frames are lost. */
  readonly capacityFps: number;
  /** Loss ratio that grows as load approaches capacity: 'cliff' loses only the excess, 'soft' adds a ramp. */
  readonly curve?: 'cliff' | 'soft';
  /** Relative noise on the capacity per trial (0.01 = ±1 %). */
  readonly noise?: number;
  /** Probability per trial of a random loss spike (a few frames lost at any rate). */
  readonly spikeProbability?: number;
  readonly seed?: number;
  readonly bufferFrames?: number;
  readonly baseLatencyNs?: number;
}

export function simpleDut(o: SimpleDutOptions): DutModel {
  const rand = rng(o.seed ?? 1);
  const baseLat = o.baseLatencyNs ?? 10_000;
  return {
    bufferFrames: o.bufferFrames ?? 4096,
    lost(rateFps, _durationS, txFrames) {
      const cap = o.capacityFps * (1 + (o.noise ?? 0) * (2 * rand() - 1));
      let ratio = rateFps > cap ? (rateFps - cap) / rateFps : 0;
      if (o.curve === 'soft' && rateFps > 0.9 * cap) ratio += Math.min(1, (rateFps - 0.9 * cap) / cap) * 0.01;
      let lost = Math.round(Math.min(1, ratio) * txFrames);
      if (o.spikeProbability && rand() < o.spikeProbability) lost += 1 + Math.floor(rand() * 10);
      return Math.min(txFrames, lost);
    },
    latencyNs(rateFps) {
      const load = Math.min(0.999, rateFps / o.capacityFps);
      return baseLat * (1 + load / (1 - load) / 10) * (0.9 + 0.2 * rand());
    },
  };
}
