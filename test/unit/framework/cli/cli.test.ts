import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../../framework/config/load.js';

const BIN = join(PROJECT_ROOT, 'bin', 'vsperf.js');

function vsperf(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('vsperf CLI', function () {
  this.timeout(60_000);
  let tmp: string;
  before(() => (tmp = mkdtempSync(join(tmpdir(), 'vsperf-cli-'))));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const env = (): NodeJS.ProcessEnv => ({ VSPERF_STATE_DIR: join(tmp, 'state') });

  it('--help documents every VSPERF option', () => {
    const r = vsperf(['--help']);
    expect(r.code).to.equal(0);
    for (const o of [
      '--list',
      '--list-trafficgens',
      '--list-vswitches',
      '--list-vnfs',
      '--list-fwdapps',
      '--list-loadgens',
      '--list-settings',
      '--tests',
      '--exact-test-name',
      '--mode',
      '--trafficgen',
      '--vswitch',
      '--vnf',
      '--fwdapp',
      '--loadgen',
      '--conf-file',
      '--load-env',
      '--test-params',
      '--verbosity',
      '--xunit',
      '--results-dir',
      '--dry-run',
      '--plugin',
      '--suite',
    ]) {
      expect(r.stdout, o).to.include(o);
    }
  });

  it('--list lists every testcase of the catalogue', () => {
    const r = vsperf(['--list']);
    expect(r.code).to.equal(0);
    const catalogue = Object.keys((JSON.parse(readFileSync(join(PROJECT_ROOT, 'conf', '01_testcases.json'), 'utf8')) as { TESTCASES: object }).TESTCASES);
    for (const n of catalogue) expect(r.stdout).to.match(new RegExp(`\\* ${n}\\s`));
  });

  it('an unknown option gets one line with a suggestion and exit code 2', () => {
    const r = vsperf(['--tets', 'x']);
    expect(r.code).to.equal(2);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(r.stderr).to.match(/unknown option '--tets'; did you mean --tests\?/);
  });

  it('an unknown testcase gets one line with a suggestion', () => {
    const r = vsperf(['--trafficgen', 'Simulated', 'phy2phy_tputt'], env());
    expect(r.code).to.equal(2);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(r.stderr).to.match(/unknown testcase "phy2phy_tputt"; did you mean "phy2phy_tput"/);
  });

  it('a malicious --test-params is refused before anything runs', () => {
    const r = vsperf(
      ['--trafficgen', 'Simulated', '--results-dir', join(tmp, 'evil'), '--test-params', "TRAFFICGEN_DURATION=__import__('os').system('id')", 'phy2phy_tput'],
      env(),
    );
    expect(r.code).to.equal(2);
    // As VSPERF's parse_param_string: not a literal, so kept as a string (never run), then refused by the setting's type.
    expect(r.stderr).to.match(/E_CONFIG: TRAFFICGEN_DURATION: must be number \(from --test-params\)/);
    expect(r.stdout).to.not.match(/uid=/);
    expect(existsSync(join(tmp, 'evil'))).to.equal(false);
  });

  it('a wrongly typed setting names key, type and source', () => {
    const r = vsperf(['--trafficgen', 'Simulated', '--test-params', "TRAFFICGEN_DURATION='long'", '--dry-run', 'phy2phy_tput'], env());
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/E_CONFIG: TRAFFICGEN_DURATION: must be number \(from --test-params\)/);
  });

  it('--dry-run prints the plan and does nothing', () => {
    const dir = join(tmp, 'dry');
    const r = vsperf(['--trafficgen', 'Simulated', '--results-dir', dir, '--dry-run', '--test-params', 'TRAFFICGEN_DURATION=7', 'phy2phy_tput'], env());
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/\[1\] phy2phy_tput/);
    expect(r.stdout).to.match(/deployment: +p2p/);
    expect(r.stdout).to.match(/trafficgen: +Simulated/);
    expect(r.stdout).to.match(/TRAFFICGEN_DURATION = 7 +\[--test-params\]/);
    expect(existsSync(dir)).to.equal(false);
  });

  it('--trafficgen Simulated writes CSV, results.json and JUnit, labelled simulated', () => {
    const dir = join(tmp, 'sim');
    const r = vsperf(
      [
        '--trafficgen',
        'Simulated',
        '--results-dir',
        dir,
        '--xunit',
        '--test-params',
        'TRAFFICGEN_DURATION=1;TRAFFICGEN_PKT_SIZES=(64,128)',
        'phy2phy_tput',
        'phy2phy_cont',
      ],
      env(),
    );
    expect(r.code, r.stderr).to.equal(0);
    const [res] = readdirSync(dir);
    const files = readdirSync(join(dir, res!));
    expect(files).to.include.members(['result_0_phy2phy_tput_p2p.csv', 'result_1_phy2phy_cont_p2p.csv', 'results.json', 'results.xml']);
    const csv = readFileSync(join(dir, res!, 'result_0_phy2phy_tput_p2p.csv'), 'utf8')
      .trim()
      .split('\n');
    const header = csv[0]!.split(',');
    expect(header.slice(0, 3)).to.deep.equal(['type', 'id', 'packet_size']);
    expect(csv).to.have.length(3);
    const row = Object.fromEntries(header.map((h, i) => [h, csv[1]!.split(',')[i]]));
    expect(row.packet_size).to.equal('64');
    expect(Number(row.throughput_rx_fps)).to.be.greaterThan(0);
    expect(row.simulated).to.equal('true');
    const json = JSON.parse(readFileSync(join(dir, res!, 'results.json'), 'utf8')) as {
      status: string;
      testcases: { simulated: boolean; trials: unknown[]; settings: { TRAFFICGEN_DURATION: number } }[];
    };
    expect(json.status).to.equal('passed');
    expect(json.testcases[0]!.simulated).to.equal(true);
    expect(json.testcases[0]!.trials.length).to.be.greaterThan(1);
    expect(json.testcases[0]!.settings.TRAFFICGEN_DURATION).to.equal(1);
    expect(readFileSync(join(dir, res!, 'results.xml'), 'utf8')).to.match(/<testcase classname="vsperf.p2p" name="phy2phy_tput"/);
    expect(r.stderr).to.match(/SIMULATED|simulated/i);
  });

  it('a failing testcase does not stop the rest and the exit code says so', () => {
    const dir = join(tmp, 'fail');
    // A DUT that loses every frame: the first testcase finds no throughput, the second still runs.
    const r = vsperf(
      [
        '--trafficgen',
        'Simulated',
        '--results-dir',
        dir,
        '--test-params',
        '[\'TRAFFICGEN_DURATION=1;SIMULATED_DUT={"curve": "points", "points": [[0, 1]]}\', \'TRAFFICGEN_DURATION=1\']',
        'phy2phy_tput',
        'phy2phy_cont',
      ],
      env(),
    );
    expect(r.code).to.equal(1);
    const [res] = readdirSync(dir);
    const json = JSON.parse(readFileSync(join(dir, res!, 'results.json'), 'utf8')) as {
      testcases: { name: string; status: string; error?: { code: string } }[];
    };
    expect(json.testcases.map((t) => t.status)).to.deep.equal(['failed', 'passed']);
    expect(json.testcases[0]!.error!.code).to.equal('E_NO_THROUGHPUT');
  });

  it('a setting one testcase of a suite gets wrong stops the run before anything starts (exit 2, nothing written)', () => {
    const dir = join(tmp, 'fail-early');
    const r = vsperf(
      [
        '--trafficgen',
        'Simulated',
        '--results-dir',
        dir,
        '--test-params',
        '[\'TRAFFICGEN_DURATION=1\', \'TRAFFICGEN_DURATION=1;TRAFFIC={"traffic_type": "no_such_type"}\']',
        'phy2phy_tput',
        'phy2phy_cont',
      ],
      env(),
    );
    expect(r.code).to.equal(2);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(r.stderr).to.match(/E_CONFIG: TRAFFIC\.traffic_type: unknown traffic type "no_such_type" \(from --test-params\)/);
    expect(existsSync(dir)).to.equal(false);
  });

  it('--plugin loads a vendor driver that --list-trafficgens then shows', () => {
    const r = vsperf(['--plugin', join(PROJECT_ROOT, 'test', 'fixtures', 'plugin-acme'), '--list-trafficgens']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/\* AcmeGen \(alias: Acme\): Acme fixture generator/);
  });

  describe('settings a plugin declares', () => {
    const ACME = join(PROJECT_ROOT, 'test', 'fixtures', 'plugin-acme');
    const setting = (out: string, key: string): string => out.split('\n').find((l) => l.startsWith(`${key} `)) ?? '';

    it('--list-settings shows them with type, default, description and the plugin as source', () => {
      const r = vsperf(['--plugin', ACME, '--list-settings'], env());
      expect(r.code, r.stderr).to.equal(0);
      expect(setting(r.stdout, 'TRAFFICGEN_ACME_HOST')).to.equal("TRAFFICGEN_ACME_HOST (string) = 'acme.local'");
      expect(r.stdout).to.include(`    Acme chassis address  [plugin ${ACME} (default)]`);
      expect(setting(r.stdout, 'TRAFFICGEN_ACME_PORTS')).to.equal('TRAFFICGEN_ACME_PORTS (integer) = 2');
    });

    it('are set from a conf file, PLUGINS, --load-env and --test-params, each named as source', () => {
      const conf = join(tmp, 'acme.conf');
      writeFileSync(conf, `PLUGINS = ['${ACME}']\nTRAFFICGEN_ACME_HOST = 'from-conf'\n`);
      let r = vsperf(['--conf-file', conf, '--list-settings'], env());
      expect(r.code, r.stderr).to.equal(0);
      expect(setting(r.stdout, 'TRAFFICGEN_ACME_HOST')).to.equal("TRAFFICGEN_ACME_HOST (string) = 'from-conf'");
      r = vsperf(['--conf-file', conf, '--load-env', '--list-settings'], { ...env(), VSPERF_TRAFFICGEN_ACME_PORTS: '7' });
      expect(setting(r.stdout, 'TRAFFICGEN_ACME_PORTS')).to.equal('TRAFFICGEN_ACME_PORTS (integer) = 7');
      r = vsperf(['--conf-file', conf, '--test-params', "TRAFFICGEN_ACME_HOST='10.0.0.9'", '--list-settings'], env());
      expect(setting(r.stdout, 'TRAFFICGEN_ACME_HOST')).to.equal("TRAFFICGEN_ACME_HOST (string) = '10.0.0.9'");
      expect(r.stdout).to.include('Acme chassis address  [--test-params]');
    });

    it('are validated by their schema, and a typo gets "did you mean"', () => {
      let r = vsperf(['--plugin', ACME, '--test-params', "TRAFFICGEN_ACME_PORTS='two'", '--dry-run', 'phy2phy_tput'], env());
      expect(r.code).to.equal(2);
      expect(r.stderr.trim()).to.equal('vsperf: E_CONFIG: TRAFFICGEN_ACME_PORTS: must be integer (from --test-params)');
      r = vsperf(['--plugin', ACME, '--test-params', "TRAFFICGEN_ACME_HOTS='x'", '--dry-run', 'phy2phy_tput'], env());
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/^vsperf: E_CONFIG: TRAFFICGEN_ACME_HOTS: unknown setting; did you mean TRAFFICGEN_ACME_HOST\? \(from --test-params\)/);
      r = vsperf(['--test-params', "TRAFFICGEN_ACME_HOST='x'", '--dry-run', 'phy2phy_tput'], env());
      expect(r.code, 'without the plugin the setting does not exist').to.equal(2);
      expect(r.stderr).to.match(/E_CONFIG: TRAFFICGEN_ACME_HOST: unknown setting/);
    });
  });
});

describe('vsperf --check-host', function () {
  this.timeout(60_000);
  it('prints one line per check on this host, and the same checks as JSON with --json', () => {
    const r = vsperf(['--check-host']);
    expect(r.code, r.stderr).to.be.oneOf([0, 3]);
    const lines = r.stdout.trim().split('\n');
    for (const name of ['clocksource', 'cpu-governor', 'isolcpus', 'hugepages', 'transparent-hugepages', 'irq-affinity', 'kvm', 'steal', 'numa']) {
      expect(
        lines.some((l) => new RegExp(`^(PASS|WARN|FAIL)\\s+${name}\\s`).test(l)),
        name,
      ).to.equal(true);
    }
    const j = vsperf(['--check-host', '--json']);
    const parsed = JSON.parse(j.stdout) as { host_checks: { name: string; status: string }[] };
    expect(parsed.host_checks.map((c) => c.name)).to.include.members(['clocksource', 'steal', 'numa']);
    expect(j.code).to.equal(parsed.host_checks.some((c) => c.status === 'fail') ? 3 : 0);
  });

  it('a bad VALIDITY_THRESHOLDS entry is a one-line config error', () => {
    const r = vsperf(['--trafficgen', 'Simulated', '--test-params', "VALIDITY_THRESHOLDS={'steal_pc': 1}", 'phy2phy_cont']);
    expect(r.code).to.equal(2);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(r.stderr).to.match(/E_CONFIG: VALIDITY_THRESHOLDS\.steal_pc: unknown threshold/);
    const n = vsperf(['--trafficgen', 'Simulated', '--test-params', "VALIDITY_THRESHOLDS={'steal_pct': -1}", 'phy2phy_cont']);
    expect(n.stderr).to.match(/E_CONFIG: VALIDITY_THRESHOLDS\.steal_pct: must be a number ≥ 0, got -1/);
  });
});

describe('testcase validity (VSPERF rule)', () => {
  it('a row without throughput or b2b frames fails the testcase with the search status', async () => {
    const { validateRows } = await import('../../../../framework/runner/run.js');
    expect(validateRows([{ packet_size: 64, throughput_rx_fps: 1000 }])).to.equal(undefined);
    expect(validateRows([{ packet_size: 64, b2b_frames: 10, throughput_rx_fps: 0 }])).to.equal(undefined);
    expect(validateRows([{ packet_size: 64, dataplane_outage_ms: 10 }])).to.equal(undefined);
    const e = validateRows([
      { packet_size: 64, throughput_rx_fps: 1000 },
      { packet_size: 128, throughput_rx_fps: 0, search_status: 'generator-limited' },
    ]);
    expect(e?.code).to.equal('E_NO_THROUGHPUT');
    expect(e?.message).to.match(/128 B: .*generator-limited/);
    expect(validateRows([{ packet_size: 64, b2b_frames: 0 }])?.code).to.equal('E_NO_THROUGHPUT');
  });
});

describe('frame MACs', () => {
  it("VSPERF's all-zero default MACs become locally administered unicast ones; set MACs are kept", async () => {
    const { frameMacs } = await import('../../../../framework/methodology/traffic-spec.js');
    expect(frameMacs('00:00:00:00:00:00', '00:00:00:00:00:00')).to.deep.equal({ srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02' });
    expect(frameMacs('52:54:00:00:00:01', '00:00:00:00:00:00')).to.deep.equal({ srcMac: '52:54:00:00:00:01', dstMac: '00:00:00:00:00:00' });
  });
});
