import { expect } from 'chai';
import { formatPoint, runToPoints, toLineProtocol, escKey, escMeasurement, escString } from '../../../../framework/export/line-protocol.js';
import { makeRunResults } from '../../../fixtures/results/make.js';

describe('export/line-protocol', () => {
  it('escapes measurement, tag and field syntax', () => {
    expect(escMeasurement('a b,c')).to.equal('a\\ b\\,c');
    expect(escKey('k=v, x')).to.equal('k\\=v\\,\\ x');
    expect(escString('say "hi" \\ now')).to.equal('"say \\"hi\\" \\\\ now"');
    const line = formatPoint({ measurement: 'm', tags: { tc: 'a b', empty: '' }, fields: { v: 3, s: 'x"y', ok: true, bad: Number.NaN }, timeNs: 5n });
    expect(line).to.equal('m,tc=a\\ b v=3.0,s="x\\"y",ok=true 5');
  });

  it('numbers are always floats so a field never changes type', () => {
    expect(formatPoint({ measurement: 'm', tags: {}, fields: { a: 1, b: 1.5, c: 1e21 }, timeNs: 1n })).to.equal('m a=1.0,b=1.5,c=1e+21 1');
  });

  it('a run becomes run, result and trial points with nanosecond timestamps', () => {
    const r = makeRunResults({ runId: 'lp' });
    const pts = runToPoints(r, { prefix: 'vs' });
    const results = pts.filter((p) => p.measurement === 'vs_result');
    expect(results.length).to.equal(r.testcases.reduce((a, t) => a + t.rows.length, 0));
    const first = results[0]!;
    expect(first.tags).to.include({ testcase: 'phy2phy_tput', packet_size: '64', run_id: 'lp' });
    expect(first.fields.throughput_rx_fps).to.equal(r.testcases[0]!.rows[0]!.throughput_rx_fps);
    expect(first.timeNs).to.equal(BigInt(Date.parse(r.testcases[0]!.stopTime)) * 1_000_000n);
    expect(pts.filter((p) => p.measurement === 'vs_trial').length).to.equal(r.testcases.reduce((a, t) => a + t.trials.length, 0));
    expect(runToPoints(r, { trials: false }).some((p) => p.measurement.endsWith('_trial'))).to.equal(false);
    const text = toLineProtocol(pts);
    expect(text.split('\n').filter(Boolean).length).to.equal(pts.length);
    // Distinct timestamps per row of one testcase: nothing overwrites anything in InfluxDB.
    const keys = results.map((p) => `${JSON.stringify(p.tags)} ${p.timeNs}`);
    expect(new Set(keys).size).to.equal(keys.length);
  });
});
