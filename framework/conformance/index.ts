/**
 * Conformance kit for TrafficGenerator drivers, for our own drivers and vendors' alike:
 *
 *   import { describeTrafficGenerator } from 'vsperf-ts/conformance';
 *   describeTrafficGenerator('AcmeGen', async () => ({ generator: new AcmeGen(...), ports, close }));
 *
 * It runs inside mocha (describe/it globals) and checks what every driver must do: declared
 * capabilities hold, a trial's counters are consistent, undeclared features raise CapabilityError-like
 * errors instead of silently doing something else, and close() is idempotent.
 */
import { expect } from 'chai';
import type { PortSpec, TrafficGenerator, TrialSpec } from '../api/trafficgen.js';
import { basicTrialSpec } from '../api/example-spec.js';

export interface GeneratorFixture {
  readonly generator: TrafficGenerator;
  readonly ports: readonly PortSpec[];
  /** Release what the fixture created (netns, shim server…). */
  close(): Promise<void>;
}

export interface ConformanceOptions {
  /** A rate the DUT path surely forwards without loss (fps). */
  readonly lossFreeRateFps: number;
  readonly durationS?: number;
  readonly frameSize?: number;
}

function spec(o: ConformanceOptions, extra: Partial<TrialSpec> = {}): TrialSpec {
  return basicTrialSpec({ rate: { unit: 'fps', value: o.lossFreeRateFps }, durationS: o.durationS ?? 1, ...extra }, { frameSize: o.frameSize ?? 64 });
}

export function describeTrafficGenerator(name: string, make: () => Promise<GeneratorFixture>, o: ConformanceOptions): void {
  describe(`TrafficGenerator conformance: ${name}`, function () {
    this.timeout(120_000);
    let fx: GeneratorFixture;
    before(async () => {
      fx = await make();
      await fx.generator.connect(fx.ports);
    });
    after(async () => {
      await fx?.generator.close();
      await fx?.close();
    });

    it('declares sane capabilities', () => {
      const c = fx.generator.capabilities();
      expect(c.maxFrameSize).to.be.at.least(1518);
      if (c.maxRateFps !== undefined) expect(c.maxRateFps).to.be.greaterThan(0);
      expect(typeof fx.generator.startContinuous === 'function').to.equal(c.continuous);
    });

    it('runs a loss-free trial with consistent counters', async () => {
      const r = await fx.generator.runTrial(spec(o));
      expect(r.txFrames).to.be.greaterThan(0);
      expect(r.rxFrames).to.be.at.most(r.txFrames + r.duplicated);
      expect(r.lostFrames).to.equal(Math.max(0, r.txFrames - (r.rxFrames - r.duplicated)));
      expect(r.lossPct).to.be.closeTo(r.txFrames ? (100 * r.lostFrames) / r.txFrames : 0, 1e-6);
      expect(r.directions.length).to.equal(1);
      expect(r.directions[0]!.txFrames).to.equal(r.txFrames);
      expect(r.achievedTxFps).to.be.greaterThan(0);
      expect(r.generatorLimited).to.equal(false);
      expect(r.lostFrames).to.equal(0);
      if (fx.generator.capabilities().latency && r.latency) {
        expect(r.latency.minNs).to.be.greaterThan(0);
        expect(r.latency.minNs).to.be.at.most(r.latency.avgNs);
        expect(r.latency.avgNs).to.be.at.most(r.latency.maxNs);
      }
    });

    it('sends a fixed frame count exactly', async () => {
      const r = await fx.generator.runTrial(spec(o, { durationS: undefined, frames: 1000 } as Partial<TrialSpec>));
      expect(r.txFrames).to.equal(1000);
    });

    it('runs bidirectional trials when it says it can', async function () {
      if (!fx.generator.capabilities().bidir) this.skip();
      const r = await fx.generator.runTrial(spec(o, { bidir: true }));
      expect(r.directions.length).to.equal(2);
      expect(r.txFrames).to.equal(r.directions[0]!.txFrames + r.directions[1]!.txFrames);
    });

    it('rejects a frame larger than it supports', async () => {
      const big = fx.generator.capabilities().maxFrameSize + 1;
      let err: unknown;
      try {
        await fx.generator.runTrial(spec({ ...o, frameSize: big }));
      } catch (e) {
        err = e;
      }
      expect(err, 'a frame above maxFrameSize must be refused').to.be.instanceOf(Error);
    });

    it('honours an already-aborted signal', async () => {
      const ac = new AbortController();
      ac.abort();
      let err: unknown;
      try {
        await fx.generator.runTrial(spec(o), ac.signal);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(Error);
    });
  });
}
