import { expect } from 'chai';
import fc from 'fast-check';
import { getMethodology } from '../../../../framework/methodology/index.js';
import { validateRows } from '../../../../framework/runner/run.js';
import { backoffRate, BACKOFF_FIRST_RATIO } from '../../../../framework/methodology/backoff.js';
import { dutFromSettings } from '../../../../trafficgen/simulated/driver.js';
import { ConfigError } from '../../../../framework/errors.js';
import { simContext, settings, LINE_64 } from './helpers.js';

/**
 * A generator that falls 0.3–1 % short of high offered rates at random is no evidence about the DUT:
 * every search must back off to a valid trial and report a result > 0 as a lower bound with its reason.
 */
const SEARCHES = ['rfc2544_throughput', 'ndr_pdr', 'rfc2544_back2back', 'rfc2889_forwarding', 'rfc2889_caching', 'rfc2889_learning'] as const;

const FIGURE: Record<(typeof SEARCHES)[number], string> = {
  rfc2544_throughput: 'throughput_rx_fps',
  ndr_pdr: 'lower_bound_fps',
  rfc2544_back2back: 'b2b_frames',
  rfc2889_forwarding: 'forwarding_rate_fps',
  rfc2889_caching: 'caching_capacity_addrs',
  rfc2889_learning: 'optimal_learning_rate_fps',
};

describe('generator back-off: no false zero (property, Simulated DUT + short-falling generator)', function () {
  this.timeout(60_000);
  it('back-off rates: 90 % of what was achieved, then halving', () => {
    expect(backoffRate(1000, 800, 1)).to.equal(800 * BACKOFF_FIRST_RATIO);
    expect(backoffRate(1000, 800, 2)).to.equal(800 * BACKOFF_FIRST_RATIO * 0.5);
    expect(backoffRate(1000, 0, 1)).to.equal(900);
  });

  for (const tt of SEARCHES) {
    it(`${tt}: every run reports > 0, never E_NO_THROUGHPUT, and a back-off shows as a lower bound`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.double({ min: 2e5, max: 8e6, noNaN: true }),
          fc.double({ min: 0.3, max: 1.2, noNaN: true }),
          fc.integer({ min: 1, max: 1e6 }),
          fc.constantFrom<'cliff' | 'soft'>('cliff', 'soft'),
          async (capacityFps, aboveRatio, seed, curve) => {
            // RFC 2889 probes run at ~1–15 kfps: the shortfall threshold must sit in that range to bite.
            const scale = tt === 'rfc2889_caching' || tt === 'rfc2889_learning' ? 2000 : Math.min(capacityFps, LINE_64);
            const shortfall = { aboveFps: aboveRatio * scale, minRatio: 0.003, maxRatio: 0.01, probability: 1, seed };
            const over = {
              TRAFFICGEN_TREX_LEARNING_MODE: false,
              TRAFFICGEN_DURATION: 1,
              TRAFFIC: { traffic_type: tt },
              TRAFFICGEN_RFC2889_MAX_ADDRS: 4096,
              TRAFFICGEN_RFC2889_MIN_ADDRS: 16,
              TRAFFICGEN_RFC2889_FWD_STEPS: 3,
            };
            const { ctx } = await simContext({ capacityFps, curve, seed, fdbSize: 6000, learningRateFps: 8000 }, over, undefined, shortfall);
            const out = await (await getMethodology(tt))(ctx);
            expect(validateRows(out.rows)).to.equal(undefined);
            for (const row of out.rows) expect(Number(row[FIGURE[tt]]), `${tt} ${FIGURE[tt]}`).to.be.greaterThan(0);
            const limited = out.trials.filter((t) => !t.valid);
            const decisive = out.trials.some((t) => /generator back-off/.test(t.purpose ?? ''));
            if (decisive) {
              expect(
                out.rows.every((r) => /lower bound/.test(String(r.search_status))),
                String(out.rows[0]!.search_status),
              ).to.equal(true);
              expect(limited.length).to.be.greaterThan(0);
            }
          },
        ),
        { numRuns: 25, seed: 13 },
      );
    });
  }

  it('E_NO_THROUGHPUT only when a valid trial forwarded nothing; no valid trial at all is E_GENERATOR_LIMITED', async () => {
    const dead = await simContext(
      {
        capacityFps: 1e6,
        curve: 'points',
        points: [
          [0, 1],
          [1e9, 1],
        ],
      },
      { TRAFFICGEN_TREX_LEARNING_MODE: false, TRAFFICGEN_DURATION: 1 },
      undefined,
      { aboveFps: 1e5, minRatio: 0.003, maxRatio: 0.01, probability: 1, seed: 1 },
    );
    const d = await (await getMethodology('rfc2544_throughput'))(dead.ctx);
    expect(validateRows(d.rows)?.code).to.equal('E_NO_THROUGHPUT');
    expect(d.trials.some((t) => t.valid && t.result.rxFrames === 0)).to.equal(true);
    const never = await simContext({ capacityFps: 1e6 }, { TRAFFICGEN_TREX_LEARNING_MODE: false, TRAFFICGEN_DURATION: 1 }, undefined, {
      aboveFps: 0,
      minRatio: 0.003,
      maxRatio: 0.01,
      probability: 1,
      seed: 1,
    });
    const n = await (await getMethodology('rfc2544_throughput'))(never.ctx);
    expect(n.trials.every((t) => !t.valid)).to.equal(true);
    expect(validateRows(n.rows)?.code).to.equal('E_GENERATOR_LIMITED');
    expect(String(n.rows[0]!.search_status)).to.match(/no valid trial/);
  });

  it('SIMULATED_DUT.generator_shortfall is read and checked', () => {
    const ok = dutFromSettings(settings({ SIMULATED_DUT: { capacity_fps: 1e6, generator_shortfall: { above_fps: 5e5, min_ratio: 0.003, max_ratio: 0.01 } } }));
    expect(ok.shortfall).to.deep.equal({ aboveFps: 5e5, minRatio: 0.003, maxRatio: 0.01, probability: 1, seed: 7 });
    expect(() => dutFromSettings(settings({ SIMULATED_DUT: { generator_shortfall: { above: 1 } } }))).to.throw(
      ConfigError,
      /SIMULATED_DUT\.generator_shortfall\.above: unknown key/,
    );
    expect(() => dutFromSettings(settings({ SIMULATED_DUT: { generator_shortfall: { min_ratio: 0.02, max_ratio: 0.01 } } }))).to.throw(
      ConfigError,
      /max_ratio/,
    );
  });
});
