/**
 * docs/coming-from-vsperf.md against its data: the generated tables (options, setting groups,
 * performance and integration testcases) must be what the data gives today, every VSPERF option,
 * setting group and testcase must be on the page, and the options' status must match `vsperf --help`.
 * Fix a failure with `node scripts/dev/coming-from-vsperf-tables.mjs` (after npm run build).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Config } from '../../../framework/config/load.js';
import { integrationVariantsText, pageBlocks, TABLES, vsperfPerformanceTestcases, type OptionStatus } from '../../docs/parity-tables.js';

const root = join(import.meta.dirname, '../../../..');
const page = readFileSync(join(root, 'docs/coming-from-vsperf.md'), 'utf8');

describe('docs/coming-from-vsperf.md agrees with the data it is written from', () => {
  const blocks = pageBlocks(page);
  for (const [name, make] of Object.entries(TABLES)) {
    it(`the "${name}" table is what the data gives (regenerate with scripts/dev/coming-from-vsperf-tables.mjs)`, () => {
      expect(blocks[name], `no <!-- BEGIN GENERATED ${name} --> block`).to.be.a('string');
      expect(blocks[name]).to.equal(make(root));
    });
  }

  it('lists every non-VPP integration testcase with a status, and every VSPERF performance testcase', () => {
    const integration = new Config({ confDir: join(root, 'conf'), integration: true }).testcases().map((t) => t.name);
    expect(integration.length).to.be.greaterThan(100);
    for (const n of [...integration, ...vsperfPerformanceTestcases(root)]) expect(page, n).to.include(`| \`${n}\` |`);
  });

  it('lists every VSPERF setting group (file) of the catalogue', () => {
    const cat = JSON.parse(readFileSync(join(root, 'conf/vsperf-settings.json'), 'utf8')) as { settings: Record<string, { file: string }> };
    for (const f of new Set(Object.values(cat.settings).map((s) => s.file))) expect(blocks['setting-groups'], f).to.include(`| ${f} |`);
  });

  it('each option said to work is in vsperf --help; each one not supported is not', () => {
    const help = spawnSync(process.execPath, [join(root, 'bin/vsperf.js'), '--help'], { encoding: 'utf8' }).stdout;
    const opts = (JSON.parse(readFileSync(join(root, 'docs/data/vsperf-options.json'), 'utf8')) as { options: OptionStatus[] }).options;
    expect(opts.length).to.equal(33);
    for (const o of opts.filter((x) => x.option.startsWith('--'))) {
      const listed = new RegExp(`(^|[\\s,])${o.option.replace(/-/g, '\\-')}(\\s|,|$)`, 'm').test(help);
      expect(listed, `${o.option} (${o.status})`).to.equal(o.status === 'works');
    }
  });

  it("a run under another vSwitch (--vswitch) is shown next to the testcase's own run, with its test params", () => {
    expect(integrationVariantsText(undefined)).to.equal('');
    const text = integrationVariantsText({
      OvsVanilla: { status: 'failed', reason: 'E_X: a|b', wallS: 3, commit: 'abc1234', date: '2026-12-07T08:00', loadavg: '1 1 1', testParams: 'A=1' },
      OvsDpdkVhost: { status: 'passed', wallS: 9 },
    });
    expect(text).to.equal(
      '; with `--vswitch OvsVanilla` with `--test-params A=1`: fails here: E_X: a\\|b (2026-12-07T08:00, abc1234, load 1 1 1)' +
        '; with `--vswitch OvsDpdkVhost`: works: passed on the sandbox in 9 s (, , load ?)',
    );
  });
});
