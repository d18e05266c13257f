/** Engine result → TrialResult: per-direction counters, merged latency histogram, percentiles. */
import {
  GENERATOR_BUSY_INFO,
  type DirectionResult,
  type FlowCounters,
  type LatencyStats,
  type ReceiverTimeline,
  type TrialResult,
} from '../../framework/api/trafficgen.js';
import type { EngineResult, EngineStreamResult } from './protocol.js';

/** A trial is generator-limited when it sent less than this share of the offered rate. */
export const GENERATOR_LIMIT_RATIO = 0.995;

export const PERCENTILES: readonly [string, number][] = [
  ['p50', 0.5],
  ['p90', 0.9],
  ['p99', 0.99],
  ['p99.9', 0.999],
  ['p99.99', 0.9999],
];

export interface Histogram {
  readonly lowerNs: readonly number[];
  readonly counts: readonly number[];
}

/** Sum histograms bucket by bucket (same bucket lower bounds), sorted by lower bound. */
export function mergeHistograms(hs: readonly Histogram[]): Histogram {
  const m = new Map<number, number>();
  for (const h of hs) h.lowerNs.forEach((l, i) => m.set(l, (m.get(l) ?? 0) + (h.counts[i] ?? 0)));
  const lowerNs = [...m.keys()].sort((a, b) => a - b);
  return { lowerNs, counts: lowerNs.map((l) => m.get(l)!) };
}

/**
 * Percentile q (0..1) of a bucketed distribution: the lower bound of the bucket holding the
 * ceil(q·n)-th sample, clamped to [min, max]. Buckets are 1/32 of a power of two wide (≤ 3.1 %).
 */
export function percentileNs(h: Histogram, q: number, minNs: number, maxNs: number): number {
  const n = h.counts.reduce((a, b) => a + b, 0);
  if (n === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * n));
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    seen += h.counts[i]!;
    if (seen >= rank) return Math.min(maxNs, Math.max(minNs, h.lowerNs[i]!));
  }
  return maxNs;
}

function latencyOf(parts: readonly { samples: number; minNs: number; maxNs: number; sumNs: number; hist: Histogram }[]): LatencyStats | undefined {
  const live = parts.filter((p) => p.samples > 0);
  if (live.length === 0) return undefined;
  const samples = live.reduce((a, p) => a + p.samples, 0);
  const minNs = Math.min(...live.map((p) => p.minNs));
  const maxNs = Math.max(...live.map((p) => p.maxNs));
  const hist = mergeHistograms(live.map((p) => p.hist));
  const percentilesNs: Record<string, number> = {};
  for (const [k, q] of PERCENTILES) percentilesNs[k] = percentileNs(hist, q, minNs, maxNs);
  return { minNs, avgNs: live.reduce((a, p) => a + p.sumNs, 0) / samples, maxNs, percentilesNs, histogram: hist, samples };
}

function streamLatencyPart(s: EngineStreamResult): { samples: number; minNs: number; maxNs: number; sumNs: number; hist: Histogram } {
  return {
    samples: s.lat_samples,
    minNs: s.lat_min_ns,
    maxNs: s.lat_max_ns,
    sumNs: s.lat_avg_ns * s.lat_samples,
    hist: { lowerNs: s.hist.map((b) => b[0]), counts: s.hist.map((b) => b[1]) },
  };
}

/**
 * rxFrames counts every frame of the stream that came back (duplicates included); lostFrames is
 * tx − distinct rx. Foreign frames are those on the receiving port that this trial did not send.
 */
export function directionOf(s: EngineStreamResult, foreignOnRxPort: number, offeredFps: number): DirectionResult {
  const unique = s.rx_frames - s.duplicated;
  const latency = latencyOf([streamLatencyPart(s)]);
  return {
    fromPort: s.tx_port,
    toPort: s.rx_port,
    txFrames: s.tx_frames,
    rxFrames: s.rx_frames,
    lostFrames: Math.max(0, s.tx_frames - unique),
    reordered: s.reordered,
    duplicated: s.duplicated,
    foreign: foreignOnRxPort,
    txBytes: s.tx_bytes,
    rxBytes: s.rx_bytes,
    ...(latency ? { latency } : {}),
    ...(offeredFps > 0 ? { maxGapMs: (s.max_gap / offeredFps) * 1000 } : {}),
    ...(s.rx_gaps ? { receiver: receiverOf(s) } : {}),
  };
}

/** The engine's receiver-clock fields as epoch milliseconds. */
export function receiverOf(s: EngineStreamResult): ReceiverTimeline {
  const ms = (ns: number): number => ns / 1e6;
  const t = s.timeline;
  return {
    gapsMs: (s.rx_gaps ?? []).map(([a, b]) => [ms(a), ms(b)] as const),
    ...(s.first_rx_ns ? { firstRxMs: ms(s.first_rx_ns) } : {}),
    ...(s.last_rx_ns ? { lastRxMs: ms(s.last_rx_ns) } : {}),
    ...(s.delay_threshold_ns ? { delayedFrames: s.delayed ?? 0, delayThresholdNs: s.delay_threshold_ns } : {}),
    ...(t ? { bins: { t0Ms: ms(t.t0_ns), binMs: t.bin_ms, rxFrames: t.rx, maxLatencyUs: t.max_lat_us } } : {}),
  };
}

export function trialResultOf(
  r: EngineResult,
  opts: {
    offeredFps: number;
    wallS: number;
    extraInfo?: Record<string, string | number | boolean>;
    /** The TX pacing the plan asked the DPDK loops for (what pattern the switch saw: bursts or single frames). */
    txPacing?: { readonly txBurst?: number; readonly txBurstWaitUs?: number };
  },
): TrialResult {
  // Foreign frames are counted per receiving port; give each to the first direction received there.
  const foreignGiven = new Set<number>();
  const directions = r.streams.map((s) => {
    const foreign = foreignGiven.has(s.rx_port) ? 0 : (r.ports[s.rx_port]?.foreign ?? 0);
    foreignGiven.add(s.rx_port);
    return directionOf(s, foreign, opts.offeredFps);
  });
  const sum = (k: keyof Pick<FlowCounters, 'txFrames' | 'rxFrames' | 'lostFrames' | 'reordered' | 'duplicated' | 'foreign' | 'txBytes' | 'rxBytes'>): number =>
    directions.reduce((a, d) => a + d[k], 0);
  const tx = sum('txFrames');
  const lost = sum('lostFrames');
  const durationS = Math.max(0, ...r.streams.map((s) => s.tx_s));
  const achievedPerDir = r.streams.map((s) => s.achieved_fps);
  const achievedTxFps = achievedPerDir.length ? achievedPerDir.reduce((a, b) => a + b, 0) / achievedPerDir.length : 0;
  const txLimited = achievedPerDir.some((a) => a < opts.offeredFps * GENERATOR_LIMIT_RATIO);
  const rxRingDrops = r.ports.reduce((a, p) => a + p.rx_ring_drops, 0);
  const uniqueRx = directions.reduce((a, d) => a + d.rxFrames - d.duplicated, 0);
  const latency = latencyOf(r.streams.map(streamLatencyPart));
  const maxGaps = directions.map((d) => d.maxGapMs).filter((x): x is number => x !== undefined);
  return {
    txFrames: tx,
    rxFrames: sum('rxFrames'),
    lostFrames: lost,
    reordered: sum('reordered'),
    duplicated: sum('duplicated'),
    foreign: sum('foreign'),
    txBytes: sum('txBytes'),
    rxBytes: sum('rxBytes'),
    ...(latency ? { latency } : {}),
    ...(maxGaps.length ? { maxGapMs: Math.max(...maxGaps) } : {}),
    offeredFps: opts.offeredFps,
    achievedTxFps,
    rxFps: durationS > 0 && directions.length ? uniqueRx / directions.length / durationS : 0,
    lossPct: tx > 0 ? (lost / tx) * 100 : 0,
    durationS,
    wallS: opts.wallS,
    // Also when the engine's own RX ring overflowed: those frames were lost by us, not by the DUT.
    generatorLimited: txLimited || rxRingDrops > 0,
    directions,
    info: {
      backend: r.backend,
      engineVersion: r.version,
      runTag: r.tag,
      stoppedBy: r.stopped_by,
      txErrors: r.ports.reduce((a, p) => a + p.tx_errors, 0),
      rxRingDrops,
      ...(txLimited || rxRingDrops > 0 ? { generatorLimitedBy: txLimited ? 'tx-rate' : 'rx-ring-drops' } : {}),
      learningFramesRx: r.ports.reduce((a, p) => a + p.learning, 0),
      ...(r.streams.some((s) => s.tx_full_drops) ? { txFullDrops: r.streams.reduce((a, s) => a + (s.tx_full_drops ?? 0), 0) } : {}),
      // A polling loop spins at 100 % of its CPU: what tells whether it was the bottleneck is its busy share.
      ...(r.loops?.length ? { [GENERATOR_BUSY_INFO]: Math.max(...r.loops.map((l) => l.busy_pct)) } : {}),
      // What a frame (sent or received) cost the busiest loop, preemptions left out.
      // Paced frames leave the DPDK loops in bursts (a switch pays less per frame for bursts than for an
      // evenly spaced stream), so a row says which pattern its figure was measured with.
      ...(r.loops?.length && opts.txPacing?.txBurst !== undefined ? { txBurst: opts.txPacing.txBurst } : {}),
      ...(r.loops?.length && opts.txPacing?.txBurstWaitUs !== undefined ? { txBurstWaitUs: opts.txPacing.txBurstWaitUs } : {}),
      ...(r.loops?.some((l) => l.cycles_per_frame) ? { generatorCyclesPerFrame: Math.max(...r.loops.map((l) => l.cycles_per_frame ?? 0)) } : {}),
      ...(r.loops?.some((l) => l.offcpu_pct !== undefined) ? { generatorOffCpuPct: Math.max(...r.loops.map((l) => l.offcpu_pct ?? 0)) } : {}),
      // A loop the kernel preempted shared its core: frames waited in the rings meanwhile.
      ...(r.loops?.some((l) => l.preempted !== undefined) ? { generatorLoopPreemptions: r.loops.reduce((a, l) => a + (l.preempted ?? 0), 0) } : {}),
      ...r.ports.reduce<Record<string, string>>((a, p, i) => ((a[`port${i}Backend`] = p.backend), a), {}),
      // Several queues: the frames per TX / RX queue, "n0/n1/…" (to hold against the switch's per-rxq counters).
      ...r.ports.reduce<Record<string, string>>((a, p, i) => {
        if (p.txq_frames && p.txq_frames.some((n) => n > 0)) a[`port${i}TxQueues`] = p.txq_frames.join('/');
        if (p.rxq_frames && p.rxq_frames.some((n) => n > 0)) a[`port${i}RxQueues`] = p.rxq_frames.join('/');
        return a;
      }, {}),
      ...(opts.extraInfo ?? {}),
    },
  };
}
