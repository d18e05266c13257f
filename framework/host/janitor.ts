import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import { exec } from './exec.js';
import { Journal, type JournalEntry } from './journal.js';
import { isSameProcess, killTree } from './proc.js';
import { releaseRemoteEntry } from './remote-host.js';
import type { SshTarget } from './ssh.js';

/** A local pid file ("pid startTicks"): kill that process if it is still the one named, then remove the file. */
function releaseLocalPidFile(path: string): void {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return;
  }
  const [pid, ticks] = text.trim().split(/\s+/).map(Number);
  try {
    if (pid && ticks !== undefined && isSameProcess(pid, ticks)) process.kill(pid, 'SIGKILL');
  } catch {
    // It ended between the check and the kill.
  }
  rmSync(path, { force: true });
}

/** Release one leftover resource; false when it could not. Never throws: the janitor must get through the whole list. */
export async function releaseEntry(e: JournalEntry, log: Logger = silentLogger, routes: ReadonlyMap<string, SshTarget> = new Map()): Promise<boolean> {
  try {
    if (e.host !== undefined) {
      const route = routes.get(e.host);
      if (!route) throw new Error(`no ssh route to host ${e.host} in the journal`);
      log.info(`janitor: releasing ${e.kind} ${e.id} on ${e.host}`);
      await releaseRemoteEntry(route, e);
      return true;
    }
    switch (e.kind) {
      case 'process':
        if (isSameProcess(e.pid, e.startTicks)) {
          log.info(`janitor: killing leftover ${e.argv0} (pid ${e.pid})`);
          await killTree(e.pid, 1000);
        }
        break;
      case 'pidfile':
        releaseLocalPidFile(e.path);
        break;
      case 'netns':
        await exec(['ip', 'netns', 'del', e.name], { allowFail: true });
        break;
      case 'link':
        await exec(e.netns ? ['ip', '-n', e.netns, 'link', 'del', e.name] : ['ip', 'link', 'del', e.name], { allowFail: true });
        break;
      case 'xdp':
        await exec([...(e.netns ? ['ip', '-n', e.netns] : ['ip']), 'link', 'set', 'dev', e.iface, 'xdp', 'off'], { allowFail: true });
        break;
      case 'mount':
        await exec(['umount', '-l', e.path], { allowFail: true });
        break;
      case 'dir':
      case 'file':
        rmSync(e.path, { recursive: true, force: true });
        break;
      case 'sysctl':
        writeFileSync(e.path, e.restore);
        break;
      case 'ssh':
        break;
    }
    return true;
  } catch (err) {
    log.warn(`janitor: could not release ${e.kind} ${e.id}${e.host ? ` on ${e.host}` : ''}: ${(err as Error).message}`);
    return false;
  }
}

/**
 * What could not be released (a remote host unreachable now) stays in the journal, with the routes to
 * its hosts, for the next janitor: dropping it would forget a process that may still run there.
 */
/** `entries`: the journal's, newest first (as the janitor walks them). */
function keepForNextJanitor(path: string, failed: readonly JournalEntry[], entries: readonly JournalEntry[]): void {
  if (!failed.length) {
    rmSync(path, { force: true });
    return;
  }
  const hosts = new Set(failed.map((e) => e.host).filter((h) => h !== undefined));
  // In the journal's own order (oldest first): routes come before what they reach.
  const keep = [...entries].reverse().filter((e) => failed.includes(e) || (e.kind === 'ssh' && hosts.has(e.name)));
  writeFileSync(path, keep.map((entry) => JSON.stringify({ op: 'add', entry }) + '\n').join(''));
}

/**
 * Clean what crashed runs left behind: every journal not belonging to `exceptRunId`, newest resource
 * first (processes before the directories they live in). Returns how many resources were released.
 */
export async function runJanitor(opts: { exceptRunId?: string; log?: Logger; dir?: string } = {}): Promise<number> {
  const log = opts.log ?? silentLogger;
  let n = 0;
  for (const path of Journal.list(opts.dir)) {
    if (opts.exceptRunId && basename(path) === `${opts.exceptRunId}.jsonl`) continue;
    const entries = Journal.read(path).reverse();
    if (entries.length) log.info(`janitor: cleaning ${entries.length} leftover resource(s) of run ${basename(path, '.jsonl')}`);
    const routes = new Map<string, SshTarget>();
    for (const e of entries)
      if (e.kind === 'ssh')
        routes.set(e.name, {
          name: e.name,
          address: e.address,
          user: e.user,
          keyFile: e.keyFile,
          knownHosts: e.knownHosts,
          ...(e.port ? { port: e.port } : {}),
        });
    // Remote hosts first, while the local things that may carry the route to them (a sandbox's sshd) still
    // exist; on each host processes first: they hold the netns, sockets and hugepages the other entries refer to.
    const failed: JournalEntry[] = [];
    for (const remote of [true, false]) {
      const here = entries.filter((x) => (x.host !== undefined) === remote);
      const isProcess = (x: JournalEntry): boolean => x.kind === 'process' || x.kind === 'pidfile';
      for (const e of [...here.filter(isProcess), ...here.filter((x) => !isProcess(x))]) if (!(await releaseEntry(e, log, routes))) failed.push(e);
    }
    n += entries.length - failed.length;
    keepForNextJanitor(path, failed, entries);
  }
  return n;
}
