import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { EnvironmentError } from '../errors.js';
import { killTree, processStartTicks } from './proc.js';

export interface ChildOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Also append stdout+stderr to this file (serial logs, daemon logs). */
  readonly logFile?: string;
  /** Keep this many characters of output for error messages. */
  readonly tailChars?: number;
  /** stdin as a pipe (for engines controlled over stdin/stdout). */
  readonly stdinPipe?: boolean;
}

/**
 * A long-running child in its own process group, spawned from an argv array. It keeps the tail of its
 * output for error messages and can be stopped as a whole tree (no orphan grandchildren).
 */
export class Child extends EventEmitter {
  readonly pid: number;
  readonly startTicks: number;
  readonly proc: ChildProcess;
  private tailBuf = '';
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exitPromise: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private expectedExit = false;
  private readonly closePromise: Promise<void>;
  private log: WriteStream | undefined;

  private constructor(
    readonly argv: readonly string[],
    proc: ChildProcess,
    private readonly opts: ChildOptions,
  ) {
    super();
    this.proc = proc;
    this.pid = proc.pid!;
    this.startTicks = processStartTicks(this.pid) ?? 0;
    if (opts.logFile) this.log = createWriteStream(opts.logFile, { flags: 'a' });
    const onData = (d: Buffer): void => {
      const s = d.toString('utf8');
      this.log?.write(s);
      this.tailBuf = (this.tailBuf + s).slice(-(opts.tailChars ?? 8192));
      this.emit('output', s);
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    this.closePromise = new Promise((resolve) => proc.once('close', () => resolve()));
    this.exitPromise = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.exited = { code, signal };
        this.log?.end();
        if (!this.expectedExit) this.emit('unexpected-exit', code, signal);
        resolve({ code, signal });
      });
    });
  }

  /** Spawn; rejects with EnvironmentError when the binary does not exist. */
  static start(argv: readonly string[], opts: ChildOptions = {}): Promise<Child> {
    return new Promise((resolve, reject) => {
      const proc = spawn(argv[0]!, argv.slice(1), {
        detached: true,
        stdio: [opts.stdinPipe ? 'pipe' : 'ignore', 'pipe', 'pipe'],
        env: opts.env ?? process.env,
        cwd: opts.cwd,
      });
      proc.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          err.code === 'ENOENT' ? new EnvironmentError(`command not found: ${argv[0]}`, { hint: 'run `npm run setup` to install the system packages' }) : err,
        ),
      );
      proc.once('spawn', () => resolve(new Child(argv, proc, opts)));
    });
  }

  get running(): boolean {
    return this.exited === undefined;
  }

  get exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exited;
  }

  tail(lines = 20): string {
    return this.tailBuf.split('\n').slice(-lines).join('\n');
  }

  /** Resolves once the process has exited and all its stdio pipes are closed ('close'). */
  closed(): Promise<void> {
    return this.closePromise;
  }

  waitExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exitPromise;
  }

  /** Mark the coming exit as intended (no 'unexpected-exit' event), e.g. before a graceful quit command. */
  expectExit(): void {
    this.expectedExit = true;
  }

  /** TERM the group, KILL after graceMs; resolves when the process is gone. */
  async stop(graceMs = 2000): Promise<void> {
    this.expectedExit = true;
    if (!this.running) return;
    await killTree(this.pid, graceMs);
    await Promise.race([this.exitPromise, new Promise((r) => setTimeout(r, 1000))]);
  }
}
