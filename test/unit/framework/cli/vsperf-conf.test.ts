/**
 * VSPERF's own conf files through the CLI: every file of conf/ and conf/integration/ loads with
 * --dry-run --conf-file in VSPERF's order, settings without effect give one warning line, a user's
 * CRLF/BOM file with VSPERF idioms loads on its own, unknown names and unsupported Python fail with
 * one line naming file:line:col. Also --version, --list-tests, --list-collectors, --integration.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../../framework/config/load.js';

const BIN = join(PROJECT_ROOT, 'bin', 'vsperf.js');
const CONF = join(PROJECT_ROOT, 'test', 'fixtures', 'vsperf', 'conf');

function vsperf(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, VSPERF_STATE_DIR: join(tmpdir(), 'vsperf-ts-conf-test') },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const confFiles = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => /^\d+[a-z]?_.*\.conf$/.test(f))
    .sort()
    .map((f) => join(dir, f));

describe("CLI with VSPERF's conf files", function () {
  this.timeout(120_000);
  let tmp: string;
  before(() => (tmp = mkdtempSync(join(tmpdir(), 'vsperf-conf-'))));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('loads all 18 files of conf/ and conf/integration/ in name order with --dry-run, one warning line', () => {
    const files = [...confFiles(CONF), ...confFiles(join(CONF, 'integration'))];
    expect(files).to.have.length(18);
    const r = vsperf(['--dry-run', ...files.flatMap((f) => ['--conf-file', f]), 'phy2phy_tput']);
    expect(r.stderr.trim().split('\n'), r.stderr).to.have.length(1);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.match(
      /^vsperf: warning: \d+ VSPERF setting\(s\) accepted without effect here: .*TRAFFICGEN_STC_|^vsperf: warning: \d+ VSPERF setting\(s\) accepted without effect here: .*\(\d+ more\)/,
    );
    // VSPERF's 03_traffic.conf sets TRAFFICGEN_DURATION = 30 and the plan shows where it came from.
    expect(r.stdout).to.match(/TRAFFICGEN_DURATION = 30 +\[--conf-file .*03_traffic\.conf\]/);
  });

  it("with --tests '!vpp' and a real generator, every testcase of the run plans", () => {
    const files = [...confFiles(CONF), ...confFiles(join(CONF, 'integration'))];
    const r = vsperf(['--dry-run', '--trafficgen', 'Software', '--tests', '!vpp', ...files.flatMap((f) => ['--conf-file', f])]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^Plan: 27 testcase\(s\)/);
  });

  it('loads each file on its own too (names of earlier VSPERF files come from the settings catalogue)', () => {
    for (const f of [...confFiles(CONF), ...confFiles(join(CONF, 'integration'))]) {
      const r = vsperf(['--list', '--conf-file', f]);
      expect(r.code, `${f}: ${r.stderr}`).to.equal(0);
    }
  });

  it("a user's file with CRLF, a BOM, continuation lines and VSPERF idioms loads", () => {
    const f = join(tmp, '10_user.conf');
    const text = [
      'import os',
      'TRAFFICGEN_DURATION = 2 \\',
      '    * 5',
      "PATHS['dpdk']['bin']['path'] = os.path.join('/usr', 'bin')",
      'TRAFFICGEN_PKT_SIZES = (64,\r\n  128)',
      "PERFORMANCE_TESTS = PERFORMANCE_TESTS + [{'Name': 'my_tput', 'Deployment': 'p2p', 'Description': 'x' 'y',",
      "  'Parameters': {'TRAFFIC': {'traffic_type': 'rfc2544_throughput'}}}]",
      '',
    ].join('\r\n');
    writeFileSync(f, '\ufeff' + text);
    const r = vsperf(['--dry-run', '--conf-file', f, 'my_tput']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/TRAFFICGEN_DURATION = 10 +\[--conf-file/);
    expect(r.stdout).to.match(/TRAFFICGEN_PKT_SIZES = \[64, 128\]/);
    expect(r.stdout).to.include('[1] my_tput: xy');
    expect(r.stderr).to.match(/warning: 1 VSPERF setting\(s\) accepted without effect here: PATHS/);
  });

  it('an unknown setting is an error with a suggestion; unsupported Python is one line with file:line:col', () => {
    const f = join(tmp, 'typo.conf');
    writeFileSync(f, 'TRAFFICGEN_DURATON = 5\n');
    let r = vsperf(['--dry-run', '--conf-file', f, 'phy2phy_tput']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/^vsperf: E_CONFIG: TRAFFICGEN_DURATON: unknown setting; did you mean TRAFFICGEN_DURATION\?/);
    writeFileSync(f, 'X = 1\nif X:\n    TRAFFICGEN_DURATION = 5\n');
    r = vsperf(['--dry-run', '--conf-file', f, 'phy2phy_tput']);
    expect(r.code).to.equal(2);
    expect(r.stderr.trim()).to.equal(`vsperf: E_PARSE: ${f}:2:1: 'if' statements are not supported`);
    writeFileSync(f, "TRAFFICGEN_DURATION = __import__('os').system('id')\n");
    r = vsperf(['--dry-run', '--conf-file', f, 'phy2phy_tput']);
    expect(r.stderr.trim()).to.equal(
      `vsperf: E_PARSE: ${f}:1:23: name '__import__' is not defined (only str, int, float, hex, round, len, os.path.*, os.getenv and copy.* can be called)`,
    );
  });

  it('--list-settings lists the VSPERF settings without effect, with the value and source a file gave', () => {
    const f = join(CONF, '03_traffic.conf');
    const r = vsperf(['--list-settings', '--conf-file', f]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^VSPERF settings accepted without effect here \(\d+\):$/m);
    expect(r.stdout).to.include(`TRAFFICGEN_STC_EAST_CHASSIS_ADDR (str) = ''  [--conf-file ${f}]`);
    expect(r.stdout).to.match(/^APP_NAME \(str\) = 'l2fwd' {2}\[VSPERF default, conf\/12_k8s\.conf\]$/m);
  });

  it('--version, --list-tests, --list-collectors and --integration --list', () => {
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(vsperf(['--version']).stdout.trim()).to.equal(`vsperf-ts ${pkg.version}`);
    expect(vsperf(['--list-tests']).stdout).to.equal(vsperf(['--list']).stdout);
    expect(vsperf(['--list-collectors']).stdout).to.match(/\* ProcStat: /);
    const r = vsperf(['--integration', '--list', '--conf-file', join(CONF, 'integration', '01_testcases.conf')]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/\* vswitch_add_del_bridge +\[clean\]/);
    expect(r.stdout).to.not.match(/\* phy2phy_tput /);
    // A VSPERF driver vsperf-ts lacks: the dry run says what is needed, not that a name is unknown.
    const d = vsperf(['--integration', '--dry-run', 'trex_vm_cont']);
    expect(d.code, d.stderr).to.equal(0);
    expect(d.stdout).to.include(
      'not runnable here: TRAFFICGEN: needs a T-Rex server (TRAFFICGEN=Trex is not supported here; use Software, or IxNet with an IxNetwork server) (from testcase trex_vm_cont)',
    );
  });

  it('a Simulated run writes VSPERF CSV formats and scalability columns, and --matrix its table and .rst', () => {
    const dir = join(tmp, 'results');
    const r = vsperf([
      '--trafficgen',
      'Simulated',
      '--results-dir',
      dir,
      '--matrix',
      '--test-params',
      "TRAFFIC={'multistream': 4, 'stream_type': 'L3', 'pre_installed_flows': 'Yes'};TRAFFICGEN_DURATION=1;TRAFFICGEN_PKT_SIZES=64,",
      'phy2phy_tput',
      'phy2phy_cont',
    ]);
    expect(r.code, r.stderr).to.equal(0);
    const [run] = readdirSync(dir);
    const csv = readFileSync(join(dir, run!, 'result_0_phy2phy_tput_p2p.csv'), 'utf8')
      .trim()
      .split('\n');
    const header = csv[0]!.split(',');
    const row = Object.fromEntries(csv[1]!.split(',').map((v, i) => [header[i], v]));
    expect(header.slice(0, 8)).to.deep.equal(['type', 'id', 'packet_size', 'deployment', 'vswitch', 'traffic_type', 'guest_loopback_app', 'tunnel_type']);
    expect(row).to.include({
      type: 'rfc2544_throughput',
      id: 'phy2phy_tput',
      traffic_type: 'udp',
      stream_count: '4',
      match_type: 'L3',
      'pre-installed_flows': 'Yes',
    });
    expect(row.test_execution_time).to.match(/^\d\d:\d\d:\d\d$/);
    expect(row.start_time).to.match(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(r.stdout).to.match(/\| ID \| Name +\| throughput_rx_fps \| Change \[%\] \|/);
    expect(r.stdout).to.match(/\| +1 \| phy2phy_cont +\| +\d+\.\d{3} \|/);
    expect(r.stdout).to.include("'TRAFFICGEN_DURATION': 1, 'TRAFFICGEN_PKT_SIZES': [64]");
    expect(readFileSync(join(dir, run!, 'result_performance_matrix.rst'), 'utf8')).to.match(
      /^Performance Matrix\n-{18}\n[\s\S]*The metric used for comparison is throughput_rx_fps\.\n\n== {2}=+/,
    );
  });
});
