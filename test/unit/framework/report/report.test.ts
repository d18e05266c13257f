import { expect } from 'chai';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderHtml } from '../../../../framework/report/html.js';
import { renderMarkdown } from '../../../../framework/report/markdown.js';
import { writeReport } from '../../../../framework/report/index.js';
import { loadResultsDir, ResultsFormatError } from '../../../../framework/report/results-dir.js';
import { migrationTimelines, resultTrial } from '../../../../framework/report/extract.js';
import { niceTicks, lineChart } from '../../../../framework/report/svg.js';
import { UsageError } from '../../../../framework/errors.js';
import { makeRunResults, writeResultsDir } from '../../../fixtures/results/make.js';

function count(html: string, re: RegExp): number {
  return (html.match(re) ?? []).length;
}

describe('report', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vsr-report-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('renders every plot kind as inline SVG with no external reference', () => {
    const html = renderHtml(makeRunResults());
    expect(count(html, /<svg [^>]*class="plot plot-throughput"/g)).to.equal(3); // tput, cont, pvp
    expect(count(html, /class="plot plot-latency"/g)).to.equal(3);
    expect(count(html, /class="plot plot-trajectory"/g)).to.be.at.least(2);
    expect(count(html, /class="plot plot-histogram"/g)).to.be.at.least(6);
    expect(count(html, /class="plot plot-timeline"/g)).to.equal(2); // full + zoom
    expect(count(html, /class="plot plot-b2b"/g)).to.equal(1);
    // Offline: no script, no external URL other than the SVG namespace.
    expect(html).to.not.match(/<script|<link |<img |@import|url\(/i);
    const urls = (html.match(/https?:\/\/[^"'\s<)]+/g) ?? []).filter((u) => u !== 'http://www.w3.org/2000/svg');
    expect(urls).to.deep.equal([]);
    // Trajectory markers carry pass/fail colours and the per-trial figures.
    expect(html).to.match(/trial 0 \(64 B, bisect\): offered [\d.]+M fps.*→ fail/);
    expect(html)
      .to.match(/STOP/)
      .and.match(/RESUME/)
      .and.match(/receive silence 73 ms/);
  });

  it('escapes text that comes from results', () => {
    const r = makeRunResults();
    const evil = { ...r, runId: '<script>alert(1)</script>', testcases: r.testcases.map((t) => ({ ...t, description: '"><img src=x onerror=alert(1)>' })) };
    const html = renderHtml(evil);
    expect(html).to.not.contain('<script>alert');
    expect(html).to.not.contain('<img src=x');
    expect(html).to.contain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('shows failed testcases with their error and a simulated banner', () => {
    const html = renderHtml(makeRunResults({ failTestcase: 'pvp_tput', simulated: true }));
    expect(html).to.contain('guest never booted');
    expect(html).to.match(/class="banner">This run contains SIMULATED/);
    const md = renderMarkdown(makeRunResults({ failTestcase: 'pvp_tput' }));
    expect(md).to.match(/\| 3 \| pvp_tput \| pvp \| ❌ failed \|/);
    expect(md).to.contain('**E_DRIVER**');
  });

  it('markdown summary has the overview and one row table per testcase', () => {
    const md = renderMarkdown(makeRunResults({ runId: 'md' }));
    expect(md).to.match(/^# vsperf-ts run md: ✅ passed/);
    expect(md).to.match(/\| 0 \| phy2phy_tput \| p2p \| ✅ passed \| 95 \| 64 B: [\d.]+M fps/);
    expect(count(md, /^## \d+\. /gm)).to.equal(5);
    expect(md).to.contain('| packet_size | throughput_rx_fps |');
  });

  it('writeReport writes report.html and summary.md next to results.json', () => {
    const d = writeResultsDir(join(dir, 'results_x'), makeRunResults());
    const w = writeReport(d);
    expect(readFileSync(w.html, 'utf8')).to.match(/^<!DOCTYPE html>/);
    expect(readFileSync(w.markdown, 'utf8')).to.match(/^# vsperf-ts run/);
  });

  it('loadResultsDir: clear errors for a missing dir, missing file, bad JSON, wrong schema', () => {
    expect(() => loadResultsDir(join(dir, 'nope'))).to.throw(UsageError, /does not exist/);
    mkdirSync(join(dir, 'empty'));
    expect(() => loadResultsDir(join(dir, 'empty'))).to.throw(ResultsFormatError, /results\.json: cannot read \(ENOENT\)/);
    mkdirSync(join(dir, 'bad'));
    writeFileSync(join(dir, 'bad', 'results.json'), '{"schema":');
    expect(() => loadResultsDir(join(dir, 'bad'))).to.throw(ResultsFormatError, /not valid JSON/);
    writeFileSync(join(dir, 'bad', 'results.json'), JSON.stringify({ schema: 'other' }));
    expect(() => loadResultsDir(join(dir, 'bad'))).to.throw(ResultsFormatError, /expected "vsperf-ts\/results\/v1"/);
    const ok = writeResultsDir(join(dir, 'ok'), makeRunResults());
    expect(loadResultsDir(ok).csvFiles).to.have.length(5);
  });

  it('picks the highest passing trial as the latency trial, and reads migration timelines', () => {
    const r = makeRunResults();
    const tput = r.testcases[0]!;
    const t = resultTrial(tput, 64)!;
    expect(t.result.lossPct).to.equal(0);
    expect(Math.max(...tput.trials.filter((x) => x.frameSize === 64 && x.result.lossPct === 0).map((x) => x.rateFps))).to.equal(t.rateFps);
    const m = migrationTimelines(r.testcases[4]!);
    expect(m).to.have.length(1);
    expect(m[0]!.events.map((e) => e.event)).to.include.members(['STOP', 'RESUME']);
    expect(m[0]!.gaps[0]!.endMs - m[0]!.gaps[0]!.startMs).to.be.closeTo(73, 0.01);
    // Absolute QEMU timestamps are made relative.
    const abs = {
      ...r.testcases[4]!,
      details: {
        migration: {
          events: [
            { event: 'STOP', qemuTsUs: 1_795_615_923_802_833 },
            { event: 'RESUME', qemuTsUs: 1_795_615_923_854_867 },
          ],
        },
      },
    };
    const ev = migrationTimelines(abs)[0]!.events;
    expect(ev[1]!.tMs - ev[0]!.tMs).to.be.closeTo(52.034, 0.001);
    // The vnfs/migration shape: timelines[] + records[]; the outage is placed at the source STOP.
    const vnfs = {
      ...r.testcases[4]!,
      details: {
        migration: {
          timelines: [
            [
              { side: 'src', event: 'STOP', data: {}, tMs: 2878 },
              { side: 'dst', event: 'RESUME', data: {}, tMs: 2930 },
            ],
          ],
          records: [{ index: 1, totalMs: 2953, downtimeMs: 96, stopResumeMs: 52, dataplaneOutageMs: 73, lostFrames: 73 }],
        },
      },
    };
    const mv = migrationTimelines(vnfs);
    expect(mv).to.have.length(1);
    expect(mv[0]!.gaps).to.deep.equal([{ startMs: 2878, endMs: 2951, lostFrames: 73 }]);
    expect(mv[0]!.figures).to.include({ totalMs: 2953, stopResumeMs: 52, outageMs: 73 });
    expect(renderHtml({ ...r, testcases: [vnfs] })).to.match(/class="plot plot-timeline"[\s\S]*src STOP[\s\S]*dst RESUME/);
    // With the receiver's entry (vnfs/migration): the guest clock's step is among the figures shown.
    const rcv = {
      ...vnfs,
      details: {
        migration: { ...vnfs.details.migration, records: [{ ...vnfs.details.migration.records[0], guestClockStepMs: -28.805 }], receivers: [{ rxGaps: [] }] },
      },
    };
    expect(migrationTimelines(rcv)[0]!.figures).to.include({ guestClockStepMs: -28.805 });
    expect(renderHtml({ ...r, testcases: [rcv] })).to.include('guestClockStepMs=-28.8');
  });

  it('svg helpers: nice ticks cover the range; empty charts still render', () => {
    const t = niceTicks(3, 97);
    expect(t[0]).to.be.at.most(3);
    expect(t[t.length - 1]).to.be.at.least(97);
    expect(lineChart({ cls: 'plot', title: 'x', xLabel: 'x', yLabel: 'y', series: [] })).to.match(/^<svg[\s\S]*<\/svg>$/);
  });
});
