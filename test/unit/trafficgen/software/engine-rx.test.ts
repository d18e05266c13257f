import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// test/unit/trafficgen/software (in dist/ or not) → package root
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, ...Array<string>(here.includes(`${join('dist', 'test')}`) ? 5 : 4).fill('..'));
const engineDir = join(root, 'trafficgen', 'software', 'engine');

describe('Software generator engine: receive counting per burst (C, stats.c)', () => {
  it('rx_account_burst counts exactly what rx_account + rx_timeline count frame by frame (loss, duplicates, late, too old, wrap, latency, bins)', function () {
    this.timeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), 'vsg-rxcheck-'));
    try {
      const bin = join(dir, 'rx_burst_check');
      const cc = spawnSync(
        'gcc',
        ['-O2', '-Wall', '-Wextra', '-Werror', '-std=gnu11', '-o', bin, join(engineDir, 'test', 'rx_burst_check.c'), join(engineDir, 'stats.c')],
        {
          encoding: 'utf8',
        },
      );
      expect(cc.error, 'gcc is needed (npm run setup installs it)').to.equal(undefined);
      expect(cc.status, cc.stderr).to.equal(0);
      const run = spawnSync(bin, [], { encoding: 'utf8' });
      expect(run.stdout).to.match(/^40 cases, 0 mismatches$/m);
      expect(run.status, run.stdout).to.equal(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('frame_reflow leaves exactly the bytes frame_build writes for the new flow, lane, sequence and timestamp (every multistream kind, IPv4/IPv6, VLAN)', function () {
    this.timeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), 'vsg-framecheck-'));
    try {
      const bin = join(dir, 'frame_check');
      const cc = spawnSync(
        'gcc',
        ['-O2', '-Wall', '-Wextra', '-Werror', '-std=gnu11', '-o', bin, join(engineDir, 'test', 'frame_check.c'), join(engineDir, 'frame.c')],
        {
          encoding: 'utf8',
        },
      );
      expect(cc.error, 'gcc is needed (npm run setup installs it)').to.equal(undefined);
      expect(cc.status, cc.stderr).to.equal(0);
      const run = spawnSync(bin, [], { encoding: 'utf8' });
      expect(run.stdout).to.match(/^161 cases, 0 mismatches$/m);
      expect(run.status, run.stdout).to.equal(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tx_pace: bursts of B above B/W, single frames W late below, never early, never more than W (+ a poll) late, the schedule kept over long runs and after stalls', function () {
    this.timeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), 'vsg-pacecheck-'));
    try {
      const bin = join(dir, 'tx_pace_check');
      const cc = spawnSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-std=gnu11', '-o', bin, join(engineDir, 'test', 'tx_pace_check.c')], {
        encoding: 'utf8',
      });
      expect(cc.error, 'gcc is needed (npm run setup installs it)').to.equal(undefined);
      expect(cc.status, cc.stderr).to.equal(0);
      const run = spawnSync(bin, [], { encoding: 'utf8' });
      expect(run.stdout).to.match(/^\d+ checks, 0 failures$/m);
      expect(Number(/^(\d+) checks/m.exec(run.stdout)?.[1])).to.be.at.least(100);
      expect(run.status, run.stdout).to.equal(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
