import { expect } from 'chai';
import { getMethodology, trafficTypes, estimateTrafficS } from '../../../../framework/methodology/index.js';
import { ConfigError, UsageError, CapabilityError } from '../../../../framework/errors.js';
import { multiGoalOptions, PRESETS } from '../../../../framework/methodology/goals.js';
import { simContext, settings, LINE_64 } from './helpers.js';
import type { DutOptions } from '../../../../trafficgen/simulated/dut.js';
import type { JsonObject } from '../../../../framework/config/settings.js';

async function run(trafficType: string, dut: DutOptions, over: JsonObject = {}, generatorMaxFps?: number) {
  const { ctx, gen } = await simContext(dut, { TRAFFICGEN_TREX_LEARNING_MODE: false, ...over }, generatorMaxFps);
  return { out: await (await getMethodology(trafficType))(ctx), gen };
}

describe('methodologies on the Simulated generator', () => {
  it('knows every VSPERF traffic type plus ndr_pdr and rfc2544_latency, and suggests on a typo', async () => {
    for (const t of [
      'rfc2544_throughput',
      'rfc2544_back2back',
      'rfc2544_continuous',
      'burst',
      'rfc2889_forwarding',
      'rfc2889_learning',
      'rfc2889_caching',
      'ndr_pdr',
      'rfc2544_latency',
    ]) {
      expect(trafficTypes()).to.include(t);
    }
    let err: unknown;
    try {
      await getMethodology('rfc2544_throughtput');
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(UsageError);
    expect((err as Error).message).to.match(/did you mean "rfc2544_throughput"/);
  });

  it('rfc2544_throughput: one row per packet size with VSPERF columns, every trial recorded with its wall time', async () => {
    const { out } = await run(
      'rfc2544_throughput',
      { capacityFps: 2_000_000 },
      { TRAFFICGEN_PKT_SIZES: [64, 1518], TRAFFICGEN_TREX_LEARNING_MODE: true, TRAFFICGEN_TREX_LEARNING_DURATION: 2 },
    );
    expect(out.rows).to.have.length(2);
    const r64 = out.rows[0]!;
    expect(r64.packet_size).to.equal(64);
    expect(Number(r64.throughput_rx_fps)).to.be.within(2_000_000 - 0.0005 * LINE_64 - 1, 2_000_000);
    expect(r64).to.include.keys(
      'tx_rate_fps',
      'tx_rate_mbps',
      'throughput_rx_mbps',
      'tx_rate_percent',
      'throughput_rx_percent',
      'frame_loss_percent',
      'min_latency_ns',
      'avg_latency_ns',
      'max_latency_ns',
      'p99_latency_ns',
      'trials',
      'trial_time_s',
      'search_status',
    );
    expect(r64.simulated).to.equal(true);
    expect(r64.trials).to.equal(12);
    expect(out.trials.filter((t) => t.purpose === 'learning')).to.have.length(2);
    expect(out.trials.every((t) => typeof t.wallS === 'number' && t.wallS >= 0)).to.equal(true);
    expect(out.trials.map((t) => t.index)).to.deep.equal(out.trials.map((_, i) => i));
    // 1518-byte line rate is below the DUT capacity: zero loss at 100 % ends the search at once.
    expect(out.rows[1]!.trials).to.equal(1);
    expect(String(out.rows[1]!.search_status)).to.match(/passed-at-start/);
  });

  it('rfc2544_throughput: TRAFFICGEN_RFC2544_TESTS repeats the search and averages', async () => {
    const { out } = await run('rfc2544_throughput', { capacityFps: 2_000_000, noise: 0.01, seed: 3 }, { TRAFFICGEN_RFC2544_TESTS: 3 });
    expect(out.rows).to.have.length(1);
    expect(out.rows[0]!.tests).to.equal(3);
    expect(out.rows[0]!.trials).to.equal(36);
  });

  it('a generator-limited trial is retried, recorded invalid, and never reported as DUT loss', async () => {
    const { ctx, gen } = await simContext(
      { capacityFps: 20_000_000 },
      { TRAFFICGEN_TREX_LEARNING_MODE: false, TRAFFICGEN_INVALID_TRIAL_RETRIES: 2 },
      5_000_000,
    );
    const caps = gen.capabilities();
    gen.capabilities = () => ({ ...caps, maxRateFps: undefined }); // a generator that does not know its limit
    const cont = await (await getMethodology('rfc2544_continuous'))(ctx);
    expect(cont.trials).to.have.length(3);
    expect(cont.trials.every((t) => !t.valid && /generator-limited/.test(t.invalidReason ?? ''))).to.equal(true);
    expect(String(cont.rows[0]!.search_status)).to.match(/^invalid: generator-limited/);
    const tput = await (await getMethodology('rfc2544_throughput'))(ctx);
    expect(String(tput.rows[0]!.search_status)).to.match(/^generator-limited/);
    expect(Number(tput.rows[0]!.throughput_rx_fps)).to.be.within(4_900_000, 5_000_000);
  });

  it('the search is capped at capabilities().maxRateFps before any trial', async () => {
    const { out } = await run('rfc2544_continuous', { capacityFps: 20_000_000 }, {}, 5_000_000);
    // The generator declares 5 Mfps: the rate is capped before any trial.
    expect(out.trials).to.have.length(1);
    expect(out.trials[0]!.rateFps).to.equal(5_000_000);
    expect(String(out.rows[0]!.search_status)).to.match(/capped at the generator maximum/);
    expect(out.rows[0]!.frame_loss_percent).to.equal(0);
  });

  it('ndr_pdr: one row per goal with goal, goal_loss_ratio, bounds and conditional throughput', async () => {
    const { out } = await run('ndr_pdr', { capacityFps: 3_000_000, curve: 'soft', kneeRatio: 0.9, softLossAtCapacity: 0.02 });
    expect(out.rows.map((r) => r.goal)).to.deep.equal(['NDR', 'PDR']);
    for (const r of out.rows) {
      expect(r).to.include.keys(
        'goal',
        'goal_loss_ratio',
        'lower_bound_fps',
        'upper_bound_fps',
        'conditional_throughput_fps',
        'throughput_rx_fps',
        'search_status',
        'trials',
        'trial_time_s',
      );
      expect(r.search_status).to.equal('regular');
      expect(Number(r.lower_bound_fps)).to.be.lessThan(Number(r.upper_bound_fps));
      // The conditional throughput is the primary figure; the bounds stand beside it.
      expect(r.throughput_rx_fps).to.equal(r.conditional_throughput_fps);
      expect(Number(r.conditional_throughput_fps)).to.be.at.most(Number(r.lower_bound_fps));
      expect(r.tx_rate_fps).to.equal(r.lower_bound_fps);
    }
    expect(Number(out.rows[0]!.lower_bound_fps)).to.be.within(2_700_000 * 0.99, 2_700_001);
    expect(out.rows[1]!.goal_loss_ratio).to.equal(0.005);
    expect(out.details).to.have.property('search', 'multi-goal');
    expect(out.trials.every((t) => t.goal !== undefined)).to.equal(true);
  });

  it('ndr_pdr: the tst009 preset uses 60 s full-length trials', async () => {
    const { out } = await run('ndr_pdr', { capacityFps: 1_000_000 }, { TRAFFICGEN_NDR_PDR: { preset: 'tst009' } });
    expect(Math.max(...out.trials.map((t) => t.durationS ?? 0))).to.equal(60);
    expect(out.rows.every((r) => r.search_status === 'regular')).to.equal(true);
  });

  it('TRAFFICGEN_NDR_PDR: goals override the preset; bad values raise ConfigError naming the key', () => {
    const o = multiGoalOptions(
      settings({
        TRAFFICGEN_NDR_PDR: {
          preset: 'rfc2544',
          goals: [
            { name: 'PDR', loss_ratio: 0.001 },
            { name: 'X', loss_ratio: 0.01, final_trial_duration_s: 10, duration_sum_s: 10 },
          ],
        },
      }),
    );
    expect(o.goals[0]).to.include({ name: 'PDR', lossRatio: 0.001, finalTrialDurationS: 60, exceedRatio: 0 });
    expect(o.goals[1]).to.include({ name: 'X', lossRatio: 0.01, finalTrialDurationS: 10 });
    expect(PRESETS.csit!.goals[1]!.lossRatio).to.equal(0.005);
    const bad = (v: JsonObject, key: RegExp): void => {
      let err: unknown;
      try {
        multiGoalOptions(settings({ TRAFFICGEN_NDR_PDR: v }));
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as ConfigError).key).to.match(key);
      expect((err as ConfigError).source).to.equal('--test-params');
    };
    bad({ preset: 'fast' }, /TRAFFICGEN_NDR_PDR\.preset/);
    bad({ goals: [{ loss_ratio: 1.5 }] }, /TRAFFICGEN_NDR_PDR\.goals\[0\]/);
    bad({ goals: [{ name: 'A', colour: 1 }] }, /goals\[0\]\.colour/);
    bad({ exceed: 1 }, /TRAFFICGEN_NDR_PDR\.exceed/);
    bad({ csit_compatible: 'yes' }, /TRAFFICGEN_NDR_PDR\.csit_compatible/);
    expect(multiGoalOptions(settings({ TRAFFICGEN_NDR_PDR: { csit_compatible: true } })).csitCompatible).to.equal(true);
    expect(multiGoalOptions(settings({ TRAFFICGEN_NDR_PDR: {} })).csitCompatible).to.equal(undefined);
  });

  it('rfc2544_back2back: longest loss-free burst in b2b_* columns', async () => {
    const { out } = await run('rfc2544_back2back', { capacityFps: 2_000_000, bufferFrames: 4096 });
    const r = out.rows[0]!;
    const expected = 4096 / (1 - 2_000_000 / LINE_64);
    expect(Number(r.b2b_frames)).to.be.within(expected * 0.998 - 1, expected + 1);
    expect(r).to.include.keys(
      'b2b_rx_fps',
      'b2b_tx_fps',
      'b2b_rx_percent',
      'b2b_tx_percent',
      'b2b_tx_count',
      'b2b_frames',
      'b2b_frame_loss_frames',
      'b2b_frame_loss_percent',
    );
    expect(r.b2b_frame_loss_frames).to.equal(0);
    expect(out.trials[0]!.frames).to.equal(Math.round(LINE_64 * 30));
  });

  it('burst: TRAFFIC.burst_size frames per direction with VSPERF burst columns', async () => {
    const { out } = await run('burst', { capacityFps: 2_000_000, bufferFrames: 100 }, { TRAFFIC: { burst_size: 1000 } });
    const r = out.rows[0]!;
    expect(r.tx_frames).to.equal(2000);
    expect(Number(r.rx_frames)).to.be.lessThan(2000);
    expect(r).to.include.keys('tx_bytes', 'rx_bytes', 'seq_err', 'frame_loss_percent');
  });

  it('rfc2544_latency: latency at each fraction of the found throughput with percentiles', async () => {
    const { out } = await run(
      'rfc2544_latency',
      { capacityFps: 2_000_000 },
      { TRAFFICGEN_LATENCY_LOAD_PCT: [50, 90], TRAFFICGEN_LATENCY_DURATION: 10, TRAFFICGEN_LATENCY_TRIALS: 2 },
    );
    expect(out.rows.map((r) => r.latency_load_pct)).to.deep.equal([50, 90]);
    const [a, b] = out.rows as [Record<string, number>, Record<string, number>];
    expect(a.tx_rate_fps).to.be.closeTo(0.5 * 2_000_000, 0.001 * LINE_64);
    expect(b.avg_latency_ns).to.be.greaterThan(a.avg_latency_ns);
    for (const r of [a, b]) {
      expect(r.min_latency_ns).to.be.at.most(r.avg_latency_ns);
      expect(r.p50_latency_ns).to.be.at.most(r.p99_latency_ns);
      expect(r.p99_latency_ns).to.be.at.most(r.max_latency_ns);
    }
    expect(out.trials.filter((t) => /^latency/.test(t.purpose ?? ''))).to.have.length(4);
  });

  it('rfc2544_latency fails with CapabilityError on a generator without latency', async () => {
    const { ctx, gen } = await simContext({ capacityFps: 1e6 });
    const caps = gen.capabilities();
    gen.capabilities = () => ({ ...caps, latency: false });
    let err: unknown;
    try {
      await (
        await getMethodology('rfc2544_latency')
      )(ctx);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(CapabilityError);
  });

  it('rfc2889_forwarding: max forwarding rate over loads from the throughput up to line rate', async () => {
    const { out } = await run('rfc2889_forwarding', { capacityFps: 3_000_000, overloadCollapse: 0.2 }, { TRAFFICGEN_RFC2889_FWD_STEPS: 5 });
    const r = out.rows[0]!;
    expect(Number(r.forwarding_rate_fps)).to.be.within(2_990_000, 3_000_000);
    expect(out.trials.filter((t) => /forwarding step/.test(t.purpose ?? ''))).to.have.length(5);
  });

  it('rfc2889_caching and rfc2889_learning find the MAC table size and learning rate', async () => {
    const dut = { capacityFps: 5_000_000, fdbSize: 6000, learningRateFps: 4000 };
    const caching = (await run('rfc2889_caching', dut)).out.rows[0]!;
    expect(caching.caching_capacity_addrs).to.equal(3000); // bidirectional: two address sets share the table
    expect(Number(caching.addr_learned_percent)).to.be.closeTo((6000 / (2 * 65536)) * 100, 0.01);
    const learning = (await run('rfc2889_learning', dut)).out.rows[0]!;
    expect(Number(learning.optimal_learning_rate_fps)).to.be.within(2000 - 10, 2000);
  });

  it('estimates traffic time per frame size within a factor of two of what the search spends', async () => {
    const dut = { capacityFps: 3_000_000, curve: 'soft' as const, kneeRatio: 0.9, softLossAtCapacity: 0.02 };
    for (const [t, over] of [
      ['rfc2544_throughput', {}],
      ['ndr_pdr', {}],
      ['ndr_pdr', { TRAFFICGEN_NDR_PDR: { preset: 'rfc2544' } }],
      ['rfc2544_latency', { TRAFFICGEN_LATENCY_DURATION: 10 }],
    ] as const) {
      const { ctx } = await simContext(dut, { TRAFFICGEN_TREX_LEARNING_MODE: false, ...over });
      const out = await (await getMethodology(t))(ctx);
      const spent = out.trials.reduce((a, x) => a + (x.durationS ?? x.result.durationS), 0);
      const est = await estimateTrafficS(t, ctx.settings);
      expect(est, t).to.be.within(spent / 2, spent * 2);
    }
  });
});
