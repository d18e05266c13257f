import { checkTrafficSpec, checkTrialSpec } from '../../framework/api/trial-check.js';
import { performance } from 'node:perf_hooks';
import type { DriverContext } from '../../framework/api/driver.js';
import type { Settings, Json, JsonObject } from '../../framework/config/settings.js';
import { ConfigError } from '../../framework/errors.js';
import type {
  ContinuousRun,
  DirectionResult,
  GeneratorCaps,
  LatencyStats,
  LiveCounters,
  PortSpec,
  TrafficGenerator,
  TrafficSpec,
  TrialResult,
  TrialSpec,
} from '../../framework/api/trafficgen.js';
import { imixAverage, lineRateFps, rateToFps } from '../../framework/api/trafficgen.js';
import { SimulatedDut, rng, type DutOptions } from './dut.js';

/** A generator that falls short of high offered rates at random (a software generator on a busy host). */
export interface GeneratorShortfall {
  /** Offered rates above this fall short (fps per direction). */
  readonly aboveFps: number;
  /** Shortfall as a fraction of the offered rate, drawn uniformly in [minRatio, maxRatio]. */
  readonly minRatio: number;
  readonly maxRatio: number;
  /** Chance per trial that a rate above `aboveFps` falls short (1 = always). */
  readonly probability: number;
  readonly seed: number;
}

/** Largest frame the Simulated generator sends (bytes). */
const MAX_FRAME_SIZE = 9000;

export interface SimulatedGeneratorOptions {
  /** Highest rate the simulated generator can send (fps per direction); above it trials are generator-limited. */
  readonly generatorMaxFps?: number;
  readonly shortfall?: GeneratorShortfall;
  /** Port speed used when no port is connected (Mbit/s). */
  readonly defaultSpeedMbps?: number;
}

/**
 * A generator that computes trial results from a DUT model instead of sending frames. It answers
 * instantly (it never sleeps for the trial duration) and marks every result `simulated: true`, so a
 * computed figure is never passed off as a measured one.
 */
export class SimulatedGenerator implements TrafficGenerator {
  readonly name = 'Simulated';
  private ports: readonly PortSpec[] = [];
  private trialsRun = 0;
  private readonly shortfallRand: () => number;

  constructor(
    readonly dut: SimulatedDut,
    private readonly opts: SimulatedGeneratorOptions = {},
  ) {
    this.shortfallRand = rng(opts.shortfall?.seed ?? 7);
  }

  capabilities(): GeneratorCaps {
    return {
      continuous: true,
      latency: true,
      bidir: true,
      imix: true,
      vlan: true,
      ipv6: true,
      maxFrameSize: MAX_FRAME_SIZE,
      simulatesDut: true,
      ...(this.opts.generatorMaxFps !== undefined ? { maxRateFps: this.opts.generatorMaxFps } : {}),
    };
  }

  async connect(ports: readonly PortSpec[]): Promise<void> {
    this.ports = ports;
  }

  /** Trials computed so far. */
  get trialCount(): number {
    return this.trialsRun;
  }

  private speedMbps(): number {
    return this.ports[0]?.speedMbps ?? this.opts.defaultSpeedMbps ?? 10_000;
  }

  async runTrial(spec: TrialSpec, signal?: AbortSignal): Promise<TrialResult> {
    signal?.throwIfAborted();
    checkTrialSpec(this.name, this.capabilities(), spec);
    return this.compute(spec, spec.frames, spec.durationS ?? 1, spec.learningS ?? 0);
  }

  async startContinuous(spec: TrafficSpec, signal?: AbortSignal): Promise<ContinuousRun> {
    signal?.throwIfAborted();
    checkTrafficSpec(this.name, this.capabilities(), spec);
    const t0 = performance.now();
    const speed = this.speedMbps();
    const offered = rateToFps(spec.rate, speed, frameSizeOf(spec));
    const achieved = this.achievable(offered, lineRateFps(speed, frameSizeOf(spec)));
    const nDir = spec.bidir ? 2 : 1;
    let stopped: TrialResult | undefined;
    return {
      poll: async (): Promise<LiveCounters> => {
        const elapsedS = (performance.now() - t0) / 1000;
        const tx = Math.round(achieved * elapsedS) * nDir;
        return { elapsedS, txFrames: tx, rxFrames: Math.round(tx * (1 - this.dut.lossRatio(achieved))) };
      },
      stop: async (): Promise<TrialResult> => {
        if (!stopped) stopped = this.compute(spec, undefined, Math.max(1e-3, (performance.now() - t0) / 1000), 0);
        return stopped;
      },
    };
  }

  /** No generator sends faster than the line, nor than its declared maximum. */
  private achievable(offeredFps: number, lineFps: number): number {
    const capped = Math.min(offeredFps, lineFps, this.opts.generatorMaxFps ?? Infinity);
    const f = this.opts.shortfall;
    if (!f || capped <= f.aboveFps || this.shortfallRand() >= f.probability) return capped;
    return capped * (1 - (f.minRatio + (f.maxRatio - f.minRatio) * this.shortfallRand()));
  }

  private compute(spec: TrafficSpec, frames: number | undefined, durationIn: number, learningS: number): TrialResult {
    const t0 = performance.now();
    this.trialsRun++;
    const frameSize = frameSizeOf(spec);
    const offered = rateToFps(spec.rate, this.speedMbps(), frameSize);
    const achieved = this.achievable(offered, lineRateFps(this.speedMbps(), frameSize));
    const nDir = spec.bidir ? 2 : 1;
    const durationS = frames !== undefined ? frames / Math.max(achieved, 1e-9) : durationIn;
    const l2Flows = spec.stream.streamType === 'L2' && spec.stream.multistream > 1 ? spec.stream.multistream : 0;
    const base = `${spec.stream.l2.srcMac}>${spec.stream.l2.dstMac}`;
    if (l2Flows && learningS > 0) this.dut.macTable(l2Flows, nDir, Math.min(achieved, l2Flows / learningS), base);
    const framesPerDir = frames ?? Math.round(achieved * durationS);
    const unknownFraction = l2Flows ? this.dut.macTable(l2Flows, nDir, achieved, base, framesPerDir) : 0;
    const factor = this.dut.drawFactor();
    const directions: DirectionResult[] = [];
    let spikeLost = 0;
    for (let d = 0; d < nDir; d++) {
      const tx = frames ?? Math.round(achieved * durationS);
      let lost: number;
      if (frames !== undefined) lost = this.dut.burstLoss(tx, achieved, factor);
      else {
        const l = this.dut.trialLoss(achieved, durationS, tx, factor);
        lost = l.lost;
        spikeLost += l.spikeLost;
      }
      lost = Math.min(tx, lost + Math.round((tx - lost) * unknownFraction));
      const rx = tx - lost;
      const latency = spec.latency ? this.dut.latency(achieved, rx, factor) : undefined;
      directions.push({
        fromPort: d,
        toPort: 1 - d,
        txFrames: tx,
        rxFrames: rx,
        lostFrames: lost,
        reordered: 0,
        duplicated: 0,
        foreign: 0,
        txBytes: tx * frameSize,
        rxBytes: rx * frameSize,
        ...(latency ? { latency } : {}),
      });
    }
    const sum = (k: 'txFrames' | 'rxFrames' | 'lostFrames' | 'txBytes' | 'rxBytes'): number => directions.reduce((a, x) => a + x[k], 0);
    const tx = sum('txFrames');
    const rx = sum('rxFrames');
    const latency = mergeLatency(directions.map((x) => x.latency).filter((x): x is LatencyStats => x !== undefined));
    return {
      txFrames: tx,
      rxFrames: rx,
      lostFrames: sum('lostFrames'),
      reordered: 0,
      duplicated: 0,
      foreign: 0,
      txBytes: sum('txBytes'),
      rxBytes: sum('rxBytes'),
      ...(latency ? { latency } : {}),
      offeredFps: offered,
      achievedTxFps: achieved,
      rxFps: durationS > 0 ? rx / nDir / durationS : 0,
      lossPct: tx > 0 ? ((tx - rx) / tx) * 100 : 0,
      durationS,
      wallS: (performance.now() - t0) / 1000,
      generatorLimited: achieved < offered * 0.999,
      directions,
      simulated: true,
      info: { model: this.dut.options.curve, capacityFactor: Number(factor.toFixed(6)), spikeLostFrames: spikeLost, modelledTrialS: durationS + learningS },
    };
  }

  async close(): Promise<void> {
    this.ports = [];
  }
}

function frameSizeOf(spec: TrafficSpec): number {
  return spec.stream.imixGenome ? imixAverage(spec.stream.imixGenome) : spec.stream.frameSize;
}

/** Both directions' latency: min of mins, sample-weighted mean, max of maxes, weighted percentiles. */
function mergeLatency(list: readonly LatencyStats[]): LatencyStats | undefined {
  const withSamples = list.filter((l) => l.samples > 0);
  if (withSamples.length === 0) return list[0];
  if (withSamples.length === 1) return withSamples[0];
  const n = withSamples.reduce((a, l) => a + l.samples, 0);
  const keys = Object.keys(withSamples[0]!.percentilesNs);
  const percentilesNs: Record<string, number> = {};
  for (const k of keys) percentilesNs[k] = withSamples.reduce((a, l) => a + (l.percentilesNs[k] ?? 0) * l.samples, 0) / n;
  return {
    minNs: Math.min(...withSamples.map((l) => l.minNs)),
    avgNs: withSamples.reduce((a, l) => a + l.avgNs * l.samples, 0) / n,
    maxNs: Math.max(...withSamples.map((l) => l.maxNs)),
    percentilesNs,
    samples: n,
  };
}

const DUT_KEYS: Record<string, keyof DutOptions> = {
  capacity_fps: 'capacityFps',
  curve: 'curve',
  knee_ratio: 'kneeRatio',
  soft_loss_at_capacity: 'softLossAtCapacity',
  points: 'points',
  overload_collapse: 'overloadCollapse',
  noise: 'noise',
  spike_probability: 'spikeProbabilityPerS',
  spike_frames: 'spikeFrames',
  seed: 'seed',
  buffer_frames: 'bufferFrames',
  fdb_size: 'fdbSize',
  learning_rate_fps: 'learningRateFps',
  unknown_unicast: 'unknownUnicast',
  base_latency_ns: 'baseLatencyNs',
};

/**
 * SIMULATED_DUT = { capacity_fps, curve, knee_ratio, soft_loss_at_capacity, points, overload_collapse, noise,
 * spike_probability (per second), spike_frames, seed, buffer_frames, fdb_size, learning_rate_fps, unknown_unicast,
 * base_latency_ns, generator_max_fps } → a DUT model. Bad values raise ConfigError naming the key.
 */
export function dutFromSettings(settings: Settings): { dut: SimulatedDut; generatorMaxFps?: number; shortfall?: GeneratorShortfall } {
  const src = settings.source('SIMULATED_DUT');
  const o = settings.getOr<JsonObject>('SIMULATED_DUT', {});
  const bad = (k: string, why: string): ConfigError => new ConfigError(`SIMULATED_DUT.${k}`, src, why);
  const num = (k: string, v: Json, min = 0, max = Infinity): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw bad(k, `must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
    return v;
  };
  const opts: Record<string, unknown> = { capacityFps: 1_000_000 };
  let generatorMaxFps: number | undefined;
  let shortfall: GeneratorShortfall | undefined;
  for (const [k, v] of Object.entries(o)) {
    if (v === null) continue;
    if (k === 'generator_max_fps') {
      generatorMaxFps = num(k, v, 1);
      continue;
    }
    if (k === 'generator_shortfall') {
      shortfall = shortfallFrom(
        v,
        (sub, x, min, max) => num(`${k}.${sub}`, x, min, max),
        (sub, why) => bad(`${k}${sub ? `.${sub}` : ''}`, why),
      );
      continue;
    }
    const field = DUT_KEYS[k];
    if (!field) throw bad(k, `unknown key (known: ${[...Object.keys(DUT_KEYS), 'generator_max_fps', 'generator_shortfall'].join(', ')})`);
    if (k === 'curve') {
      if (v !== 'cliff' && v !== 'soft' && v !== 'points') throw bad(k, `must be "cliff", "soft" or "points", got ${JSON.stringify(v)}`);
      opts[field] = v;
    } else if (k === 'unknown_unicast') {
      if (v !== 'drop' && v !== 'flood') throw bad(k, `must be "drop" or "flood", got ${JSON.stringify(v)}`);
      opts[field] = v;
    } else if (k === 'points') {
      if (!Array.isArray(v) || !v.every((p) => Array.isArray(p) && p.length === 2 && p.every((x) => typeof x === 'number' && Number.isFinite(x)))) {
        throw bad(k, 'must be a list of [rate_fps, loss_ratio] pairs');
      }
      opts[field] = v as unknown as [number, number][];
    } else if (k === 'capacity_fps') opts[field] = num(k, v, 1);
    else if (k === 'knee_ratio' || k === 'soft_loss_at_capacity' || k === 'overload_collapse' || k === 'spike_probability') opts[field] = num(k, v, 0, 1);
    else opts[field] = num(k, v);
  }
  try {
    return {
      dut: new SimulatedDut(opts as unknown as DutOptions),
      ...(generatorMaxFps !== undefined ? { generatorMaxFps } : {}),
      ...(shortfall ? { shortfall } : {}),
    };
  } catch (e) {
    throw new ConfigError('SIMULATED_DUT', src, (e as Error).message);
  }
}

/** Plan-time check (--dry-run and before a run): the DUT model builds and every frame size is one the generator sends. */
export function checkSimulatedSettings(settings: Settings): void {
  dutFromSettings(settings);
  const sizes = settings.getOr<Json>('TRAFFICGEN_PKT_SIZES', []);
  for (const size of Array.isArray(sizes) ? sizes : []) {
    if (typeof size === 'number' && size > MAX_FRAME_SIZE)
      throw new ConfigError(
        'TRAFFICGEN_PKT_SIZES',
        settings.source('TRAFFICGEN_PKT_SIZES'),
        `${size} B is larger than the Simulated generator sends (${MAX_FRAME_SIZE} B)`,
      );
  }
}

/** SIMULATED_DUT.generator_shortfall = { above_fps, min_ratio, max_ratio, probability?, seed? }. */
function shortfallFrom(
  v: Json,
  num: (sub: string, x: Json, min: number, max: number) => number,
  bad: (sub: string, why: string) => ConfigError,
): GeneratorShortfall {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('', 'must be a dict {above_fps, min_ratio, max_ratio, probability, seed}');
  const known = ['above_fps', 'min_ratio', 'max_ratio', 'probability', 'seed'];
  for (const k of Object.keys(v)) if (!known.includes(k)) throw bad(k, `unknown key (known: ${known.join(', ')})`);
  const get = (k: string, d: number, min: number, max: number): number => (v[k] === undefined || v[k] === null ? d : num(k, v[k]!, min, max));
  const minRatio = get('min_ratio', 0.003, 0, 1);
  const maxRatio = get('max_ratio', 0.01, 0, 1);
  if (maxRatio < minRatio) throw bad('max_ratio', `must be ≥ min_ratio (${minRatio}), got ${maxRatio}`);
  return {
    aboveFps: get('above_fps', 0, 0, Infinity),
    minRatio,
    maxRatio,
    probability: get('probability', 1, 0, 1),
    seed: get('seed', 7, -Infinity, Infinity),
  };
}

export async function createSimulated(ctx: DriverContext): Promise<SimulatedGenerator> {
  const { dut, generatorMaxFps, shortfall } = dutFromSettings(ctx.settings);
  const speed = ctx.settings.getOr<Json>('TRAFFICGEN_PORT_SPEED_MBPS', 10_000);
  return new SimulatedGenerator(dut, {
    ...(generatorMaxFps !== undefined ? { generatorMaxFps } : {}),
    ...(shortfall ? { shortfall } : {}),
    defaultSpeedMbps: typeof speed === 'number' && speed > 0 ? speed : 10_000,
  });
}
