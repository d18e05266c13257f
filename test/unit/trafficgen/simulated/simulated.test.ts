import { expect } from 'chai';
import fc from 'fast-check';
import { SimulatedDut, rng } from '../../../../trafficgen/simulated/dut.js';
import { SimulatedGenerator, dutFromSettings } from '../../../../trafficgen/simulated/driver.js';
import { Settings } from '../../../../framework/config/settings.js';
import { ConfigError } from '../../../../framework/errors.js';
import type { TrialSpec } from '../../../../framework/api/trafficgen.js';
import { basicStream } from '../../../../framework/api/example-spec.js';

const stream = basicStream();
const spec = (fps: number, over: Partial<TrialSpec> = {}): TrialSpec => ({
  stream,
  bidir: true,
  rate: { unit: 'fps', value: fps },
  latency: true,
  durationS: 30,
  ...over,
});

async function gen(dut: ConstructorParameters<typeof SimulatedDut>[0], generatorMaxFps?: number): Promise<SimulatedGenerator> {
  const g = new SimulatedGenerator(new SimulatedDut(dut), generatorMaxFps !== undefined ? { generatorMaxFps } : {});
  await g.connect([
    { name: 'a', speedMbps: 10_000 },
    { name: 'b', speedMbps: 10_000 },
  ]);
  return g;
}

describe('Simulated DUT and generator', () => {
  it('rng is seeded and deterministic', () => {
    const a = rng(42);
    const b = rng(42);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).to.deep.equal(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).to.equal(true);
  });

  it('cliff: no loss up to capacity, only the excess lost above it', () => {
    const d = new SimulatedDut({ capacityFps: 1e6 });
    expect(d.lossRatio(1e6)).to.equal(0);
    expect(d.lossRatio(2e6)).to.be.closeTo(0.5, 1e-12);
    expect(d.trueThroughput(0, 1e7)).to.be.closeTo(1e6, 1);
    expect(d.trueThroughput(0.005, 1e7)).to.be.closeTo(1e6 / 0.995, 1);
  });

  it('soft knee: loss starts at knee × capacity and reaches softLossAtCapacity at capacity', () => {
    const d = new SimulatedDut({ capacityFps: 1e6, curve: 'soft', kneeRatio: 0.9, softLossAtCapacity: 0.02 });
    expect(d.lossRatio(0.9e6)).to.equal(0);
    expect(d.lossRatio(1e6)).to.be.closeTo(0.02, 1e-12);
    expect(d.trueThroughput(0, 1e7)).to.be.closeTo(0.9e6, 1);
    expect(d.trueThroughput(0.005, 1e7)).to.be.closeTo(0.95e6, 1);
  });

  it('points curve can be non-monotone; overload collapse lowers forwarding above capacity', () => {
    const d = new SimulatedDut({
      capacityFps: 5e6,
      curve: 'points',
      points: [
        [1e6, 0],
        [1.1e6, 0.1],
        [1.2e6, 0],
      ],
    });
    expect(d.lossRatio(1.1e6)).to.be.closeTo(0.1, 1e-12);
    expect(d.lossRatio(1.3e6)).to.equal(0);
    expect(d.trueThroughput(0, 1e7)).to.be.closeTo(1e6, 1);
    const c = new SimulatedDut({ capacityFps: 1e6, overloadCollapse: 0.5 });
    expect(2e6 * (1 - c.lossRatio(2e6))).to.be.closeTo(0.5e6, 1e-3);
  });

  it('property: the noise-free loss ratio never decreases with rate on cliff and soft curves', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e3, max: 1e7, noNaN: true }),
        fc.constantFrom('cliff' as const, 'soft' as const),
        fc.double({ min: 0, max: 2e7, noNaN: true }),
        fc.double({ min: 0, max: 2e7, noNaN: true }),
        (cap, curve, a, b) => {
          const d = new SimulatedDut({ capacityFps: cap, curve });
          const [lo, hi] = a < b ? [a, b] : [b, a];
          expect(d.lossRatio(lo)).to.be.at.most(d.lossRatio(hi) + 1e-12);
        },
      ),
    );
  });

  // An hour-long trial that finished at all did not wait for its duration: mocha's timeout (2 min) is far shorter.
  it('models an hour-long trial without waiting for it, labels results simulated, and is reproducible for a seed', async () => {
    const g1 = await gen({ capacityFps: 2e6, noise: 0.01, spikeProbabilityPerS: 0.1, seed: 9 });
    const r1 = await g1.runTrial(spec(2e6, { durationS: 3600 }));
    expect(r1.simulated).to.equal(true);
    expect(r1.durationS).to.equal(3600);
    expect(r1.directions).to.have.length(2);
    const g2 = await gen({ capacityFps: 2e6, noise: 0.01, spikeProbabilityPerS: 0.1, seed: 9 });
    const r2 = await g2.runTrial(spec(2e6, { durationS: 3600 }));
    expect(r2.lostFrames).to.equal(r1.lostFrames);
  });

  it('loss spikes hit at the configured rate per second of traffic', async () => {
    const g = await gen({ capacityFps: 1e7, spikeProbabilityPerS: 0.05, spikeFrames: 7, seed: 5 });
    let spikes = 0;
    for (let i = 0; i < 400; i++) if ((await g.runTrial(spec(1e5, { durationS: 1, bidir: false }))).lostFrames > 0) spikes++;
    expect(spikes).to.be.within(8, 35); // ≈ 20 expected
  });

  it('marks trials above its maximum rate generator-limited and declares the maximum', async () => {
    const g = await gen({ capacityFps: 1e7 }, 3e6);
    expect(g.capabilities().maxRateFps).to.equal(3e6);
    const r = await g.runTrial(spec(5e6));
    expect(r.generatorLimited).to.equal(true);
    expect(r.achievedTxFps).to.equal(3e6);
    expect(r.lossPct).to.equal(0);
    expect((await g.runTrial(spec(2e6))).generatorLimited).to.equal(false);
  });

  it('fixed-count bursts lose what exceeds the buffer plus what drains during the burst', async () => {
    const g = await gen({ capacityFps: 1e6, bufferFrames: 1000 });
    const line = 10e9 / (84 * 8);
    const ok = Math.floor(1000 / (1 - 1e6 / line));
    expect((await g.runTrial(spec(line, { frames: ok, durationS: undefined, bidir: false }))).lostFrames).to.equal(0);
    expect((await g.runTrial(spec(line, { frames: ok * 2, durationS: undefined, bidir: false }))).lostFrames).to.be.greaterThan(0);
  });

  it('MAC table: unknown destinations are dropped until learned; the table size and learning rate limit learning', async () => {
    const g = await gen({ capacityFps: 1e7, fdbSize: 1000, learningRateFps: 2000 });
    const l2 = (n: number, fps: number) =>
      spec(fps, { frames: n, durationS: undefined, bidir: false, stream: { ...stream, multistream: n, streamType: 'L2' } });
    expect((await g.runTrial(l2(500, 1000))).lossPct).to.equal(100); // nothing learned yet
    expect((await g.runTrial(l2(500, 1000))).lossPct).to.equal(0); // learned by the first trial
    await g.runTrial(l2(2000, 1000));
    expect((await g.runTrial(l2(2000, 1000))).lossPct).to.be.closeTo(50, 0.01); // table holds 1000 of 2000
    await g.runTrial(l2(400, 8000));
    expect((await g.runTrial(l2(400, 1000))).lossPct).to.be.closeTo(75, 0.01); // learned at 2000 of 8000 fps
    // A long trial cycles through the addresses many times and learns them all despite the rate.
    const long = spec(8000, { durationS: 10, bidir: false, stream: { ...stream, multistream: 300, streamType: 'L2' } });
    await g.runTrial(long);
    expect((await g.runTrial(long)).lossPct).to.equal(0);
  });

  it('continuous runs compute from elapsed time without sleeping', async () => {
    const g = await gen({ capacityFps: 1e6 });
    const run = await g.startContinuous!({ stream, bidir: false, rate: { unit: 'fps', value: 2e6 }, latency: false });
    const live = await run.poll();
    expect(live.elapsedS).to.be.at.least(0);
    const r = await run.stop();
    expect(r.simulated).to.equal(true);
    expect(r.lossPct).to.be.closeTo(50, 0.5);
  });

  it('SIMULATED_DUT settings: defaults, all keys, and a ConfigError naming a bad key', () => {
    const s = (v: unknown) => new Settings({ SIMULATED_DUT: v } as never, new Map([['SIMULATED_DUT', 'conf/03_traffic_simulated.json']]));
    const { dut, generatorMaxFps } = dutFromSettings(
      s({
        capacity_fps: 5e5,
        curve: 'soft',
        knee_ratio: 0.8,
        noise: 0.01,
        spike_probability: 0.001,
        spike_frames: 3,
        seed: 4,
        buffer_frames: 10,
        fdb_size: 100,
        learning_rate_fps: 10,
        unknown_unicast: 'flood',
        base_latency_ns: 5000,
        overload_collapse: 0.1,
        soft_loss_at_capacity: 0.05,
        generator_max_fps: 1e6,
      }),
    );
    expect(dut.options).to.include({ capacityFps: 5e5, curve: 'soft', kneeRatio: 0.8, unknownUnicast: 'flood', fdbSize: 100 });
    expect(generatorMaxFps).to.equal(1e6);
    for (const [v, key] of [
      [{ curve: 'wavy' }, 'SIMULATED_DUT.curve'],
      [{ capacity_fps: -1 }, 'SIMULATED_DUT.capacity_fps'],
      [{ colour: 1 }, 'SIMULATED_DUT.colour'],
      [{ curve: 'points' }, 'SIMULATED_DUT'],
    ] as const) {
      let err: unknown;
      try {
        dutFromSettings(s(v));
      } catch (e) {
        err = e;
      }
      expect(err, key).to.be.instanceOf(ConfigError);
      expect((err as ConfigError).key).to.equal(key);
      expect((err as ConfigError).message).to.include('conf/03_traffic_simulated.json');
    }
  });
});
