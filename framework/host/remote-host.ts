/**
 * A host reached over SSH. Every resource created on it is journalled on the local journal with the
 * host's name (and, first of all, an 'ssh' entry saying how to reach it), so the janitor of a later
 * run can release it there after a SIGKILL of vsperf, exactly like a local one.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ProcessError, TimeoutError, UsageError, VsperfError, errorMessage } from '../errors.js';
import type { Child } from './child.js';
import { exec, type ExecOptions, type ExecResult } from './exec.js';
import type { Host } from './host.js';
import type { HostOps, HostProcess, HostSpawnOptions } from './host-ops.js';
import type { JournalEntry } from './journal.js';
import { sleep } from './proc.js';
import { classifySshFailure, commandArgv, forwardArgv, masterArgv, type SshTarget } from './ssh.js';

/**
 * Runs on the remote shell as `sh -c SCRIPT sh PIDFILE ARGV…`: write pid and start time to PIDFILE (the
 * janitor's way to the process if vsperf dies before it reads them), report them, then become ARGV.
 */
const SPAWN_SCRIPT = 'f=$1; shift; s="$$ $(cut -d" " -f22 /proc/$$/stat)"; echo "$s" > "$f"; echo "vsperf-pid $s"; exec "$@"';
/**
 * Kill PID ($1) only if it is still the process that started at ticks $2 (pid reuse safe); exit 0 once it
 * is gone (or was never ours), 1 if it outlived SIGKILL: the caller must not call it released then.
 */
const KILL_SCRIPT =
  'alive() { st=$(cut -d" " -f3,22 /proc/$1/stat 2>/dev/null); [ "${st#* }" = "$2" ] && [ "${st% *}" != Z ]; }; ' +
  'for s in TERM TERM TERM TERM KILL KILL KILL KILL KILL; do alive $1 $2 || exit 0; kill -$s $1 2>/dev/null; sleep 0.2; done; ! alive $1 $2';
/** KILL_SCRIPT for the process a pid file ($1) names, then the file removed; a missing or empty file: nothing started. */
const PIDFILE_KILL_SCRIPT = `f=$1; [ -s "$f" ] || { rm -f -- "$f"; exit 0; }; set -- $(cat -- "$f"); ( ${KILL_SCRIPT} ) && rm -f -- "$f"`;

/** Run argv on the target without a master (janitor, one-off checks). Throws SshError for ssh's own failures. */
export async function sshExec(t: SshTarget, argv: readonly string[], opts: ExecOptions & { controlPath?: string } = {}): Promise<ExecResult> {
  const r = await exec(commandArgv(t, argv, opts.controlPath), { ...opts, allowFail: true });
  const sshErr = classifySshFailure(t, r.code, r.stderr);
  if (sshErr) throw sshErr;
  if (r.code !== 0 && !opts.allowFail) throw new ProcessError([`${t.name}:`, ...argv], r.code, r.stderr || r.stdout, r.signal);
  return r;
}

/** `env -C DIR K=V… ARGV…`: environment and working directory for a remote command (env execs ARGV in place). */
export function withEnv(argv: readonly string[], env?: Readonly<Record<string, string>>, cwd?: string): string[] {
  const vars = Object.entries(env ?? {}).map(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new UsageError(`bad environment variable name ${JSON.stringify(k)}`);
    return `${k}=${v}`;
  });
  if (!vars.length && !cwd) return [...argv];
  return ['env', ...(cwd ? ['-C', cwd] : []), ...vars, ...argv];
}

/** A process on a remote host, held by a local ssh channel (the channel ends when the process does). */
export class RemoteProcess implements HostProcess {
  constructor(
    readonly channel: Child,
    readonly pid: number,
    readonly startTicks: number,
    private readonly host: RemoteHost,
  ) {}

  get running(): boolean {
    return this.channel.running;
  }

  get exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.channel.exitStatus;
  }

  tail(lines = 20): string {
    return this.channel
      .tail(lines + 1)
      .split('\n')
      .filter((l) => !l.startsWith('vsperf-pid '))
      .slice(-lines)
      .join('\n');
  }

  on(event: 'unexpected-exit', fn: (code: number | null, signal: string | null) => void): this {
    this.channel.on(event, fn);
    return this;
  }

  expectExit(): void {
    this.channel.expectExit();
  }

  waitExit(): Promise<unknown> {
    return this.channel.waitExit();
  }

  private stopping: Promise<void> | undefined;

  /**
   * Idempotent, and every caller waits for the one kill (the journal's release calls it again): it
   * rejects when the kill could not be confirmed, so the journal keeps the entry for the janitor.
   */
  stop(): Promise<void> {
    return (this.stopping ??= this.kill());
  }

  private async kill(): Promise<void> {
    this.channel.expectExit();
    let failure: string | undefined;
    try {
      const r = await this.host.exec(['sh', '-c', KILL_SCRIPT, 'sh', String(this.pid), String(this.startTicks)], { allowFail: true, timeoutMs: 15_000 });
      if (r.code !== 0) failure = `still running after SIGKILL${r.stderr.trim() ? `: ${r.stderr.trim()}` : ''}`;
    } catch (e) {
      failure = errorMessage(e);
    }
    await this.channel.stop(1000);
    if (failure) throw new VsperfError('E_PROCESS', `host ${this.host.name}: could not stop pid ${this.pid}: ${failure}`);
  }
}

let masterSeq = 0;

export class RemoteHost implements HostOps {
  readonly name: string;
  private master: Child | undefined;
  readonly controlPath: string;
  /** Releases of what was made on the host and is not released yet, oldest first (close() runs them). */
  private readonly live = new Set<() => Promise<void>>();

  constructor(
    readonly target: SshTarget,
    readonly local: Host,
    /** Local directory for the control socket (short: unix socket paths hold 107 bytes). */
    controlDir: string,
  ) {
    this.name = target.name;
    // One socket per connection: a second master on the same path would pass `-O check` on the first one's.
    this.controlPath = join(controlDir, `ssh-${target.name}-${process.pid}-${++masterSeq}.ctl`);
  }

  /** Authenticate once (ControlMaster); later commands are channels of this connection. */
  async connect(timeoutMs = 15_000): Promise<void> {
    const t = this.target;
    // First in, last out: the janitor needs this to reach the host for every entry tracked after it.
    this.local.track(
      {
        kind: 'ssh',
        id: this.local.journal.nextId('ssh'),
        name: t.name,
        address: t.address,
        ...(t.port ? { port: t.port } : {}),
        user: t.user,
        keyFile: t.keyFile,
        knownHosts: t.knownHosts,
      },
      `forget ssh route to ${t.name}`,
      () => undefined,
    );
    this.master = await this.local.spawn(masterArgv(t, this.controlPath), { label: `close ssh master to ${t.name}`, graceMs: 1000 });
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (!this.master.running) {
        await this.master.closed();
        const st = this.master.exitStatus;
        throw (
          classifySshFailure(t, st?.code ?? 255, this.master.tail()) ?? new ProcessError(masterArgv(t, this.controlPath), st?.code ?? null, this.master.tail())
        );
      }
      const r = await exec(['ssh', '-o', `ControlPath=${this.controlPath}`, '-O', 'check', t.address], { allowFail: true });
      if (r.code === 0) return;
      if (Date.now() > end) throw new TimeoutError(`ssh connection to ${t.name} (${t.address})`, timeoutMs);
      await sleep(50);
    }
  }

  exec(argv: readonly string[], opts: Omit<ExecOptions, 'env'> & { env?: Readonly<Record<string, string>> } = {}): Promise<ExecResult> {
    const { env, ...rest } = opts;
    return sshExec(this.target, withEnv(argv, env), { ...rest, controlPath: this.controlPath });
  }

  nextId(prefix: string): string {
    return this.local.journal.nextId(prefix);
  }

  async exists(path: string): Promise<boolean> {
    return (await this.exec(['test', '-e', path], { allowFail: true })).code === 0;
  }

  async readFile(path: string): Promise<string> {
    const r = await this.exec(['cat', '--', path], { allowFail: true });
    return r.code === 0 ? r.stdout : '';
  }

  async writeFile(path: string, text: string): Promise<void> {
    await this.exec(['sh', '-c', 'cat > "$1"', 'sh', path], { input: text });
  }

  /** A mount on the host (hugetlbfs), unmounted at cleanup and by the janitor. */
  async mount(argv: readonly string[], path: string): Promise<() => Promise<void>> {
    await this.exec(['mkdir', '-p', path]);
    return this.recordThenMake({ kind: 'mount', id: this.nextId('mount'), path }, `umount ${path}`, ['umount', '-l', path], ['mount', ...argv, path]);
  }

  /**
   * Journal first, then make: a signal to vsperf's process group (Ctrl-C, timeout(1)) kills the local
   * ssh of a command in flight while the command itself completes on the host; recorded after the
   * fact, that resource would exist unrecorded. A make that fails releases the entry at once.
   */
  private async recordThenMake(entry: JournalEntry, label: string, undo: readonly string[], make: readonly string[]): Promise<() => Promise<void>> {
    const release = this.track(entry, label, async () => {
      await this.exec(undo, { allowFail: true });
    });
    try {
      await this.exec(make);
    } catch (e) {
      await release().catch(() => undefined);
      throw e;
    }
    return release;
  }

  /** Journal a resource of this host and register its release (also run by close(), while the connection is up). */
  track(entry: JournalEntry, label: string, release: () => Promise<void> | void): () => Promise<void> {
    const tracked = this.local.track({ ...entry, host: this.name }, `${this.name}: ${label}`, release);
    const once = async (): Promise<void> => {
      this.live.delete(once);
      await tracked();
    };
    this.live.add(once);
    return once;
  }

  /** Start a long-running process on the host; stopped (pid-reuse safe) at cleanup and by the janitor. */
  async spawn(argv: readonly string[], opts: HostSpawnOptions & { timeoutMs?: number } = {}): Promise<RemoteProcess> {
    const { Child } = await import('./child.js');
    const pidFile = `/tmp/vsperf-spawn-${randomBytes(6).toString('hex')}.pid`;
    let handedOver = false;
    const releasePidFile = this.track({ kind: 'pidfile', id: this.nextId('pidfile'), path: pidFile }, `stop what ${pidFile} names`, async () => {
      if (handedOver) await this.exec(['rm', '-f', '--', pidFile], { allowFail: true });
      else if ((await this.exec(['sh', '-c', PIDFILE_KILL_SCRIPT, 'sh', pidFile], { allowFail: true, timeoutMs: 15_000 })).code !== 0)
        throw new VsperfError('E_PROCESS', `host ${this.name}: the process named in ${pidFile} is still running after SIGKILL`);
    });
    const channel = await Child.start(
      commandArgv(this.target, ['sh', '-c', SPAWN_SCRIPT, 'sh', pidFile, ...withEnv(argv, opts.env, opts.cwd)], this.controlPath),
      {
        ...(opts.logFile ? { logFile: opts.logFile } : {}),
        ...(opts.tailChars ? { tailChars: opts.tailChars } : {}),
      },
    );
    const end = Date.now() + (opts.timeoutMs ?? 10_000);
    let m: RegExpMatchArray | null = null;
    while (!(m = /vsperf-pid (\d+) (\d+)/.exec(channel.tail(200)))) {
      if (!channel.running || Date.now() > end) {
        await channel.stop(500);
        await channel.closed();
        await releasePidFile().catch(() => undefined);
        throw (
          classifySshFailure(this.target, channel.exitStatus?.code ?? null, channel.tail()) ??
          new ProcessError([`${this.name}:`, ...argv], channel.exitStatus?.code ?? null, channel.tail())
        );
      }
      await sleep(20);
    }
    const proc = new RemoteProcess(channel, Number(m[1]), Number(m[2]), this);
    this.track(
      { kind: 'process', id: this.local.journal.nextId('proc'), pid: proc.pid, startTicks: proc.startTicks, argv0: argv[0]! },
      opts.label ?? `stop ${argv[0]} (pid ${proc.pid})`,
      () => proc.stop(),
    );
    // The process entry now covers it: the pid file's entry goes (the file with it), the process stays.
    handedOver = true;
    // A failure here only leaves the pid file's entry, which names this same (tracked) process.
    await releasePidFile().catch(() => undefined);
    return proc;
  }

  /** A directory on the host, removed at cleanup. */
  makeDir(path: string): Promise<() => Promise<void>> {
    return this.recordThenMake({ kind: 'dir', id: this.local.journal.nextId('dir'), path }, `rm -rf ${path}`, ['rm', '-rf', '--', path], ['mkdir', '-p', path]);
  }

  /** Forward a local unix socket to one on the host (e.g. a remote QEMU's QMP) through the master. */
  async forwardSocket(local: string, remote: string): Promise<() => Promise<void>> {
    const r = await exec(forwardArgv(this.target, this.controlPath, local, remote), { allowFail: true });
    if (r.code !== 0) throw classifySshFailure(this.target, 255, r.stderr) ?? new ProcessError(['ssh', '-O', 'forward'], r.code, r.stderr);
    return async () => {
      await exec(forwardArgv(this.target, this.controlPath, local, remote, true), { allowFail: true });
    };
  }

  /**
   * Release what is still live on the host (newest first), then close the master (its channels end
   * with it). Closing first would strand them: a remote process outlives its ssh channel, and once the
   * connection (or a sandbox host's sshd) is gone no later cleanup step can reach it.
   */
  async close(): Promise<void> {
    const errors: string[] = [];
    for (const release of [...this.live].reverse()) await release().catch((e: unknown) => errors.push(errorMessage(e)));
    await this.master?.stop(1000);
    if (errors.length) throw new VsperfError('E_CLEANUP', `host ${this.name}: ${errors.join('; ')}`);
  }
}

/** Janitor side: release one entry that lives on a remote host. Never throws. */
export async function releaseRemoteEntry(t: SshTarget, e: JournalEntry): Promise<void> {
  const run = (argv: string[]): Promise<unknown> => sshExec(t, argv, { allowFail: true, timeoutMs: 20_000 });
  switch (e.kind) {
    case 'process':
      await run(['sh', '-c', KILL_SCRIPT, 'sh', String(e.pid), String(e.startTicks)]);
      break;
    case 'pidfile':
      await run(['sh', '-c', PIDFILE_KILL_SCRIPT, 'sh', e.path]);
      break;
    case 'netns':
      await run(['ip', 'netns', 'del', e.name]);
      break;
    case 'link':
      await run(e.netns ? ['ip', '-n', e.netns, 'link', 'del', e.name] : ['ip', 'link', 'del', e.name]);
      break;
    case 'xdp':
      await run([...(e.netns ? ['ip', '-n', e.netns] : ['ip']), 'link', 'set', 'dev', e.iface, 'xdp', 'off']);
      break;
    case 'mount':
      await run(['umount', '-l', e.path]);
      break;
    case 'dir':
    case 'file':
      await run(['rm', '-rf', '--', e.path]);
      break;
    case 'sysctl':
      await run(['sh', '-c', 'printf "%s\\n" "$1" > "$2"', 'sh', e.restore, e.path]);
      break;
    case 'ssh':
      break;
  }
}
