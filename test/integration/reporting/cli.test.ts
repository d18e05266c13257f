/**
 * The subcommands as a user runs them (`node bin/vsperf.js compare|report|trend`): exit codes, the
 * table of changes, `--baseline last-good` through the archive that post-run fills, the trend table.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterRun } from '../../../framework/results/post-run.js';
import { silentLogger } from '../../../framework/log/logger.js';
import { makeRunResults, writeResultsDir } from '../../fixtures/results/make.js';
import { settingsWith, VSPERF } from './helpers.js';

function vsperf(args: string[], cwd: string): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [VSPERF, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('vsperf compare / report / trend (CLI)', function () {
  this.timeout(120_000);
  let dir: string;
  let base: string;
  let equal: string;
  let degraded: string;
  before(() => {
    dir = mkdtempSync('/tmp/vsr-cli-');
    base = writeResultsDir(join(dir, 'results_2026-11-20_020000'), makeRunResults({ runId: 'n1', startTime: '2026-11-20T02:00:00.000Z' }));
    equal = writeResultsDir(join(dir, 'results_2026-11-21_020000'), makeRunResults({ runId: 'n2', startTime: '2026-11-21T02:00:00.000Z' }));
    degraded = writeResultsDir(join(dir, 'results_2026-11-22_020000'), makeRunResults({ runId: 'n3', startTime: '2026-11-22T02:00:00.000Z', dropPct: 10 }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('compare passes (exit 0) on equal results', () => {
    const r = vsperf(['compare', base, equal], dir);
    expect(r.code, r.err).to.equal(0);
    expect(r.out)
      .to.match(/0 regression\(s\)/)
      .and.match(/PASS: no regression/);
  });

  it('compare fails (exit 1) on results degraded by a configured drop, and the threshold comes from config', () => {
    const r = vsperf(['compare', base, degraded], dir);
    expect(r.code).to.equal(1);
    expect(r.out).to.match(/phy2phy_tput\s+64\s+-\s+throughput_rx_fps\s+\S+\s+\S+\s+-1\d\.\d\d%\s+\S+\s+REGRESSION/);
    expect(r.out).to.match(/FAIL: regression/);
    // A looser limit on the command line turns the same drop into a pass for that metric.
    const loose = vsperf(
      [
        'compare',
        base,
        degraded,
        '--threshold',
        'throughput_rx_fps=20',
        '--threshold',
        'b2b_frames=20',
        '--threshold',
        'frame_loss_percent=lower:100:100',
        '--format',
        'json',
      ],
      dir,
    );
    const report = JSON.parse(loose.out) as { changes: { metric: string; verdict: string }[] };
    expect(report.changes.filter((c) => c.metric === 'throughput_rx_fps').every((c) => c.verdict !== 'regression')).to.equal(true);
  });

  it('usage errors exit 2 with one line', () => {
    const r = vsperf(['compare', base], dir);
    expect(r.code).to.equal(2);
    expect(r.err.trim().split('\n')).to.have.length(1);
    expect(r.err).to.match(/missing baseline/);
    expect(vsperf(['compare', base, join(dir, 'nope')], dir).err).to.match(/does not exist/);
    expect(vsperf(['compare', '--baseline', 'last-good', '--archive', join(dir, 'none.sqlite'), equal], dir).code).to.equal(2);
  });

  it('post-run archives every run; --baseline last-good and trend work across nights', async () => {
    const archive = join(dir, 'archive.sqlite');
    const s = settingsWith({ RESULTS_ARCHIVE: archive });
    for (const d of [base, equal, degraded]) await afterRun(d, s, silentLogger);
    expect(existsSync(join(degraded, 'report.html'))).to.equal(true);
    // post-run already gated night 3 against night 2 and shows it in the report.
    expect(readFileSync(join(degraded, 'summary.md'), 'utf8')).to.match(/## Regression gate[\s\S]*❌ \d+ regression/);

    const ok = vsperf(['compare', '--baseline', 'last-good', '--archive', archive, equal], dir);
    expect(ok.code, ok.out + ok.err).to.equal(0);
    expect(ok.out).to.match(/baseline: results_2026-11-20_020000 \(archive\) \(n1/);
    const bad = vsperf(['compare', '--baseline', 'last-good', '--archive', archive, degraded], dir);
    expect(bad.code).to.equal(1);
    expect(bad.out).to.match(/\(n2,/);

    const runs = vsperf(['trend', '--runs', '--archive', archive], dir);
    expect(runs.code).to.equal(0);
    expect(runs.out)
      .to.match(/n3\s+passed\s+regression/)
      .and.match(/n2\s+passed\s+pass/);
    const t = vsperf(['trend', 'phy2phy_tput', '--metric', 'throughput_rx_fps', '--archive', archive], dir);
    expect(t.code, t.err).to.equal(0);
    const line64 = t.out.split('\n').find((l) => /^phy2phy_tput\s+64\s/.test(l))!;
    expect(line64).to.match(/\s3\s+1\.976M\s+1\.744M\s+1\.744M\s+1\.976M\s+-11\.8%\s+██▁$/);
    const csv = vsperf(['trend', 'phy2phy_tput', '--metric', 'throughput_rx_fps', '--format', 'csv', '--archive', archive], dir);
    expect(csv.out.trim().split('\n')).to.have.length(1 + 3 * 3);
  });

  it('report DIR rewrites report.html and summary.md', () => {
    rmSync(join(equal, 'report.html'), { force: true });
    const r = vsperf(['report', equal], dir);
    expect(r.code, r.err).to.equal(0);
    expect(readFileSync(join(equal, 'report.html'), 'utf8')).to.match(/class="plot plot-throughput"/);
  });
});
