/**
 * examples/plugin-template as a vendor would use it: vsperf-ts packed with `npm pack`, installed into a
 * copy of the template in a temporary directory, the template's own tests (the conformance kit) run
 * there, and `vsperf --plugin <it> --trafficgen TemplateGen phy2phy_cont` run on the sandbox testbed.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../framework/config/load.js';

function run(argv: string[], cwd: string, timeoutMs: number): { code: number | null; out: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), {
    cwd,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' },
  });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

describe('examples/plugin-template installed from a packed vsperf-ts', function () {
  this.timeout(300_000);
  let tmp: string;
  let tarball: string;
  let plugin: string;

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'vsperf-template-'));
    // --ignore-scripts: dist/ is already built; `prepare` would only compile it again.
    const pack = run(['npm', 'pack', '--ignore-scripts', '--pack-destination', tmp], PROJECT_ROOT, 120_000);
    expect(pack.code, pack.out).to.equal(0);
    tarball = join(
      tmp,
      readdirSync(tmp).find((f) => f.endsWith('.tgz'))!,
    );
    plugin = join(tmp, 'plugin-template');
    cpSync(join(PROJECT_ROOT, 'examples', 'plugin-template'), plugin, { recursive: true, filter: (src) => !src.includes('node_modules') });
    const install = run(['npm', 'install', '--prefer-offline', '--ignore-scripts', tarball], plugin, 240_000);
    expect(install.code, install.out).to.equal(0);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('the package holds the API, the kit and the CLI, and no tests or benchmarks', () => {
    const files = run(['tar', 'tzf', tarball], tmp, 30_000).out.split('\n');
    for (const f of [
      'package/dist/framework/api/index.d.ts',
      'package/dist/framework/conformance/index.js',
      'package/dist/vsperf.js',
      'package/dist/drivers.js',
      'package/bin/vsperf.js',
      'package/LICENSE',
    ]) {
      expect(files, f).to.include(f);
    }
    expect(files.filter((f) => /^package\/dist\/(test|bench)\//.test(f))).to.deep.equal([]);
    const installed = JSON.parse(readFileSync(join(plugin, 'node_modules', 'vsperf-ts', 'package.json'), 'utf8')) as {
      peerDependencies: Record<string, string>;
    };
    expect(Object.keys(installed.peerDependencies).sort()).to.deep.equal(['chai', 'mocha']);
  });

  it("passes the conformance kit with its own copy of vsperf-ts (the template's npm test)", () => {
    const t = run(['npm', 'test'], plugin, 240_000);
    expect(t.code, t.out).to.equal(0);
    expect(t.out).to.include('TrafficGenerator conformance: TemplateGen');
    expect(t.out).to.match(/\b(1[5-9]|[2-9]\d) passing/);
    expect(t.out).to.not.match(/failing|pending/);
  });

  it('docs/writing-a-driver.md: its package, copied generator, register() and kit file, put together as the page says, pass the kit', () => {
    const doc = readFileSync(join(PROJECT_ROOT, 'docs', 'writing-a-driver.md'), 'utf8');
    const block = (first: string): string => {
      const b = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!).find((x) => x.startsWith(first));
      expect(b, `a js block starting with ${first}`).to.be.a('string');
      return b!;
    };
    // Section 1 (npm init, npm pkg set; the install is the template's node_modules) and section 2 (cp, mv, sed), in node.
    const acme = join(tmp, 'vsperf-plugin-acme');
    mkdirSync(join(acme, 'test'), { recursive: true });
    const pkg = { name: 'vsperf-plugin-acme', version: '1.0.0', type: 'module', main: 'index.js', scripts: { test: 'mocha --timeout 120000 --exit test/' } };
    writeFileSync(join(acme, 'package.json'), JSON.stringify(pkg));
    symlinkSync(join(plugin, 'node_modules'), join(acme, 'node_modules'));
    const tpl = join(plugin, 'node_modules', 'vsperf-ts', 'examples', 'plugin-template');
    writeFileSync(join(acme, 'acme-gen.js'), readFileSync(join(tpl, 'template-gen.js'), 'utf8').replaceAll('TemplateGen', 'AcmeGen'));
    for (const f of ['agent.js', 'frames.js']) cpSync(join(tpl, f), join(acme, f));
    writeFileSync(join(acme, 'index.js'), block('// index.js'));
    writeFileSync(join(acme, 'test', 'conformance.test.js'), block('// test/conformance.test.js'));
    const t = run(['npm', 'test'], acme, 240_000);
    expect(t.code, t.out).to.equal(0);
    expect(t.out).to.include('TrafficGenerator conformance: AcmeGen');
    expect(t.out).to.not.match(/failing|pending/);
    const list = run([process.execPath, join(PROJECT_ROOT, 'bin', 'vsperf.js'), '--plugin', acme, '--list-settings'], tmp, 60_000);
    expect(list.out).to.include('TRAFFICGEN_ACME_MAX_FPS (integer) = 20000');
  });

  it('registers its setting: --list-settings shows it, a typo gets "did you mean"', () => {
    const vsperf = join(PROJECT_ROOT, 'bin', 'vsperf.js');
    const list = run([process.execPath, vsperf, '--plugin', plugin, '--list-settings'], tmp, 60_000);
    expect(list.code, list.out).to.equal(0);
    expect(list.out).to.include('TRAFFICGEN_TEMPLATE_MAX_FPS (integer) = 20000');
    const typo = run(
      [process.execPath, vsperf, '--plugin', plugin, '--test-params', 'TRAFFICGEN_TEMPLATE_MAX_FSP=10', '--dry-run', 'phy2phy_cont'],
      tmp,
      60_000,
    );
    expect(typo.code).to.equal(2);
    expect(typo.out).to.match(/E_CONFIG: TRAFFICGEN_TEMPLATE_MAX_FSP: unknown setting; did you mean TRAFFICGEN_TEMPLATE_MAX_FPS\?/);
  });

  it('vsperf --plugin … --trafficgen TemplateGen phy2phy_cont runs on the sandbox: every frame through the vSwitch arrives', () => {
    const vsperf = join(PROJECT_ROOT, 'bin', 'vsperf.js');
    const params = 'TRAFFICGEN_DURATION=2;TRAFFICGEN_PKT_SIZES=(64,);TRAFFICGEN_TEMPLATE_MAX_FPS=1000';
    const r = run(
      [process.execPath, vsperf, '--plugin', plugin, '--trafficgen', 'TemplateGen', '--test-params', params, '--results-dir', tmp, 'phy2phy_cont'],
      tmp,
      240_000,
    );
    expect(r.code, r.out).to.equal(0);
    const dir = join(
      tmp,
      readdirSync(tmp).find((f) => f.startsWith('results_'))!,
    );
    const csv = readFileSync(
      join(
        dir,
        readdirSync(dir).find((f) => f.endsWith('.csv'))!,
      ),
      'utf8',
    )
      .trim()
      .split('\n');
    const header = csv[0]!.split(',');
    const row = csv[1]!.split(',');
    const col = (name: string): number => Number(row[header.indexOf(name)]);
    expect(col('packet_size')).to.equal(64);
    expect(col('frame_loss_percent')).to.equal(0);
    // 1000 frames/s per direction, both directions (TRAFFIC bidir is True in conf/03_traffic.json).
    expect(col('throughput_rx_fps')).to.be.within(950, 1010);
  });
});
