/**
 * Test plugin for the shim (`vsperf-tgshim --plugin <this file> --generator VsiSlow`): a generator whose
 * trials take their real duration (like a hardware generator) and that records, in the directory named
 * by VSI_SLOW_MARKER_DIR, whether traffic was stopped by an abort. Lets the tests kill or cancel a shim
 * mid-trial and check what happened to the traffic. Given TrialHooks.beforeRelease it holds its "ports"
 * after the traffic (marker `holding`) until the hook settles, then lets them go (`released`), as the
 * software engine does.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RegistryApi } from '../../../framework/api/driver.js';
import type { GeneratorCaps, PortSpec, TrafficGenerator, TrialHooks, TrialResult, TrialSpec } from '../../../framework/api/trafficgen.js';
import { rateToFps } from '../../../framework/api/trafficgen.js';

class SlowGenerator implements TrafficGenerator {
  readonly name = 'VsiSlow';
  private ports: readonly PortSpec[] = [];
  capabilities(): GeneratorCaps {
    return { continuous: false, latency: false, bidir: true, imix: false, vlan: false, ipv6: false, maxFrameSize: 1518 };
  }
  async connect(ports: readonly PortSpec[]): Promise<void> {
    this.ports = ports;
  }
  async runTrial(
    spec: TrialSpec,
    signal?: AbortSignal,
    onProgress?: (c: { elapsedS: number; txFrames: number; rxFrames: number }) => void,
    hooks?: TrialHooks,
  ): Promise<TrialResult> {
    const marker = (state: string): void => {
      const dir = process.env.VSI_SLOW_MARKER_DIR;
      if (dir) writeFileSync(join(dir, 'traffic'), state);
    };
    const fps = rateToFps(spec.rate, this.ports[0]?.speedMbps ?? 10_000, spec.stream.frameSize);
    const durationS = spec.durationS ?? (spec.frames ?? 0) / fps;
    marker('running');
    const t0 = Date.now();
    await new Promise<void>((resolve, reject) => {
      const tick = setInterval(() => {
        const e = (Date.now() - t0) / 1000;
        onProgress?.({ elapsedS: e, txFrames: Math.round(e * fps), rxFrames: Math.round(e * fps) });
      }, 100);
      const done = setTimeout(() => {
        clearInterval(tick);
        resolve();
      }, durationS * 1000);
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(done);
          clearInterval(tick);
          marker('stopped-by-abort');
          reject(new Error('aborted'));
        },
        { once: true },
      );
    });
    marker('finished');
    if (hooks?.beforeRelease) {
      marker('holding');
      try {
        await hooks.beforeRelease();
      } finally {
        marker('released');
      }
    }
    const tx = Math.round(fps * durationS);
    const d = {
      fromPort: 0,
      toPort: 1,
      txFrames: tx,
      rxFrames: tx,
      lostFrames: 0,
      reordered: 0,
      duplicated: 0,
      foreign: 0,
      txBytes: tx * spec.stream.frameSize,
      rxBytes: tx * spec.stream.frameSize,
    };
    return {
      ...d,
      offeredFps: fps,
      achievedTxFps: fps,
      rxFps: fps,
      lossPct: 0,
      durationS,
      wallS: (Date.now() - t0) / 1000,
      generatorLimited: false,
      directions: [d],
    };
  }
  async close(): Promise<void> {}
}

export function register(registry: RegistryApi): void {
  registry.add({ kind: 'trafficgen', name: 'VsiSlow', summary: 'test: trials that take their real duration', create: async () => new SlowGenerator() });
}
