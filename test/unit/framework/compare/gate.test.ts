import { expect } from 'chai';
import { compareSets, parseThresholds, noiseBand, DEFAULT_GATE, type GateOptions } from '../../../../framework/compare/gate.js';
import { extractMetrics } from '../../../../framework/compare/metrics.js';
import { formatText } from '../../../../framework/compare/format.js';
import { ConfigError } from '../../../../framework/errors.js';
import { makeRunResults } from '../../../fixtures/results/make.js';

const opts: GateOptions = {
  thresholds: { throughput_rx_fps: { better: 'higher', pct: 5 }, avg_latency_ns: { better: 'lower', pct: 25 }, b2b_frames: { better: 'higher', pct: 10 } },
  noiseSigma: 3,
  failOnMissing: true,
};

describe('compare/gate', () => {
  const base = extractMetrics(makeRunResults({ runId: 'a' }));

  it('passes on equal results', () => {
    const r = compareSets(base, extractMetrics(makeRunResults({ runId: 'b' })), opts);
    expect(r.passed).to.equal(true);
    expect(r.regressions).to.equal(0);
    expect(r.changes.filter((c) => c.verdict === 'ok').length).to.be.greaterThan(10);
  });

  it('fails on a configured throughput drop and names the series', () => {
    const r = compareSets(base, extractMetrics(makeRunResults({ runId: 'c', dropPct: 10 })), opts);
    expect(r.passed).to.equal(false);
    const tput = r.changes.filter((c) => c.metric === 'throughput_rx_fps' && c.testcase === 'phy2phy_tput');
    expect(tput).to.have.length(3);
    for (const c of tput) {
      expect(c.verdict).to.equal('regression');
      expect(c.changePct!).to.be.below(-5);
    }
    expect(formatText(r))
      .to.match(/FAIL/)
      .and.match(/phy2phy_tput\s+64\s+-\s+throughput_rx_fps/);
  });

  it('does not fail on a drop smaller than the threshold', () => {
    const r = compareSets(base, extractMetrics(makeRunResults({ runId: 'd', dropPct: 2 })), opts);
    expect(r.passed, formatText(r)).to.equal(true);
  });

  it('reports improvements without failing', () => {
    const better = extractMetrics(makeRunResults({ runId: 'e', dropPct: -20 }));
    const r = compareSets(base, better, opts);
    expect(r.passed).to.equal(true);
    expect(r.improvements).to.be.greaterThan(0);
  });

  it('is noise-aware: a drop inside the spread of repeats is "within-noise", the same drop without repeats regresses', () => {
    const mk = (vals: number[]) => ({
      runId: 'x',
      startTime: '2026-01-01T00:00:00Z',
      label: 'x',
      simulated: false,
      status: 'passed',
      testcases: [{ name: 't', deployment: 'p2p', status: 'passed' as const }],
      samples: vals.map((value, repeat) => ({ testcase: 't', deployment: 'p2p', frameSize: 64, goal: '', metric: 'throughput_rx_fps', value, repeat })),
    });
    const noisyBase = mk([100, 80, 120, 90, 110]);
    const cur = mk([88, 72, 110, 82, 100]); // mean 90.4 vs 100: −9.6 %
    expect(compareSets(noisyBase, cur, opts).changes[0]!.verdict).to.equal('within-noise');
    expect(compareSets(mk([100]), mk([90]), opts).changes[0]!.verdict).to.equal('regression');
    expect(compareSets(noisyBase, cur, { ...opts, noiseSigma: 0 }).changes[0]!.verdict).to.equal('regression');
    expect(noiseBand({ stdev: 0, n: 1 }, { stdev: 0, n: 1 }, 3)).to.equal(0);
  });

  it('a failed testcase and a missing testcase fail the gate', () => {
    const failed = compareSets(base, extractMetrics(makeRunResults({ runId: 'f', failTestcase: 'pvp_tput' })), opts);
    expect(failed.passed).to.equal(false);
    expect(failed.changes.some((c) => c.testcase === 'pvp_tput' && c.verdict === 'failed')).to.equal(true);
    const partial = makeRunResults({ runId: 'g' });
    const missing = compareSets(base, extractMetrics({ ...partial, testcases: partial.testcases.slice(0, 2) }), opts);
    expect(missing.changes.some((c) => c.verdict === 'missing')).to.equal(true);
    expect(compareSets(base, extractMetrics({ ...partial, testcases: partial.testcases.slice(0, 2) }), { ...opts, failOnMissing: false }).passed).to.equal(
      true,
    );
  });

  it('loss uses the absolute floor: 0 → 0.005 % passes, 0 → 0.5 % fails', () => {
    const mk = (v: number) => ({
      runId: 'x',
      startTime: 't',
      label: 'x',
      simulated: false,
      status: 'passed',
      testcases: [{ name: 't', deployment: 'p2p', status: 'passed' as const }],
      samples: [{ testcase: 't', deployment: 'p2p', frameSize: 64, goal: '', metric: 'frame_loss_percent', value: v, repeat: 0 }],
    });
    expect(compareSets(mk(0), mk(0.005)).changes[0]!.verdict).to.equal('ok');
    expect(compareSets(mk(0), mk(0.5)).changes[0]!.verdict).to.equal('regression');
    expect(DEFAULT_GATE.thresholds.frame_loss_percent!.abs).to.equal(0.01);
  });

  it('warns when simulated and measured results are compared', () => {
    const r = compareSets(base, extractMetrics(makeRunResults({ runId: 's', simulated: true })), opts);
    expect(r.warnings.join(' ')).to.match(/not comparable/);
  });

  it('parseThresholds accepts numbers and objects and names bad keys', () => {
    expect(parseThresholds({ throughput_rx_fps: 3, avg_latency_ns: { pct: 10, abs: 500 } }, 'test')).to.deep.equal({
      throughput_rx_fps: { better: 'higher', pct: 3 },
      avg_latency_ns: { better: 'lower', pct: 10, abs: 500 },
    });
    expect(parseThresholds({ throughput_rx_fps: 3, avg_latency_ns: false, p99_latency_ns: null }, 't')).to.have.keys(['throughput_rx_fps']);
    expect(() => parseThresholds({ throughput_rx_fps: { pct: -1 } }, 'conf/x.json')).to.throw(
      ConfigError,
      /COMPARE_THRESHOLDS\.throughput_rx_fps\.pct.*conf\/x\.json/,
    );
    expect(() => parseThresholds({ tx_rate_fps: 5 }, 'f')).to.throw(ConfigError, /no known good direction/);
    expect(() => parseThresholds({ throughput_rx_fps: { pct: 1, bogus: 1 } }, 'f')).to.throw(ConfigError, /bogus/);
  });
});
