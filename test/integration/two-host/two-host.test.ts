/**
 * The two-host sandbox and the remote Host over the system ssh client: commands run in hostB's
 * namespace through its own sshd with host-key checking, a wrong host key is refused with one line,
 * remote processes and directories are released at cleanup and, after a SIGKILL, by the janitor.
 */
import { expect } from 'chai';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Host } from '../../../framework/host/host.js';
import { Journal } from '../../../framework/host/journal.js';
import { exec } from '../../../framework/host/exec.js';
import { runJanitor } from '../../../framework/host/janitor.js';
import { isAlive } from '../../../framework/host/proc.js';
import { RemoteHost } from '../../../framework/host/remote-host.js';
import { SshError } from '../../../framework/host/ssh.js';
import type { VsperfError } from '../../../framework/errors.js';
import { rejection } from '../../helpers/rejection.js';
import { startHolder } from '../../helpers/holder.js';
import { CleanupStack } from '../../../framework/runner/cleanup-stack.js';
import { createTwoHostSandbox, type TwoHostSandbox } from '../../../deployments/testbed/two-host.js';
import { STATE, twoHostFixture, type TwoHostFixture } from './fixture.js';

async function ourNetns(tag: string): Promise<string[]> {
  const r = await exec(['ip', '-j', 'netns', 'list']);
  return ((JSON.parse(r.stdout || '[]') as Array<{ name: string }>) ?? []).map((n) => n.name).filter((n) => n.startsWith(`vs2-${tag}-`));
}

async function ourLinks(tag: string): Promise<string[]> {
  const r = await exec(['ip', '-j', 'link', 'show']);
  return (JSON.parse(r.stdout) as Array<{ ifname: string }>).map((l) => l.ifname).filter((n) => n.startsWith(`vs2${tag}`));
}

describe('two-host sandbox: remote Host over ssh (integration)', function () {
  this.timeout(60_000);
  let f: TwoHostFixture;
  let tag: string;
  let journal: Journal;
  let host: Host;
  let sb: TwoHostSandbox;

  before(async () => {
    f = await twoHostFixture('vs2-test');
    ({ tag, journal, host, sb } = f);
  });

  after(async () => {
    await f.release();
    expect(await ourNetns(tag)).to.deep.equal([]);
    expect(await ourLinks(tag)).to.deep.equal([]);
    expect(existsSync(sb.dir)).to.equal(false);
  });

  it('runs a command in hostB through its sshd, host key checked, argv intact', async () => {
    const b = new RemoteHost(sb.hosts[1]!, host, sb.dir);
    await b.connect();
    const addr = await b.exec(['ip', '-o', '-4', 'addr', 'show', 'dev', 'mgmt0']);
    expect(addr.stdout).to.contain(`${sb.hosts[1]!.address}/24`);
    // The command ran in hostB's namespace: its fab0 exists there, and nothing called fab0 exists here.
    expect((await b.exec(['ip', 'link', 'show', 'fab0'])).code).to.equal(0);
    expect((await exec(['ip', 'link', 'show', 'fab0'], { allowFail: true })).code).to.not.equal(0);
    const tricky = `a b'c;$(touch /tmp/vs2-pwned)"\\ *`;
    expect((await b.exec(['printf', '%s', tricky])).stdout).to.equal(tricky);
    expect(existsSync('/tmp/vs2-pwned')).to.equal(false);
    const r = await b.exec(['sh', '-c', 'exit 7'], { allowFail: true });
    expect(r.code).to.equal(7);
  });

  it('starts a process on hostB and stops it at release (pid checked on the host)', async () => {
    const b = new RemoteHost(sb.hosts[1]!, host, sb.dir);
    await b.connect();
    const p = await b.spawn(['sleep', '1000']);
    // Same machine: the remote pid is visible here and really is that sleep.
    expect(readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0')[0]).to.equal('sleep');
    await p.stop();
    expect(isAlive(p.pid)).to.equal(false);
  });

  it('closing the connection first stops what still runs there (a QEMU known only to the cleanup stack)', async () => {
    // What a failed setup used to leave: its teardown closed the ssh connection before the run's cleanup
    // stack got to the process, whose stop then could not reach the host and was dropped as done.
    const b = new RemoteHost(sb.hosts[1]!, host, sb.dir);
    await b.connect();
    const dir = `/tmp/vs2-${tag}-close`;
    await b.makeDir(dir);
    const p = await b.spawn(['sleep', '1000']);
    await b.close();
    expect(isAlive(p.pid), 'the remote process was stopped before the connection closed').to.equal(false);
    expect(existsSync(dir)).to.equal(false);
    const left = Journal.read(journal.path).filter((e) => (e.kind === 'process' && e.pid === p.pid) || (e.kind === 'dir' && e.path === dir));
    expect(left, 'released, so out of the journal').to.deep.equal([]);
  });

  it('a spawn journals its pid file first: a vsperf killed before the pid came back leaves the janitor a way to the process', async () => {
    const b = new RemoteHost(sb.hosts[1]!, host, sb.dir);
    await b.connect();
    const before = readFileSync(journal.path, 'utf8').length;
    const p = await b.spawn(['sleep', '1000']);
    const added = readFileSync(journal.path, 'utf8')
      .slice(before)
      .split('\n')
      .filter((l) => l.includes('"op":"add"') && l.includes('"kind":"pidfile"'))
      .map((l) => (JSON.parse(l) as { entry: { path: string } }).entry);
    expect(added, 'one pid file entry, recorded for the spawn').to.have.length(1);
    const pidFile = added[0]!.path;
    expect(existsSync(pidFile), 'handed over to the process entry, the pid file is gone').to.equal(false);
    await p.stop();

    // What a SIGKILL between the exec and the pid's return leaves: the pid file written on hostB, the
    // process running, and only the route and the pid file in the journal.
    const journalDir = join(STATE, `journal-pidfile-${tag}`);
    const dead = new Journal(`vs2-pidfile-${tag}`, journalDir);
    const ssh = Journal.read(journal.path).find((e) => e.kind === 'ssh' && e.name === 'hostB')!;
    dead.add(ssh);
    const path = `/tmp/vs2-${tag}.pid`;
    dead.add({ kind: 'pidfile', id: 'pidfile-1', path, host: 'hostB' });
    await b.exec(['sh', '-c', 'setsid sleep 1000 </dev/null >/dev/null 2>&1 & echo "$! $(cut -d" " -f22 /proc/$!/stat)" > "$1"', 'sh', path]);
    const pid = Number(readFileSync(path, 'utf8').split(' ')[0]);
    expect(isAlive(pid)).to.equal(true);
    try {
      expect(await runJanitor({ dir: journalDir })).to.equal(2);
      expect(isAlive(pid), 'the janitor stopped the process the pid file names').to.equal(false);
      expect(existsSync(path)).to.equal(false);
    } finally {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(journalDir, { recursive: true, force: true });
    }
  });

  it('refuses a host whose key is not the one in known_hosts, with one line', async () => {
    const wrong = join(sb.dir, 'known_hosts_wrong');
    // hostA's key filed under hostB's address: what a man in the middle with another key looks like.
    const lines = readFileSync(sb.hosts[0]!.knownHosts, 'utf8').trim().split('\n');
    const aKey = lines
      .find((l) => l.startsWith(`${sb.hosts[0]!.address} `))!
      .split(' ')
      .slice(1)
      .join(' ');
    writeFileSync(wrong, `${sb.hosts[1]!.address} ${aKey}\n`);
    const b = new RemoteHost({ ...sb.hosts[1]!, knownHosts: wrong }, host, sb.dir);
    const err = await b.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(SshError);
    expect((err as SshError).code).to.equal('E_SSH_HOSTKEY');
    expect((err as SshError).brief()).to.not.contain('\n');
    expect((err as SshError).message).to.contain('hostB');
    // Unknown host (empty known_hosts) is refused the same way: never trust on first use.
    writeFileSync(wrong, '');
    const err2 = await new RemoteHost({ ...sb.hosts[1]!, knownHosts: wrong }, host, sb.dir).connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err2 as SshError).code).to.equal('E_SSH_HOSTKEY');
  });
});

describe('two-host sandbox: SIGKILL of vsperf, then the janitor (integration)', function () {
  this.timeout(60_000);

  it('releases the remote process and directory on hostB, then the sandbox itself', async () => {
    const tag = randomBytes(2).toString('hex');
    const journalDir = join(STATE, `journal-kill-${tag}`);
    const holder = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, 'holder.js');
    const { child, info } = await startHolder<{ pid: number; dir: string }>(holder, [tag, `vs2-kill-${tag}`, journalDir], 40_000);
    expect(isAlive(info.pid)).to.equal(true);
    expect(existsSync(info.dir)).to.equal(true);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(isAlive(info.pid), 'the remote process outlives vsperf').to.equal(true);

    const released = await runJanitor({ dir: journalDir });
    expect(released).to.be.greaterThan(5);
    expect(isAlive(info.pid)).to.equal(false);
    expect(existsSync(info.dir)).to.equal(false);
    expect(await ourNetns(tag)).to.deep.equal([]);
    expect(await ourLinks(tag)).to.deep.equal([]);
    rmSync(journalDir, { recursive: true, force: true });
  });
});

describe('two-host sandbox: a remote process that cannot be reached any more (integration)', function () {
  this.timeout(60_000);

  it('its stop fails with one line, and the journal keeps it through the janitor for the next run', async () => {
    const tag = randomBytes(2).toString('hex');
    const journalDir = join(STATE, `journal-lost-${tag}`);
    const cleanup = new CleanupStack();
    const journal = new Journal(`vs2-lost-${tag}`, journalDir);
    const host = new Host(cleanup, journal);
    const sb = await createTwoHostSandbox(host, tag);
    const b = new RemoteHost(sb.hosts[1]!, host, sb.dir);
    await b.connect();
    const p = await b.spawn(['sleep', '1000']);
    try {
      // hostB becomes unreachable: its sshd stops listening and our connection to it ends.
      process.kill(Number(readFileSync(join(sb.dir, 'hostB_sshd.pid'), 'utf8').trim()), 'SIGTERM');
      await exec(['ssh', '-o', `ControlPath=${b.controlPath}`, '-O', 'exit', sb.hosts[1]!.address], { allowFail: true });
      const err = (await rejection(p.stop())) as VsperfError;
      expect(err.code).to.equal('E_PROCESS');
      expect(err.message).to.match(/host hostB: could not stop pid \d+: .*hostB/);
      expect(err.brief()).to.not.contain('\n');
      expect(isAlive(p.pid), 'really still running').to.equal(true);
      const kept = (): string[] => Journal.read(journal.path).map((e) => `${e.host ?? 'local'} ${e.kind}`);
      expect(kept()).to.include('hostB process');
      // vsperf dies here; the next run's janitor releases the sandbox but cannot reach hostB's process.
      const released = await runJanitor({ dir: journalDir });
      expect(released).to.be.greaterThan(5);
      expect(await ourNetns(tag)).to.deep.equal([]);
      expect(kept(), 'the janitor keeps what it could not release, with the route').to.deep.equal(['local ssh', 'hostB process']);
    } finally {
      process.kill(p.pid, 'SIGKILL');
      // When an assertion failed before the janitor ran, the sandbox is still up: release it here.
      await cleanup.unwind();
      rmSync(journalDir, { recursive: true, force: true });
    }
  });
});
