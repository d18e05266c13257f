import { makeDirectory } from './paths.js';
import { mkdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { CleanupStack } from '../runner/cleanup-stack.js';
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import { Child, type ChildOptions } from './child.js';
import { exec } from './exec.js';
import { Journal, type JournalEntry } from './journal.js';

/**
 * The one way drivers create things on the host. Each create is journalled (for the janitor after a
 * crash) and pushed on the cleanup stack (for a normal or signalled teardown), in that order, so no
 * resource ever exists unrecorded.
 */
export class Host {
  constructor(
    readonly cleanup: CleanupStack,
    readonly journal: Journal,
    readonly log: Logger = silentLogger,
  ) {}

  /** Record an already-created resource and register its release. */
  track(entry: JournalEntry, label: string, release: () => Promise<void> | void): () => Promise<void> {
    this.journal.add(entry);
    let done = false;
    const run = async (): Promise<void> => {
      if (done) return;
      done = true;
      await release();
      // Only a released resource leaves the journal: a failed release stays for the next janitor.
      this.journal.remove(entry.id);
    };
    const drop = this.cleanup.defer(label, run);
    // Calling the returned function releases now and removes the step from the stack.
    return async () => {
      drop();
      await run();
    };
  }

  /** Spawn a long-running child, tracked by pid + start time (pid reuse safe), stopped on cleanup. */
  async spawn(argv: readonly string[], opts: ChildOptions & { label?: string; graceMs?: number } = {}): Promise<Child> {
    const child = await Child.start(argv, opts);
    const id = this.journal.nextId('proc');
    this.track({ kind: 'process', id, pid: child.pid, startTicks: child.startTicks, argv0: argv[0]! }, opts.label ?? `stop ${argv[0]} (pid ${child.pid})`, () =>
      child.stop(opts.graceMs),
    );
    return child;
  }

  async createNetns(name: string): Promise<() => Promise<void>> {
    await exec(['ip', 'netns', 'add', name]);
    const release = this.track({ kind: 'netns', id: this.journal.nextId('netns'), name }, `ip netns del ${name}`, async () => {
      await exec(['ip', 'netns', 'del', name], { allowFail: true });
    });
    await exec(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
    return release;
  }

  /** A veth pair; `aNetns`/`bNetns` move the ends into namespaces. Deleting one end removes both. */
  async createVethPair(a: string, b: string, opts: { aNetns?: string; bNetns?: string; mtu?: number } = {}): Promise<() => Promise<void>> {
    await exec(['ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
    const entry: JournalEntry = { kind: 'link', id: this.journal.nextId('link'), name: a };
    let aNs: string | undefined;
    const release = this.track(entry, `ip link del ${a}`, async () => {
      await exec(aNs ? ['ip', '-n', aNs, 'link', 'del', a] : ['ip', 'link', 'del', a], { allowFail: true });
    });
    if (opts.aNetns) {
      await exec(['ip', 'link', 'set', a, 'netns', opts.aNetns]);
      aNs = opts.aNetns;
      // Re-journal with the namespace so the janitor finds the end where it now lives.
      this.journal.add({ ...entry, netns: opts.aNetns });
    }
    if (opts.bNetns) await exec(['ip', 'link', 'set', b, 'netns', opts.bNetns]);
    for (const [dev, ns] of [
      [a, opts.aNetns],
      [b, opts.bNetns],
    ] as const) {
      const pre = ns ? ['ip', '-n', ns] : ['ip'];
      if (opts.mtu) await exec([...pre, 'link', 'set', dev, 'mtu', String(opts.mtu)]);
      await exec([...pre, 'link', 'set', dev, 'up']);
    }
    return release;
  }

  /** A directory of ours, removed recursively at cleanup. */
  makeDir(path: string): () => Promise<void> {
    makeDirectory('work directory', path);
    return this.track({ kind: 'dir', id: this.journal.nextId('dir'), path }, `rm -rf ${path}`, () => rmSync(path, { recursive: true, force: true }));
  }

  /** Write a sysctl-like file (e.g. /proc/sys/vm/nr_hugepages) and restore the old value at cleanup. */
  writeSysfs(path: string, value: string): () => Promise<void> {
    const old = readFileSync(path, 'utf8').trim();
    writeFileSync(path, value);
    return this.track({ kind: 'sysctl', id: this.journal.nextId('sysctl'), path, restore: old }, `restore ${path}=${old}`, () => writeFileSync(path, old));
  }

  async mount(argv: readonly string[], path: string): Promise<() => Promise<void>> {
    mkdirSync(path, { recursive: true });
    await exec(['mount', ...argv, path]);
    return this.track({ kind: 'mount', id: this.journal.nextId('mount'), path }, `umount ${path}`, async () => {
      await exec(['umount', '-l', path], { allowFail: true });
    });
  }
}
