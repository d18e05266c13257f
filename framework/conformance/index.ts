/**
 * Conformance kit for TrafficGenerator drivers, ours and vendors' alike (`vsperf-ts/conformance`):
 *
 *   import { describeTrafficGenerator } from 'vsperf-ts/conformance';
 *   describeTrafficGenerator('AcmeGen', async () => ({ generator: new AcmeGen(...), ports, close }), { lossFreeRateFps: 10_000 });
 *
 * It runs inside mocha (describe/it globals; mocha and chai are peer dependencies). Errors are matched
 * by their `code`, never with instanceof: a plugin may bring its own copy of vsperf-ts. The checks are
 * listed in docs/writing-a-driver.md; each `it` names what a driver must do.
 */
import { expect } from 'chai';
import type { PortSpec, TrafficGenerator, TrialResult, TrialSpec, GeneratorCaps } from '../api/trafficgen.js';
import { lineRateFps } from '../api/trafficgen.js';
import { basicStream, basicTrialSpec } from '../api/example-spec.js';
import { AbortedError, errorCode } from '../api/errors.js';
import { descendants } from './processes.js';

export interface GeneratorFixture {
  readonly generator: TrafficGenerator;
  readonly ports: readonly PortSpec[];
  /** Release what the fixture created (netns, shim server…). */
  close(): Promise<void>;
}

export interface ConformanceOptions {
  /** A rate the path between the ports surely forwards without loss (fps per direction). */
  readonly lossFreeRateFps: number;
  /** Length of the duration trials (s). Default 1. */
  readonly durationS?: number;
  readonly frameSize?: number;
  /**
   * A rate (fps per direction) this generator cannot send on these ports, for the generatorLimited
   * check. Default: the ports' line rate, which a software generator does not reach; a generator that
   * does reach it declares a lower maxRateFps or names a rate here, or 'none' when it meets every rate
   * up to the line (the kit then checks that a line-rate trial is not marked generatorLimited).
   */
  readonly unreachableRateFps?: number | 'none';
  /** How soon a trial must end after its signal is aborted (ms). Default 5000. */
  readonly abortWithinMs?: number;
  /**
   * The generator computes its results instead of sending in real time (Simulated): a trial cannot be
   * aborted midway, so the kit checks instead that a 60 s trial returns at once.
   */
  readonly computesInstantly?: boolean;
  /**
   * Process ids the driver owns now. Default: the descendants of this process; a driver whose
   * processes live elsewhere (behind a gRPC shim) passes its own.
   */
  processes?(): Promise<readonly number[]>;
}

/** Optional features a generator declares in its capabilities; each is tried, or must be refused. */
const OPTIONAL_FEATURES = ['bidir', 'latency', 'imix', 'vlan', 'ipv6'] as const;

function trial(o: ConformanceOptions, extra: Partial<TrialSpec> = {}, stream: Parameters<typeof basicStream>[0] = {}): TrialSpec {
  return basicTrialSpec(
    { rate: { unit: 'fps', value: o.lossFreeRateFps }, durationS: o.durationS ?? 1, latency: false, ...extra },
    { frameSize: o.frameSize ?? 64, ...stream },
  );
}

/** The spec that asks for exactly one optional feature. */
function withFeature(o: ConformanceOptions, feature: (typeof OPTIONAL_FEATURES)[number]): TrialSpec {
  switch (feature) {
    case 'bidir':
      return trial(o, { bidir: true });
    case 'latency':
      return trial(o, { latency: true });
    case 'imix':
      return trial(o, {}, { imixGenome: 'aab' });
    case 'vlan':
      return trial(o, {}, { vlan: { enabled: true, id: 100, priority: 0, cfi: 0 } });
    case 'ipv6':
      // 128 bytes: an IPv6/UDP frame with a generator's trailer does not fit in 64.
      return trial(o, {}, { frameSize: Math.max(128, o.frameSize ?? 64), l3: { enabled: true, version: 6, proto: 'udp', srcIp: 'fd00::1', dstIp: 'fd00::2' } });
  }
}

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>, what: string): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  expect.fail(`${what}: expected a rejection, the call succeeded`);
}

function expectCode(e: unknown, code: string, what: string): void {
  expect(errorCode(e), `${what}: ${e instanceof Error ? e.message : String(e)}`).to.equal(code);
}

/** Every frame sent is received or counted lost, per direction and in total. */
function expectCountersAddUp(r: TrialResult, directions: number): void {
  expect(r.txFrames, 'frames sent').to.be.greaterThan(0);
  expect(r.directions.length, 'directions').to.equal(directions);
  expect(r.txFrames).to.equal(r.directions.reduce((a, d) => a + d.txFrames, 0));
  expect(r.rxFrames).to.equal(r.directions.reduce((a, d) => a + d.rxFrames, 0));
  for (const d of r.directions)
    expect(d.lostFrames, `lost ${d.fromPort}→${d.toPort}`).to.equal(Math.max(0, d.txFrames - (d.rxFrames - d.duplicated - d.foreign)));
}

/** Every frame sent is received or counted lost, per direction and in total; none lost at a loss-free rate. */
function expectEveryFrameAccounted(r: TrialResult, directions: number): void {
  expectCountersAddUp(r, directions);
  expect(r.lostFrames, 'lost at a loss-free rate').to.equal(0);
  expect(r.rxFrames - r.duplicated - r.foreign, 'received').to.equal(r.txFrames);
  expect(r.lossPct).to.equal(0);
  expect(r.generatorLimited, 'generatorLimited at a loss-free rate').to.equal(false);
}

/** Trials at the loss-free rate a generator may flag as its own shortfall before the check fails. */
const LOSS_FREE_ATTEMPTS = 3;

/**
 * A trial at the loss-free rate, every frame accounted and none lost. A trial the generator flags as
 * generatorLimited measured the host, not the path: a thread descheduled past the trial's grace on a loaded
 * box (a 1 s trial leaves 20 ms) sends late or overflows its RX ring. Such a trial is invalid and is run
 * again, up to LOSS_FREE_ATTEMPTS times; its counters must still add up. Loss the generator does not flag
 * as its own fails at once, and so does a generator that flags every attempt.
 */
async function lossFreeTrial(gen: TrafficGenerator, spec: TrialSpec, directions: number): Promise<TrialResult> {
  const limited: string[] = [];
  for (;;) {
    const r = await gen.runTrial(spec);
    if (!r.generatorLimited || limited.length + 1 >= LOSS_FREE_ATTEMPTS) {
      if (limited.length) expect(r.generatorLimited, `generatorLimited in every attempt: ${[...limited, describeLimited(r)].join('; ')}`).to.equal(false);
      expectEveryFrameAccounted(r, directions);
      return r;
    }
    expectCountersAddUp(r, directions);
    limited.push(describeLimited(r));
  }
}

function describeLimited(r: TrialResult): string {
  return `achieved ${Math.round(r.achievedTxFps)} of ${r.offeredFps} fps, ${r.lostFrames} lost (${String(r.info?.generatorLimitedBy ?? 'no reason given')})`;
}

function expectLatency(r: TrialResult): void {
  expect(r.latency, 'latency statistics when latency was asked for and is declared').to.not.equal(undefined);
  const l = r.latency!;
  expect(l.samples).to.be.greaterThan(0);
  expect(l.minNs).to.be.greaterThan(0);
  expect(l.minNs).to.be.at.most(l.avgNs);
  expect(l.avgNs).to.be.at.most(l.maxNs);
}

export function describeTrafficGenerator(name: string, make: () => Promise<GeneratorFixture>, o: ConformanceOptions): void {
  const durationS = o.durationS ?? 1;
  const processes = o.processes ?? (async () => descendants(process.pid));
  describe(`TrafficGenerator conformance: ${name}`, function () {
    this.timeout(120_000);
    let fx: GeneratorFixture | undefined;
    let caps: GeneratorCaps;
    const gen = (): TrafficGenerator => fx!.generator;
    before(async () => {
      fx = await make();
      await fx.generator.connect(fx.ports);
      caps = fx.generator.capabilities();
    });
    after(async () => {
      await fx?.generator.close();
      await fx?.close();
    });

    it('declares sane capabilities (startContinuous exactly when continuous)', () => {
      expect(caps.maxFrameSize).to.be.at.least(1518);
      if (caps.maxRateFps !== undefined) expect(caps.maxRateFps).to.be.greaterThan(0);
      expect(typeof gen().startContinuous === 'function').to.equal(caps.continuous);
    });

    it('a duration trial at a loss-free rate accounts for every frame, at the offered rate', async () => {
      const r = await lossFreeTrial(gen(), trial(o), 1);
      expect(r.achievedTxFps).to.be.closeTo(o.lossFreeRateFps, 0.1 * o.lossFreeRateFps);
      expect(r.txFrames).to.be.closeTo(o.lossFreeRateFps * durationS, 0.1 * o.lossFreeRateFps * durationS);
    });

    it('a frame-count trial sends exactly that many frames and accounts for every one', async () => {
      const frames = Math.max(100, Math.round(o.lossFreeRateFps * durationS * 0.5));
      const r = await lossFreeTrial(gen(), trial(o, { durationS: undefined, frames }), 1);
      expect(r.txFrames).to.equal(frames);
    });

    for (const feature of OPTIONAL_FEATURES) {
      it(`${feature}: works when declared, is refused with E_CAPABILITY when not`, async () => {
        const spec = withFeature(o, feature);
        if (!caps[feature]) {
          expectCode(await rejection(gen().runTrial(spec), `${feature} is not declared`), 'E_CAPABILITY', feature);
          return;
        }
        const r = await lossFreeTrial(gen(), spec, feature === 'bidir' ? 2 : 1);
        if (feature === 'latency') expectLatency(r);
      });
    }

    it('refuses a frame larger than maxFrameSize with E_CAPABILITY', async () => {
      const e = await rejection(gen().runTrial(trial(o, {}, { frameSize: caps.maxFrameSize + 1 })), 'frame above maxFrameSize');
      expectCode(e, 'E_CAPABILITY', 'frame above maxFrameSize');
    });

    it('rejects malformed trial specs with E_USAGE', async () => {
      const bad: Array<[string, TrialSpec]> = [
        ['both durationS and frames', trial(o, { frames: 10 })],
        ['neither durationS nor frames', trial(o, { durationS: undefined })],
        ['a negative rate', trial(o, { rate: { unit: 'fps', value: -1 } })],
        ['a NaN rate', trial(o, { rate: { unit: 'fps', value: Number.NaN } })],
        ['a zero duration', trial(o, { durationS: 0 })],
        ['a 32-byte frame', trial(o, {}, { frameSize: 32 })],
        ['a fractional frame count', trial(o, { durationS: undefined, frames: 10.5 })],
      ];
      for (const [what, spec] of bad) expectCode(await rejection(gen().runTrial(spec), what), 'E_USAGE', what);
    });

    it('sets generatorLimited when the rate cannot be met', async () => {
      const speed = Math.min(...fx!.ports.map((p) => p.speedMbps));
      const line = lineRateFps(speed, o.frameSize ?? 64);
      const fps = o.unreachableRateFps === 'none' ? line : (o.unreachableRateFps ?? line);
      const r = await gen().runTrial(trial(o, { rate: { unit: 'fps', value: fps }, durationS: Math.min(durationS, 1) }));
      const limited = r.achievedTxFps < 0.99 * r.offeredFps;
      expect(limited, `achieved ${r.achievedTxFps} fps of ${r.offeredFps} offered`).to.equal(o.unreachableRateFps !== 'none');
      expect(r.generatorLimited, `achieved ${r.achievedTxFps} fps of ${r.offeredFps} offered`).to.equal(limited);
    });

    it('runs continuous traffic that stops with every frame accounted, when declared', async () => {
      if (!caps.continuous) {
        expect(gen().startContinuous, 'startContinuous without the continuous capability').to.equal(undefined);
        return;
      }
      const run = await gen().startContinuous!(trial(o));
      await new Promise((r) => setTimeout(r, 1000 * durationS));
      const first = await run.poll();
      await new Promise((r) => setTimeout(r, 300));
      const second = await run.poll();
      expect(second.txFrames, 'live counters grow').to.be.greaterThan(first.txFrames);
      const r = await run.stop();
      expectEveryFrameAccounted(r, 1);
      expect(r.txFrames).to.be.at.least(second.txFrames);
    });

    it('calls hooks.beforeRelease at most once, not before the traffic ended, and has awaited it when runTrial settles; its error fails the trial', async () => {
      const frames = Math.max(100, Math.round(o.lossFreeRateFps * durationS * 0.5));
      const spec = trial(o, { durationS: undefined, frames });
      const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
      let calls = 0;
      let calledAtMs = 0;
      let inHook = false;
      const progressAfterHook: number[] = [];
      const t0 = performance.now();
      const r = await gen().runTrial(
        spec,
        undefined,
        (c) => {
          if (calls) progressAfterHook.push(c.txFrames);
        },
        {
          beforeRelease: async () => {
            calls++;
            calledAtMs = performance.now() - t0;
            inHook = true;
            await sleep(200);
            inHook = false;
          },
        },
      );
      const callsAtReturn = calls;
      expect(calls, 'beforeRelease calls in one trial').to.be.at.most(1);
      expect(inHook, 'beforeRelease still running when runTrial returned').to.equal(false);
      expect(r.txFrames).to.equal(frames);
      if (calls) {
        // The counts are final at the call: the traffic (frames at the offered rate) was over, and no later progress differs.
        if (!o.computesInstantly) expect(calledAtMs, 'ms into the trial at the call').to.be.at.least(0.9 * (frames / o.lossFreeRateFps) * 1000);
        for (const tx of progressAfterHook) expect(tx, 'frames sent in a progress report after beforeRelease').to.equal(r.txFrames);
      }
      await sleep(300);
      expect(calls, 'beforeRelease called after runTrial returned').to.equal(callsAtReturn);

      let called = false;
      const failed = await gen()
        .runTrial(spec, undefined, undefined, {
          beforeRelease: async () => {
            called = true;
            throw new Error('conformance: the read before the release failed');
          },
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      if (called)
        expect(String((failed as Error | undefined)?.message), 'the trial fails with the error of the hook').to.contain(
          'conformance: the read before the release failed',
        );
      else expect(failed, 'a trial whose hook was not called').to.equal(undefined);
    });

    it('honours an already-aborted signal with E_ABORTED', async () => {
      const ac = new AbortController();
      ac.abort(new AbortedError('conformance: aborted before the trial'));
      expectCode(await rejection(gen().runTrial(trial(o), ac.signal), 'aborted signal'), 'E_ABORTED', 'aborted signal');
    });

    it('an abort during a trial ends it within the bound (E_ABORTED) and leaves no process behind', async () => {
      const within = o.abortWithinMs ?? 5000;
      if (o.computesInstantly) {
        const t0 = performance.now();
        await gen().runTrial(trial(o, { durationS: 60 }));
        expect(performance.now() - t0, 'ms a computed 60 s trial took').to.be.below(within);
        return;
      }
      const before = new Set(await processes());
      const ac = new AbortController();
      const pending = rejection(gen().runTrial(trial(o, { durationS: 60 }), ac.signal), 'trial aborted after 500 ms');
      await new Promise((r) => setTimeout(r, 500));
      const t0 = performance.now();
      ac.abort(new AbortedError('conformance: aborted during the trial'));
      const e = await pending;
      const tookMs = performance.now() - t0;
      expectCode(e, 'E_ABORTED', 'aborted trial');
      expect(tookMs, 'ms from abort to rejection').to.be.below(within);
      let left: number[] = [];
      for (let i = 0; i < 20; i++) {
        left = (await processes()).filter((p) => !before.has(p));
        if (!left.length) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(left, 'processes started by the aborted trial and still alive').to.deep.equal([]);
      const r = await gen().runTrial(trial(o, { durationS: undefined, frames: 100 }));
      expect(r.txFrames, 'a trial after the aborted one').to.equal(100);
    });

    it('close() twice is harmless', async () => {
      await gen().close();
      await gen().close();
    });
  });
}

export { descendants } from './processes.js';
export { conformanceHost } from './host.js';
export { describeVSwitch, type VSwitchFixture } from './vswitch.js';
