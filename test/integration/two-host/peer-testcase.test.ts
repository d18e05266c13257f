/**
 * CI: `vsperf pvp_live_migration_peer` on the two-host sandbox, through SSH, as a user runs it. First a
 * run is killed with SIGKILL in the middle of its first migration (QEMU on both hosts, two OVS-DPDK
 * instances, tcpdumps, sshds, hugetlbfs mounts all left behind); then the testcase runs again: its
 * janitor must release every leftover on both hosts (over SSH, through the killed run's journal), and
 * the run itself must pass with every figure, traffic following the guest to hostB and back.
 * Independent observer of the path: the fabric relearn comes from tcpdump on the destination's uplink,
 * the outage from the generator's receiver; the two must tell one story (the frames came back).
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { exec } from '../../../framework/host/exec.js';
import { processesMentioning } from '../vnfs/helpers.js';
import { expectFigures } from '../vsperf-run.js';

const ROOT = process.cwd();
const BASE = '/tmp/vsperf-two-host-test';
const STATE = join(BASE, 'peer-state');
const ENV = { ...process.env, VSPERF_STATE_DIR: STATE };

interface Rec {
  readonly [k: string]: number | string | undefined;
}

/** What a run with sandbox tag `tag` may leave: netns, links, processes, directories, DPDK runtime dirs, mounts. */
async function leftovers(tag: string): Promise<string[]> {
  const out: string[] = [];
  const ns = JSON.parse((await exec(['ip', '-j', 'netns', 'list'])).stdout || '[]') as Array<{ name: string }>;
  out.push(...ns.map((n) => n.name).filter((n) => n.startsWith(`vs2-${tag}-`)));
  const links = JSON.parse((await exec(['ip', '-j', 'link', 'show'])).stdout) as Array<{ ifname: string }>;
  out.push(...links.map((l) => l.ifname).filter((n) => n.startsWith(`vs2${tag}`)));
  for (const needle of [`vsp-${tag}`, `vs2-${tag}`]) out.push(...processesMentioning(needle).map((p) => `pid ${p} (${needle})`));
  out.push(...readdirSync('/tmp').filter((d) => d.startsWith(`vsp-${tag}`) || d === `vs2-${tag}`));
  if (existsSync('/var/run/dpdk'))
    out.push(
      ...readdirSync('/var/run/dpdk')
        .filter((d) => d.startsWith(`vsp${tag}`))
        .map((d) => `/var/run/dpdk/${d}`),
    );
  out.push(
    ...readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .filter((l) => l.includes(`/tmp/vsp-${tag}`)),
  );
  return out;
}

/** Start vsperf, SIGKILL it `afterMs` after it announces its first migration; returns the sandbox tag. */
async function killMidMigration(resultsDir: string, afterMs: number): Promise<string> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'vsperf.js'), 'pvp_live_migration_peer', '--results-dir', resultsDir, '--test-params', 'MIGRATION_REPEAT=3'],
    {
      cwd: ROOT,
      env: ENV,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const tag = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no migration within 240 s:\n${out.slice(-2000)}`)), 240_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const t = /fabric bridge vs2([0-9a-f]+)f/.exec(out);
      if (t && /migration 1\/3 \(hostA→hostB\)/.test(out)) {
        clearTimeout(timer);
        setTimeout(() => resolve(t[1]!), afterMs);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`vsperf exited (${code}) before it was killed:\n${out.slice(-2000)}`)));
  });
  child.removeAllListeners('exit');
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  return tag;
}

describe('vsperf pvp_live_migration_peer on the two-host sandbox (integration)', function () {
  this.timeout(15 * 60_000);

  it('SIGTERM to its process group during setup (as timeout(1) sends it) leaves nothing on any host and nothing in the journal', async () => {
    const results = join(BASE, 'peer-results', 'sigterm');
    rmSync(results, { recursive: true, force: true });
    mkdirSync(results, { recursive: true });
    // Its own process group, as a shell job or timeout(1) makes it: the signal reaches the ssh commands in flight too.
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'vsperf.js'), 'pvp_live_migration_peer', '--results-dir', results], {
      cwd: ROOT,
      env: ENV,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const tag = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`hostA's switch not up within 180 s:\n${out.slice(-2000)}`)), 180_000);
      const onData = (d: Buffer): void => {
        out += d.toString();
        const t = /fabric bridge vs2([0-9a-f]+)f/.exec(out);
        // hostA's switch is up, hostB is being set up: ssh commands, remote directories and daemons in flight.
        if (t && /OvsDpdkVhost started on hostA/.test(out)) {
          clearTimeout(timer);
          setTimeout(() => resolve(t[1]!), 300);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      void exited.then((code) => reject(new Error(`vsperf exited (${code}) before the signal:\n${out.slice(-2000)}`)));
    });
    process.kill(-child.pid!, 'SIGTERM');
    const code = await exited;
    expect(code, out.slice(-2000)).to.equal(130);
    expect(await leftovers(tag), out.slice(-2000)).to.deep.equal([]);
    expect(existsSync(join(STATE, 'journal')) ? readdirSync(join(STATE, 'journal')).filter((f) => f.endsWith('.jsonl')) : [], 'journal').to.deep.equal([]);
  });

  it('after a SIGKILL mid-migration the next run cleans both hosts, then migrates hostA→hostB→hostA with every figure', async () => {
    rmSync(BASE + '/peer-results', { recursive: true, force: true });
    mkdirSync(BASE + '/peer-results', { recursive: true });
    // Warm-up 1 s, then the migration (~1-2 s under TCG): 1.5 s after the phase starts QEMU is migrating.
    const killedTag = await killMidMigration(join(BASE, 'peer-results'), 1500);
    expect((await leftovers(killedTag)).length, 'the killed run left its hosts behind').to.be.greaterThan(5);

    const results = join(BASE, 'peer-results', 'second');
    mkdirSync(results, { recursive: true });
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'bin', 'vsperf.js'), 'pvp_live_migration_peer', '--results-dir', results, '--test-params', 'MIGRATION_REPEAT=2'],
      { cwd: ROOT, env: ENV, encoding: 'utf8', timeout: 10 * 60_000 },
    );
    const out = `${r.stdout}\n${r.stderr}`;
    expect(out).to.match(/janitor removed \d+ leftover resource/);
    expect(await leftovers(killedTag), 'leftovers of the killed run after the janitor').to.deep.equal([]);

    const dir = readdirSync(results).find((d) => d.startsWith('results_'));
    expect(dir, out.slice(-3000)).to.be.a('string');
    const res = JSON.parse(readFileSync(join(results, dir!, 'results.json'), 'utf8')) as {
      testcases: { status: string; error?: { message: string }; rows: Rec[]; details: { migration: { records: Rec[]; rateFps: number } } }[];
    };
    const tc = res.testcases[0]!;
    expect(tc.status, `${tc.error?.message}\n${out.slice(-3000)}`).to.equal('passed');
    const recs = tc.details.migration.records;
    expect(recs.map((x) => x.hostPair)).to.deep.equal(['hostA→hostB', 'hostB→hostA']);
    for (const x of recs) {
      expectFigures(x, [
        'totalMs',
        'setupMs',
        'downtimeMs',
        'stopResumeMs',
        'dataplaneOutageMs',
        'rxGapMs',
        'lostFrames',
        'outageFromLossMs',
        'streamMbps',
        'fabricRelearnMs',
        // The guest clock, read on whichever host the guest is (its ttyS1 port forwarded over ssh).
        'guestClockStepMs',
        'guestClockUncertaintyMs',
      ]);
      // Traffic followed the guest: the receiver's silence ended within the 1 s cool-down, and the loss
      // is that silence's worth of frames (had the fabric kept sending to the old host, ~1000+ frames
      // would be lost and the silence would run to the end of the traffic).
      expect(x.rxGapMs as number).to.be.within(1, 900);
      expect(x.outageFromLossMs as number).to.be.at.most((x.dataplaneOutageMs as number) + 50);
      expect(x.streamMbps as number).to.be.greaterThan(0);
      // The relearn (tcpdump on the destination host) is part of the silence the generator saw.
      expect(x.fabricRelearnMs as number).to.be.within(0, x.dataplaneOutageMs as number);
    }
    const csv = readdirSync(join(results, dir!)).find((f) => f.endsWith('.csv'))!;
    const text = readFileSync(join(results, dir!, csv), 'utf8');
    for (const col of ['migration_host_pair', 'fabric_relearn_ms', 'migration_stream_mbps', 'dataplane_outage_ms', 'rx_gap_ms', 'migration_stop_resume_ms'])
      expect(text.split('\n')[0]).to.contain(col);
    expect(text).to.contain('hostA→hostB');
    // The second run's own sandbox is gone as well.
    const tag2 = /fabric bridge vs2([0-9a-f]+)f/.exec(out)?.[1];
    expect(tag2).to.be.a('string');
    expect(await leftovers(tag2!)).to.deep.equal([]);
    expect(existsSync(join(STATE, 'journal')) ? readdirSync(join(STATE, 'journal')).filter((f) => f.endsWith('.jsonl')) : []).to.deep.equal([]);
  });
});
