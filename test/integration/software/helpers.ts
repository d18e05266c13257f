/** Shared fixtures for the Software generator integration tests: a Host in our own state dir, audits. */
import { readdirSync, readFileSync } from 'node:fs';
import { CleanupStack } from '../../../framework/runner/cleanup-stack.js';
import { Journal } from '../../../framework/host/journal.js';
import { Host } from '../../../framework/host/host.js';
import { exec } from '../../../framework/host/exec.js';
import { Child } from '../../../framework/host/child.js';
import { defaultEnginePath } from '../../../trafficgen/software/engine-run.js';

/** Our own journal directory (never the default /tmp/vsperf-ts of a real run or of other tests). */
export const TEST_JOURNAL_DIR = '/tmp/vsperf-software-test/journal';

export function makeHost(tag: string): Host {
  const cleanup = new CleanupStack();
  const journal = new Journal(`${tag}-${process.pid}-${Date.now()}`, TEST_JOURNAL_DIR);
  return new Host(cleanup, journal);
}

/** pids of running vsg-engine processes started by this test process (other helpers may run engines too). */
export function enginePids(): number[] {
  const engine = defaultEnginePath();
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const [state, ppid] = [fields[0], Number(fields[1])];
      if (cmd[0] === engine && state !== 'Z' && ppid === process.pid) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

export async function netnsList(prefix: string): Promise<string[]> {
  const r = await exec(['ip', '-j', 'netns', 'list'], { allowFail: true });
  const list = r.stdout.trim() ? (JSON.parse(r.stdout) as { name: string }[]) : [];
  return list.map((x) => x.name).filter((n) => n.startsWith(prefix));
}

export async function linksList(prefix: string): Promise<string[]> {
  const r = await exec(['ip', '-j', 'link', 'show'], { allowFail: true });
  const list = r.stdout.trim() ? (JSON.parse(r.stdout) as { ifname: string }[]) : [];
  return list.map((x) => x.ifname).filter((n) => n.startsWith(prefix));
}

/** Turn off IPv6 in a namespace so router/MLD chatter does not appear (it would count as foreign). */
export async function quietNetns(ns: string): Promise<void> {
  await exec(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
}

/**
 * A veth pair whose ends live in namespaces, both up, with IPv6 off on each end: the ends are made in the
 * root namespace (IPv6 on) and moved, so the namespace's default alone may not hold for them, and their
 * delayed router solicitations and MLD reports would show in the kernel counters tests compare with.
 */
export async function vethPair(host: Host, a: string, aNs: string, b: string, bNs: string, mtu?: number): Promise<void> {
  await host.createVethPair(a, b, { aNetns: aNs, bNetns: bNs, ...(mtu ? { mtu } : {}) });
  for (const [dev, ns] of [
    [a, aNs],
    [b, bNs],
  ]) {
    // Below 1280 bytes of MTU the kernel gives a device no IPv6 at all, and no setting for it either.
    const conf = `/proc/sys/net/ipv6/conf/${dev}`;
    if ((await exec(['ip', 'netns', 'exec', ns, 'test', '-e', conf], { allowFail: true })).code === 0)
      await exec(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', `net.ipv6.conf.${dev}.disable_ipv6=1`]);
  }
}

/** Start `vsg-engine forward` tracked by the host; resolves when it printed "ready". */
export async function startForwarder(host: Host, argv: readonly string[]): Promise<Child> {
  const child = await host.spawn([defaultEnginePath(), 'forward', ...argv], { label: 'stop test forwarder', graceMs: 1000, stdinPipe: true });
  const ok = await new Promise<boolean>((resolve) => {
    const t = setTimeout(() => resolve(false), 5000);
    const check = (): void => {
      if (child.tail(50).includes('"event":"ready"')) {
        clearTimeout(t);
        resolve(true);
      }
    };
    child.on('output', check);
    child.on('unexpected-exit', () => resolve(false));
    check();
  });
  if (!ok) throw new Error(`forwarder did not start: ${child.tail(10)}`);
  return child;
}

export interface ForwarderResult {
  received: number;
  ignored: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  sent: number;
}

export async function stopForwarder(child: Child): Promise<ForwarderResult> {
  child.proc.stdin?.write('stop\n');
  await Promise.race([child.waitExit(), new Promise((r) => setTimeout(r, 3000))]);
  const line = child
    .tail(50)
    .split('\n')
    .find((l) => l.includes('"mode":"forward"') && l.includes('"event":"result"'));
  if (!line) throw new Error(`forwarder printed no result: ${child.tail(10)}`);
  return JSON.parse(line) as ForwarderResult;
}

/**
 * What the forwarder does to frames 1..n (drop every k-th, else duplicate every d-th, else hold every
 * m-th back until the next forwarded frame), and what a receiver then counts. Independent of the engine.
 */
export function forwarderModel(n: number, k: number, d: number, m: number): { rx: number; duplicated: number; reordered: number; lost: number } {
  const out: number[] = [];
  let held: number | undefined;
  for (let i = 1; i <= n; i++) {
    const seq = i - 1;
    if (k && i % k === 0) continue;
    if (d && i % d === 0) out.push(seq, seq);
    else if (m && i % m === 0 && held === undefined) {
      held = seq;
      continue;
    } else out.push(seq);
    if (held !== undefined) {
      out.push(held);
      held = undefined;
    }
  }
  if (held !== undefined) out.push(held);
  const seen = new Set<number>();
  let max = -1;
  let duplicated = 0;
  let reordered = 0;
  for (const s of out) {
    if (seen.has(s)) duplicated++;
    else if (s < max) reordered++;
    seen.add(s);
    max = Math.max(max, s);
  }
  return { rx: out.length, duplicated, reordered, lost: n - seen.size };
}
