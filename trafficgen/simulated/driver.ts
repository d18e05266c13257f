import type { DriverContext } from '../../framework/registry/types.js';
import type { Settings, JsonObject } from '../../framework/config/settings.js';
import type { GeneratorCaps, PortSpec, TrafficGenerator, TrialResult, TrialSpec, DirectionResult } from '../types.js';
import { rateToFps } from '../types.js';
import { simpleDut, type DutModel } from './dut.js';

/**
 * A generator that computes trial results from a DUT model instead of sending frames. It answers
 * instantly (no sleeping for the trial duration) and marks every result `simulated: true`.
 */
export class SimulatedGenerator implements TrafficGenerator {
  readonly name = 'Simulated';
  private ports: readonly PortSpec[] = [];

  constructor(private readonly dut: DutModel, private readonly maxRateFps?: number) {}

  capabilities(): GeneratorCaps {
    return {
      continuous: false,
      latency: true,
      bidir: true,
      imix: true,
      vlan: true,
      ipv6: true,
      maxFrameSize: 9000,
      simulatesDut: true,
      ...(this.maxRateFps !== undefined ? { maxRateFps: this.maxRateFps } : {}),
    };
  }

  async connect(ports: readonly PortSpec[]): Promise<void> {
    this.ports = ports;
  }

  async runTrial(spec: TrialSpec): Promise<TrialResult> {
    const speed = this.ports[0]?.speedMbps ?? 10_000;
    const offered = rateToFps(spec.rate, speed, spec.stream.frameSize);
    const achieved = this.maxRateFps !== undefined ? Math.min(offered, this.maxRateFps) : offered;
    const durationS = spec.frames !== undefined ? spec.frames / Math.max(achieved, 1) : spec.durationS ?? 1;
    const nDir = spec.bidir ? 2 : 1;
    const directions: DirectionResult[] = [];
    for (let d = 0; d < nDir; d++) {
      const tx = spec.frames ?? Math.round(achieved * durationS);
      const lost = spec.frames !== undefined ? this.burstLoss(tx, achieved) : this.dut.lost(achieved, durationS, tx);
      const rx = tx - lost;
      const lat = this.dut.latencyNs(achieved);
      directions.push({
        fromPort: d,
        toPort: 1 - d,
        txFrames: tx,
        rxFrames: rx,
        lostFrames: lost,
        reordered: 0,
        duplicated: 0,
        foreign: 0,
        txBytes: tx * spec.stream.frameSize,
        rxBytes: rx * spec.stream.frameSize,
        latency: { minNs: lat * 0.8, avgNs: lat, maxNs: lat * 1.5, percentilesNs: { p50: lat, p90: lat * 1.2, p99: lat * 1.4, 'p99.9': lat * 1.45, 'p99.99': lat * 1.5 }, samples: rx },
      });
    }
    const sum = (k: 'txFrames' | 'rxFrames' | 'lostFrames' | 'txBytes' | 'rxBytes'): number => directions.reduce((a, d) => a + d[k], 0);
    const tx = sum('txFrames');
    const rx = sum('rxFrames');
    return {
      txFrames: tx,
      rxFrames: rx,
      lostFrames: sum('lostFrames'),
      reordered: 0,
      duplicated: 0,
      foreign: 0,
      txBytes: sum('txBytes'),
      rxBytes: sum('rxBytes'),
      latency: directions[0]!.latency!,
      offeredFps: offered,
      achievedTxFps: achieved,
      rxFps: rx / nDir / durationS,
      lossPct: tx > 0 ? ((tx - rx) / tx) * 100 : 0,
      durationS,
      wallS: 0,
      generatorLimited: achieved < offered * 0.995,
      directions,
      simulated: true,
      info: { model: 'simple' },
    };
  }

  /** A fixed-count burst at line rate loses what exceeds the DUT's buffer plus its drain during the burst. */
  private burstLoss(frames: number, rateFps: number): number {
    const drained = (frames / Math.max(rateFps, 1)) * this.dutCapacityHint(rateFps);
    return Math.max(0, Math.round(frames - this.dut.bufferFrames - drained));
  }

  private dutCapacityHint(rateFps: number): number {
    // Forwarding during the burst: what the model passes at this rate per second.
    const probe = 1_000_000;
    return rateFps * (1 - this.dut.lost(rateFps, 1, probe) / probe);
  }

  async close(): Promise<void> {
    this.ports = [];
  }
}

/** Settings: SIMULATED_DUT = { capacity_fps, curve, noise, spike_probability, seed, buffer_frames }. */
export function dutFromSettings(settings: Settings): DutModel {
  const o = settings.getOr<JsonObject>('SIMULATED_DUT', {});
  return simpleDut({
    capacityFps: Number(o.capacity_fps ?? 1_000_000),
    curve: o.curve === 'soft' ? 'soft' : 'cliff',
    noise: Number(o.noise ?? 0),
    spikeProbability: Number(o.spike_probability ?? 0),
    seed: Number(o.seed ?? 1),
    bufferFrames: Number(o.buffer_frames ?? 4096),
  });
}

export async function createSimulated(ctx: DriverContext): Promise<SimulatedGenerator> {
  const o = ctx.settings.getOr<JsonObject>('SIMULATED_DUT', {});
  return new SimulatedGenerator(dutFromSettings(ctx.settings), o.generator_max_fps !== undefined ? Number(o.generator_max_fps) : undefined);
}
