import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultsArchive, ArchiveError } from '../../../../framework/archive/archive.js';
import { compareSets } from '../../../../framework/compare/gate.js';
import { extractMetrics } from '../../../../framework/compare/metrics.js';
import { makeRunResults } from '../../../fixtures/results/make.js';

describe('archive (better-sqlite3)', () => {
  let dir: string;
  let a: ResultsArchive;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vsr-archive-'));
    a = ResultsArchive.open(join(dir, 'sub', 'archive.sqlite'));
  });
  afterEach(() => {
    a.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const night = (d: number, extra: Parameters<typeof makeRunResults>[0] = {}) =>
    makeRunResults({ runId: `night-${d}`, startTime: `2026-11-${String(d).padStart(2, '0')}T02:00:00.000Z`, ...extra });

  it('appends every run and reads back the same figures', () => {
    const r = night(1);
    const n = a.append(r, dir);
    expect(n).to.equal(extractMetrics(r).samples.length);
    const back = a.metricSet('night-1')!;
    expect(back.samples).to.deep.equal(extractMetrics(r).samples);
    expect(compareSets(back, extractMetrics(r)).passed).to.equal(true);
    // Appending the same run again replaces it.
    a.append(r, dir);
    expect(a.runs()).to.have.length(1);
  });

  it('last-good skips failed runs, runs marked as regressions, the run itself and later runs', () => {
    a.append(night(1), dir);
    a.append(night(2, { failTestcase: 'pvp_tput' }), dir);
    a.append(night(3, { dropPct: 10 }), dir);
    a.setGate('night-3', 'regression');
    a.append(night(4), dir);
    expect(a.lastGood({ excludeRunId: 'night-4' })!.runId).to.equal('night-1');
    expect(a.lastGood()!.runId).to.equal('night-4');
    expect(a.lastGood({ before: '2026-11-01T00:00:00Z' })).to.equal(undefined);
    expect(a.lastGood({ excludeRunId: 'night-4', simulated: true })).to.equal(undefined);
    expect(a.lastGood({ excludeRunId: 'night-4', testcases: ['no_such_testcase'] })).to.equal(undefined);
  });

  it('trend: one point per run, oldest first, per testcase + metric', () => {
    a.append(night(1), dir);
    a.append(night(2, { dropPct: 10 }), dir);
    a.append(night(3, { repeats: 2 }), dir);
    const t = a.trend({ testcase: 'phy2phy_tput', metric: 'throughput_rx_fps' });
    expect(t.map((s) => s.frameSize)).to.deep.equal([64, 512, 1518]);
    const s64 = t[0]!;
    expect(s64.points.map((p) => p.runId)).to.deep.equal(['night-1', 'night-2', 'night-3']);
    expect(s64.points[1]!.value).to.be.below(s64.points[0]!.value * 0.95);
    expect(s64.points[2]!.n).to.equal(2);
    expect(a.trend({ lastRuns: 1 }).every((s) => s.points.length === 1 && s.points[0]!.runId === 'night-3')).to.equal(true);
  });

  it('a corrupt archive file is one ArchiveError naming the file', () => {
    const bad = join(dir, 'bad.sqlite');
    writeFileSync(bad, 'this is not a database, just text that is long enough to be read as a header '.repeat(10));
    expect(() => ResultsArchive.open(bad)).to.throw(ArchiveError, /bad\.sqlite/);
  });
});
