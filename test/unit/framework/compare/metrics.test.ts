import { expect } from 'chai';
import { extractMetrics, toSeries, mean, stdev } from '../../../../framework/compare/metrics.js';
import { makeRunResults } from '../../../fixtures/results/make.js';

describe('compare/metrics', () => {
  it('extracts one sample per row and metric, with repeats numbered', () => {
    const set = extractMetrics(makeRunResults({ repeats: 3, noiseSeed: 3, noise: 0.05 }));
    const s = toSeries(set.samples).get('phy2phy_tput|p2p|64||throughput_rx_fps')!;
    expect(s.values).to.have.length(3);
    const b2b = toSeries(set.samples).get('back2back|p2p|512||b2b_frames')!;
    expect(b2b.values).to.have.length(3);
    expect(new Set(b2b.values).size).to.be.greaterThan(1);
    expect(set.samples.some((x) => x.metric === 'migration_downtime_ms')).to.equal(true);
    // Labels and booleans are not metrics.
    expect(set.samples.some((x) => x.metric === 'simulated' || x.metric === 'migration_pass' || x.metric === 'packet_size')).to.equal(false);
  });

  it('skips failed testcases but keeps their status', () => {
    const set = extractMetrics(makeRunResults({ failTestcase: 'pvp_tput' }));
    expect(set.samples.some((x) => x.testcase === 'pvp_tput')).to.equal(false);
    expect(set.testcases.find((t) => t.name === 'pvp_tput')!.status).to.equal('failed');
  });

  it('mean and sample standard deviation', () => {
    expect(mean([1, 2, 3])).to.equal(2);
    expect(stdev([2, 4, 4, 4, 5, 5, 7, 9])).to.be.closeTo(2.138, 0.001);
    expect(stdev([5])).to.equal(0);
  });

  it('live migration: per-migration rows are the samples, min/median/max rows are not counted again', () => {
    const r = makeRunResults();
    const mig = r.testcases[4]!;
    const row = mig.rows[0]!;
    const rows = [1, 2, 3]
      .map((i) => ({ ...row, id: `migration_${i}`, migration_downtime_ms: 90 + i }))
      .concat(['min', 'median', 'max'].map((id) => ({ ...row, id, migration_downtime_ms: 0 })));
    const set = extractMetrics({ ...r, testcases: [{ ...mig, rows }] });
    expect(toSeries(set.samples).get('pvp_live_migration|pvp|64||migration_downtime_ms')!.values).to.deep.equal([91, 92, 93]);
  });
});
