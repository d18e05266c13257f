/**
 * The report renders in headless Debian Chromium: a screenshot shows the plots (pixels in the series
 * colours) and the DOM Chromium built holds every SVG plot with its marks.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { exec } from '../../../framework/host/exec.js';
import { writeReport } from '../../../framework/report/index.js';
import { makeRunResults, writeResultsDir } from '../../fixtures/results/make.js';
import { countColor, decodePng, leftovers } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';

function chromiumArgv(userDataDir: string, extra: string[]): string[] {
  return [
    CHROMIUM,
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    `--user-data-dir=${userDataDir}`,
    ...extra,
  ];
}

describe('report in headless Chromium', function () {
  this.timeout(180_000);
  let dir: string;
  before(() => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} missing: npm run setup installs Debian chromium`).to.equal(true);
    dir = mkdtempSync('/tmp/vsr-chromium-');
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    expect(leftovers({ markers: [dir] })).to.deep.equal([]);
  });

  it('screenshot shows the plots and --dump-dom holds every SVG plot', async () => {
    const resultsDir = writeResultsDir(join(dir, 'results_2026-11-20_020000'), makeRunResults({ runId: 'chromium' }));
    const { html } = writeReport(resultsDir);
    const url = `file://${html}`;

    const shot = join(dir, 'shot.png');
    await exec(chromiumArgv(join(dir, 'profile-1'), [`--screenshot=${shot}`, '--window-size=1400,9000', '--hide-scrollbars', url]), { timeoutMs: 120_000 });
    expect(existsSync(shot), 'chromium wrote no screenshot').to.equal(true);
    const img = decodePng(readFileSync(shot));
    expect(img.width).to.equal(1400);
    // Series / histogram bars (#1f77b4), passing trials (#2ca02c) and failing trials / gap band (#d62728) are drawn.
    const blue = countColor(img, [0x1f, 0x77, 0xb4]);
    const green = countColor(img, [0x2c, 0xa0, 0x2c]);
    const red = countColor(img, [0xd6, 0x27, 0x28]);
    expect(blue, 'plot series pixels').to.be.greaterThan(20_000);
    expect(green, 'passing-trial markers').to.be.greaterThan(200);
    expect(red, 'failing-trial markers').to.be.greaterThan(200);

    const dom = await exec(chromiumArgv(join(dir, 'profile-2'), ['--dump-dom', url]), { timeoutMs: 120_000 });
    const svgs = [...dom.stdout.matchAll(/<svg\b[^>]*class="plot ([^"]+)"[^>]*>([\s\S]*?)<\/svg>/g)];
    const kinds = new Map<string, number>();
    for (const m of svgs) kinds.set(m[1]!, (kinds.get(m[1]!) ?? 0) + 1);
    expect(kinds.get('plot-throughput')).to.equal(3);
    expect(kinds.get('plot-latency')).to.equal(3);
    expect(kinds.get('plot-trajectory')).to.be.at.least(2);
    expect(kinds.get('plot-histogram')).to.be.at.least(6);
    expect(kinds.get('plot-timeline')).to.equal(2);
    // Every plot has marks in it: a line, markers or bars.
    for (const m of svgs) expect(m[2], `empty plot ${m[1]}`).to.match(/<path class="series"|<circle class="marker"|<rect class="bar"/);
    // The browser parsed the overview and all five testcase sections.
    expect(dom.stdout).to.match(/<table class="overview">/);
    expect((dom.stdout.match(/<h2 id="tc-\d+">/g) ?? []).length).to.equal(5);
  });
});
