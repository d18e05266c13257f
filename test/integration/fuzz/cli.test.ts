/**
 * Fuzzing the CLI's input boundary (fast-check; seed printed on failure, see replay.ts): generated
 * argv vectors, --test-params strings and settings files (JSON and the VSPERF dialect, as text and as
 * raw bytes). Properties: exit code 0 or 2 (or 3, host error); an error is one line "vsperf: E_…"
 * without a stack trace; nothing is created outside the results directory. Dry runs go through the
 * CLI's main() in this process (fast); a sample of real runs (Simulated generator) goes through the
 * `vsperf` binary in a child process, which must also end in bounded time.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../framework/config/load.js';
import { main } from '../../../vsperf.js';
import { fuzz } from './replay.js';

const VSPERF = join(PROJECT_ROOT, 'bin', 'vsperf.js');
/** A child that has not ended by then is hung (the issue's /proc results dir spun for ever). */
const CHILD_LIMIT_MS = 60_000;

/** Settings-shaped text: names, literals, separators and hostile bits (VSPERF dialect and --test-params). */
const token = fc.oneof(
  fc.constantFrom(
    'TRAFFICGEN_DURATION',
    'TRAFFIC',
    'TRAFFICGEN_PKT_SIZES',
    'TRAFFICGEN_LOSSRATE',
    'RESULTS_PATH',
    'VSWITCH',
    'TRAFFICGEN',
    'MODE',
    'TEST_PARAMS',
    '__proto__',
    'x',
  ),
  fc.constantFrom('=', ';', ',', ':', '(', ')', '[', ']', '{', '}', "'", '"', '\\', ' ', '\n', '\r\n', '#', '\uFEFF'),
  fc.constantFrom(
    "'traffic_type'",
    "'framerate'",
    "'frame_rate'",
    "'bogus'",
    "'Simulated'",
    "'/proc/x'",
    "''",
    'True',
    'None',
    '1e308',
    '2e21',
    '-1',
    '0',
    '1e-9',
    '0x10',
    '9018',
    '65536',
    "'rfc2544_back2back'",
    '__import__("os")',
  ),
  fc.integer().map(String),
  fc.double().map(String),
  fc.string({ maxLength: 6 }),
);
const settingsText = fc.array(token, { maxLength: 30 }).map((xs) => xs.join(''));

/** Well-formed statements with values a hurried user might write: most are valid, some are not. */
const statement = fc.oneof(
  fc
    .constantFrom('TRAFFICGEN_DURATION', 'TRAFFICGEN_LOSSRATE', 'TRAFFICGEN_RFC2544_TESTS')
    .chain((k) =>
      fc.oneof(fc.double(), fc.integer(), fc.constantFrom(1, 0.5, 1e308, 2 ** 70, -1, 0)).map((v) => `${k}=${Number.isFinite(v) ? String(v) : '1e999'}`),
    ),
  fc.constantFrom(
    'TRAFFICGEN_PKT_SIZES=(64,)',
    'TRAFFICGEN_PKT_SIZES=(64,9018)',
    'TRAFFICGEN_PKT_SIZES=()',
    "TRAFFIC={'framerate':60}",
    "TRAFFIC={'frame_rate':60}",
    "TRAFFIC={'traffic_type':'bogus'}",
    "TRAFFIC={'traffic_type':'rfc2544_continuous'}",
    "TRAFFIC={'l2':{'srcmac':'zz'}}",
    "TRAFFIC={'vlan':{'id':5000}}",
    "TRAFFIC={'bidir':'maybe'}",
    "VSWITCH='VppDpdkVhost'",
    "VNF='QemuVirtioNet'",
    "TRAFFICGEN='Dummy'",
    "MODE='trafficgen'",
    "RESULTS_PATH='/proc/x'",
    'RESULTS_PATH=""',
    'TEST_PARAMS={}',
    'NO_SUCH_SETTING=1',
  ),
);
const testParams = fc.oneof(
  settingsText,
  fc.array(statement, { minLength: 1, maxLength: 4 }).map((xs) => xs.join(';')),
);

describe('fuzz: the CLI input boundary (argv, --test-params, settings files)', function () {
  this.timeout(240_000);
  // Made while the suite is defined: the generators below draw file names from it.
  const base = mkdtempSync(join(tmpdir(), 'vsperf-fuzz-'));
  const before0 = readdirSync(process.cwd()).sort();
  const f = (name: string, content: string | Buffer): string => {
    writeFileSync(join(base, name), content);
    return join(base, name);
  };
  const files = {
    good: f('good.conf', 'TRAFFICGEN_DURATION = 5  # seconds\n'),
    latin1: f('latin1.conf', Buffer.from('# caf\xe9\nTRAFFICGEN_DURATION = 5\n', 'latin1')),
    badJson: f('bad.json', '{"TRAFFICGEN_DURATION": }'),
    bom: f('bom.json', '\uFEFF{"TRAFFICGEN_DURATION": 5}'),
    file: f('plain-file', 'x'),
  };
  const savedState = process.env.VSPERF_STATE_DIR;
  before(() => (process.env.VSPERF_STATE_DIR = join(base, 'state')));
  after(() => {
    if (savedState === undefined) delete process.env.VSPERF_STATE_DIR;
    else process.env.VSPERF_STATE_DIR = savedState;
    rmSync(base, { recursive: true, force: true });
    // Dry runs create nothing: the working directory is as it was.
    expect(readdirSync(process.cwd()).sort()).to.deep.equal(before0);
  });

  /** main() in this process with stdout/stderr captured. */
  async function runMain(argv: string[]): Promise<{ code: number; stderr: string }> {
    let stderr = '';
    const w = { out: process.stdout.write, err: process.stderr.write };
    process.stdout.write = (() => true) as typeof process.stdout.write;
    process.stderr.write = ((s: string | Uint8Array) => ((stderr += String(s)), true)) as typeof process.stderr.write;
    try {
      return { code: await main(argv), stderr };
    } finally {
      process.stdout.write = w.out;
      process.stderr.write = w.err;
    }
  }

  function expectCleanOutcome(argv: readonly string[], r: { code: number | null; stderr: string }): void {
    const what = `vsperf ${JSON.stringify(argv).slice(0, 500)} → exit ${r.code}, stderr: ${r.stderr.slice(0, 600)}`;
    expect([0, 2, 3], what).to.include(r.code);
    expect(r.stderr, what).to.not.match(/internal error|\n\s+at .*\(.*:\d+:\d+\)/);
    if (r.code !== 0) {
      expect(r.stderr.trimEnd().split('\n'), what).to.have.length(1);
      expect(r.stderr, what).to.match(/^vsperf: E_[A-Z_]+: /);
    }
  }

  const fileArg = (): fc.Arbitrary<string> => fc.constantFrom(...Object.values(files), '/dev/null', '/dev/zero', '/nonexistent.conf', base, '');
  const valueArg = fc.oneof(
    fc.constantFrom(
      '',
      ' ',
      '-',
      'Simulated',
      'Dummy',
      'Software',
      'VppDpdkVhost',
      'none',
      'QemuVirtioNet',
      'StressNg',
      'phy2phy',
      '!phy2phy_tput',
      'p*',
      '!*',
      '[',
      'é',
      '\uFFFD',
      'x'.repeat(3000),
    ),
    fc.string({ maxLength: 12 }),
  );
  const optionArg = fc.oneof(
    fc.tuple(
      fc.constantFrom('--trafficgen', '--vswitch', '--vnf', '--loadgen', '--fwdapp', '--tests', '-t', '--suite', '--mode', '-m', '--verbosity'),
      valueArg,
    ),
    fc.tuple(fc.constant('--results-dir'), fc.constantFrom('', '/proc/x', '/sys/x', '/dev/x', '/', `${tmpdir()}/vsperf-fuzz-absent/a/b`, 'relative/dir')),
    fc.tuple(fc.constant('--conf-file'), fileArg()),
    fc.tuple(fc.constant('--test-params'), testParams),
    fc.tuple(fc.constant('--plugin'), fc.constantFrom('', 'vsperf-no-such-plugin', './nope.js', join(PROJECT_ROOT, 'test', 'fixtures', 'plugin-broken.js'))),
    fc.constantFrom(
      ['--exact-test-name'],
      ['--xunit'],
      ['--load-env'],
      ['--list'],
      ['--list-settings'],
      ['--list-vswitches'],
      ['--bogus'],
      ['-x'],
      ['--dry-run=1'],
      ['--trafficgen'],
    ),
    fc.constantFrom(['phy2phy_tput'], ['pvp_tput'], ['pvp_live_migration'], ['nope'], ['PHY2PHY_TPUT'], ['']),
  );

  it('generated argv vectors (dry runs, in process): exit 0/2/3 and one error line (≤ 150 runs, ≤ 25 s)', async () => {
    const argv = fc.array(optionArg, { maxLength: 6 }).map((xs) => [...xs.flat(), '--dry-run']);
    await fuzz(
      'cli.test.js',
      fc.asyncProperty(argv, async (a) => expectCleanOutcome(a, await runMain(a))),
      150,
    );
  });

  it('generated --test-params strings (dry runs, in process) (≤ 150 runs, ≤ 25 s)', async () => {
    const argv = testParams.map((p) => ['--trafficgen', 'Simulated', '--test-params', p, '--dry-run', 'phy2phy_tput']);
    await fuzz(
      'cli.test.js',
      fc.asyncProperty(argv, async (a) => expectCleanOutcome(a, await runMain(a))),
      150,
    );
  });

  it('generated settings files, JSON and VSPERF dialect, text and raw bytes (dry runs, in process) (≤ 100 runs, ≤ 20 s)', async () => {
    const json = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.dictionary(fc.constantFrom('TRAFFICGEN_DURATION', 'TRAFFIC', 'TRAFFICGEN_PKT_SIZES', 'VSWITCH', 'x'), fc.jsonValue()).map((v) => JSON.stringify(v)),
    );
    const content = fc.oneof(
      fc.tuple(
        fc.constant('.conf'),
        settingsText.map((s) => Buffer.from(s)),
      ),
      fc.tuple(
        fc.constant('.conf'),
        fc.array(statement, { maxLength: 5 }).map((xs) => Buffer.from(xs.map((x) => x.replace('=', ' = ')).join('\n'))),
      ),
      fc.tuple(
        fc.constant('.json'),
        json.map((s) => Buffer.from(s)),
      ),
      fc.tuple(
        fc.constantFrom('.conf', '.json'),
        fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      ),
    );
    let n = 0;
    await fuzz(
      'cli.test.js',
      fc.asyncProperty(content, async ([ext, bytes]) => {
        const path = join(base, `gen-${n++}${ext}`);
        writeFileSync(path, bytes);
        const a = ['--trafficgen', 'Simulated', '--conf-file', path, '--dry-run', 'phy2phy_tput'];
        expectCleanOutcome(a, await runMain(a));
        rmSync(path);
      }),
      100,
      20_000,
    );
  });

  it('real runs (Simulated) in a child process: exit 0/2/3, one error line, bounded time, nothing outside the results directory (≤ 8 runs, ≤ 25 s)', async () => {
    const resultsArg = fc.constantFrom('res', 'deep/a/b', '', '/proc/x', '/sys/x', 'plain-file/x', '.');
    const runParams = fc.array(statement, { minLength: 1, maxLength: 3 }).map((xs) => ['TRAFFICGEN_DURATION=1', ...xs].join(';'));
    const spec = fc.record({ results: resultsArg, params: runParams, testcase: fc.constantFrom('phy2phy_tput', 'phy2phy_cont', 'phy2phy_back2back', 'nope') });
    let n = 0;
    await fuzz(
      'cli.test.js',
      fc.asyncProperty(spec, async ({ results, params, testcase }) => {
        const cwd = join(base, `run-${n++}`);
        mkdirSync(cwd);
        writeFileSync(join(cwd, 'plain-file'), 'x');
        const a = ['--trafficgen', 'Simulated', '--results-dir', results, '--test-params', params, testcase];
        const r = await runChild(a, cwd);
        expectCleanOutcome(a, r);
        // Everything new is under the results directory (a relative one is inside cwd; '.' is cwd itself).
        const top = results !== '' && results !== '.' && !results.startsWith('/') ? results.split('/')[0] : undefined;
        for (const e of readdirSync(cwd)) {
          if (e === 'plain-file') continue;
          const ok = results === '.' ? /^(results_|vsperf-archive\.sqlite)/.test(e) : e === top;
          expect(ok, `${e} created outside the results directory by vsperf ${JSON.stringify(a)}`).to.equal(true);
        }
        rmSync(cwd, { recursive: true, force: true });
      }),
      8,
    );
  });

  function runChild(argv: string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
    return new Promise((res, rej) => {
      const c = spawn(process.execPath, [VSPERF, ...argv], {
        cwd,
        env: { ...process.env, VSPERF_STATE_DIR: join(base, 'state') },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const t = setTimeout(() => {
        c.kill('SIGKILL');
        rej(new Error(`vsperf ${JSON.stringify(argv)} did not end within ${CHILD_LIMIT_MS} ms`));
      }, CHILD_LIMIT_MS);
      c.on('close', (code) => {
        clearTimeout(t);
        res({ code, stderr });
      });
    });
  }
});
