/**
 * The input boundary's small parts: UTF-8 decoding with file:line:col (checked against Node's own
 * fatal decoder), directory checks and one-component-at-a-time creation, and the plausibility rules.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncodingError, PathError } from '../../../../framework/errors.js';
import { checkArgumentText, decodeUtf8, firstInvalidUtf8 } from '../../../../framework/config/utf8.js';
import { checkDirectory, makeDirectory } from '../../../../framework/host/paths.js';
import { findImplausible, WEEK_S } from '../../../../framework/config/plausible.js';
import { PROJECT_ROOT } from '../../../../framework/config/load.js';
import { mergeLayers } from '../../../../framework/config/layers.js';
import type { JsonObject } from '../../../../framework/config/settings.js';

describe('input boundary: UTF-8 settings text', () => {
  it('names file:line:col of the first invalid byte (col in characters)', () => {
    const bytes = Buffer.concat([Buffer.from('A = 1\nB = "é€'), Buffer.from([0xe9]), Buffer.from('"\n')]);
    expect(() => decodeUtf8(bytes, 'x.conf')).to.throw(EncodingError, /^x\.conf:2:8: invalid UTF-8 byte 0xE9/);
  });

  it('refuses overlongs, surrogates, code points above U+10FFFF and truncated sequences; drops a BOM', () => {
    for (const bad of [[0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xff]]) {
      expect(() => decodeUtf8(Buffer.from(bad), 'f'), bad.join(',')).to.throw(EncodingError, /^f:1:1:/);
    }
    expect(decodeUtf8(Buffer.from('\uFEFFA = 1', 'utf8'), 'f')).to.equal('A = 1');
  });

  it("agrees with Node's fatal TextDecoder on arbitrary bytes (2000 runs)", () => {
    const fatal = new TextDecoder('utf-8', { fatal: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
        let valid = true;
        try {
          fatal.decode(b);
        } catch {
          valid = false;
        }
        expect(firstInvalidUtf8(b) === undefined).to.equal(valid);
      }),
      { numRuns: 2000 },
    );
  });

  it('a command-line argument with U+FFFD (bytes Node could not decode) is refused with its column', () => {
    expect(() => checkArgumentText('A=1;B=\uFFFD', '--test-params')).to.throw(EncodingError, /^--test-params:1:7:/);
    expect(checkArgumentText('A=é', '--test-params')).to.equal('A=é');
  });
});

describe('input boundary: directories', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vsperf-paths-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses empty paths, pseudo file systems and a regular file on the way, naming the path', () => {
    writeFileSync(join(dir, 'f'), 'x');
    const cases: Array<[string, RegExp]> = [
      ['', /"": is empty/],
      ['   ', /is empty/],
      ['/proc/x', /"\/proc\/x": is under \/proc/],
      ['/proc/self/x/y', /under \/proc|not a directory|cannot be inspected/],
      ['/sys/x', /is under \/sys/],
      [join(dir, 'f', 'x'), /a component of it is not a directory/],
      [join(dir, 'f'), /it is not a directory/],
    ];
    for (const [p, re] of cases) {
      expect(() => checkDirectory('results directory', p), p).to.throw(PathError, re);
    }
    expect(() => checkDirectory('results directory', '/dev/x')).to.throw(PathError, /under \/dev/);
  });

  it('creates the missing components one by one and nothing when the check fails', () => {
    const p = join(dir, 'a', 'b', 'c');
    expect(makeDirectory('results directory', p)).to.equal(p);
    expect(existsSync(p)).to.equal(true);
    expect(() => makeDirectory('results directory', '/proc/vsperf-x/y')).to.throw(PathError);
    expect(existsSync('/proc/vsperf-x')).to.equal(false);
  });

  it('a directory without write permission is refused, naming it and the errno (checked as an unprivileged user)', () => {
    chmodSync(dir, 0o755);
    const script = `import(${JSON.stringify(join(PROJECT_ROOT, 'dist', 'framework', 'host', 'paths.js'))}).then((m) => { try { m.checkDirectory('results directory', ${JSON.stringify(join(dir, 'x'))}); console.log('accepted'); } catch (e) { console.log(e.message); } })`;
    // As root everything is writable; run the check as nobody (setpriv, util-linux) when we are root.
    const argv =
      process.getuid?.() === 0
        ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script]
        : [process.execPath, '-e', script];
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
    expect(r.stdout.trim(), r.stderr).to.equal(`results directory ${JSON.stringify(join(dir, 'x'))}: ${dir} is not writable (EACCES)`);
  });
});

describe('input boundary: plausible numbers', () => {
  it('bounds durations, rates, frame counts, repetitions and magnitudes by name', () => {
    expect(findImplausible({ TRAFFICGEN_DURATION: 30, TRAFFIC: { burst_size: 100, frame_rate: 100 } })).to.equal(undefined);
    expect(findImplausible({ TRAFFICGEN_DURATION: WEEK_S + 1 })?.key).to.equal('TRAFFICGEN_DURATION');
    expect(findImplausible({ TRAFFICGEN_NDR_PDR: { goals: [{ duration_sum_s: 1e9 }] } })?.key).to.equal('TRAFFICGEN_NDR_PDR.goals.0.duration_sum_s');
    expect(findImplausible({ MIGRATION_TRAFFIC_FPS: 1e10 })?.message).to.match(/fps is not plausible .*line rate/);
    // a faster port raises the rate bound
    expect(findImplausible({ MIGRATION_TRAFFIC_FPS: 1e8, TRAFFICGEN_PORT_SPEED_MBPS: 100_000 })).to.equal(undefined);
    expect(findImplausible({ TRAFFIC: { burst_size: 1e15 } })?.key).to.equal('TRAFFIC.burst_size');
    expect(findImplausible({ TRAFFICGEN_RFC2544_TESTS: 2e6 })?.key).to.equal('TRAFFICGEN_RFC2544_TESTS');
    expect(findImplausible({ SOME_PLUGIN_SETTING: 2 ** 70 })?.message).to.match(/out of range/);
    // the Simulated DUT's own figures are a model, not offered load
    expect(findImplausible({ SIMULATED_DUT: { capacity_fps: 1e9 } })).to.equal(undefined);
  });
});

describe('input boundary: large settings layers', () => {
  it('a layer setting 320 000 paths merges with provenance for each (no stack overflow)', () => {
    const testcases: Record<string, unknown> = {};
    for (let i = 0; i < 80_000; i++) testcases[`extra_${i}`] = { Deployment: 'p2p', Parameters: { TRAFFICGEN_DURATION: 1 } };
    const { provenance } = mergeLayers([{ source: 'big.conf', values: { TESTCASES: testcases } as JsonObject }]);
    expect(provenance.size).to.equal(1 + 80_000 * 4);
    expect(provenance.get('TESTCASES.extra_79999.Parameters.TRAFFICGEN_DURATION')).to.equal('big.conf');
  });
});
