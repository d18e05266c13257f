/**
 * One running vsg-engine process: spawned from an argv array through Host (journalled, on the cleanup
 * stack, own process group), stdout parsed line by line, `stop` sent on stdin, killed as a group on abort.
 * Whatever happens, `finish()`/`kill()` leave no engine behind and remove its journal entry.
 */
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AbortedError, DriverError, EnvironmentError, TimeoutError, type VsperfError } from '../../framework/errors.js';
import type { Host } from '../../framework/host/host.js';
import { Child } from '../../framework/host/child.js';
import { exec } from '../../framework/host/exec.js';
import { DpdkSetupError, ENGINE_DPDK_CHECKS } from './dpdk.js';
import { LineSplitter, parseEngineLine, type EngineError, type EngineProgress, type EngineReady, type EngineResult, type EngineEvent } from './protocol.js';

/** Default engine binary: built by `npm run build` (scripts/build-native.mjs). */
export function defaultEnginePath(): string {
  // dist/trafficgen/software/engine-run.js or trafficgen/software/engine-run.ts → package root
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const cand = join(dir, 'trafficgen', 'software', 'engine', 'build', 'vsg-engine');
    if (existsSync(cand)) return cand;
    dir = dirname(dir);
  }
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'trafficgen', 'software', 'engine', 'build', 'vsg-engine');
}

export function requireEngine(path: string): void {
  if (!existsSync(path))
    throw new EnvironmentError(`the Software generator engine ${path} is not built`, { hint: 'run `npm run build` (needs gcc; `npm run setup` installs it)' });
}

/** Engine error codes → the error a user sees. */
export function engineError(e: EngineError, operation: string): VsperfError {
  const env = ['E_NOIFACE', 'E_IFDOWN', 'E_PERM', 'E_NETNS', 'E_BACKEND', 'E_NOHUGE', 'E_NODEV', 'E_NOTBOUND', 'E_LCORE', 'E_DPDK'];
  const usage = ['E_USAGE', 'E_MTU', 'E_SIZE'];
  const dpdk = ENGINE_DPDK_CHECKS[e.code];
  if (dpdk) return new DpdkSetupError(dpdk, `Software generator: ${e.message}`, `engine code ${e.code}`);
  if (env.includes(e.code))
    return new EnvironmentError(`Software generator: ${e.message}`, { hint: e.code === 'E_PERM' ? 'run as root' : `engine code ${e.code}` });
  return new DriverError('Software', operation, `${e.message} (${e.code})`, { kind: usage.includes(e.code) ? 'usage' : 'run' });
}

export interface EngineRunOptions {
  readonly host: Host;
  readonly enginePath: string;
  readonly argv: readonly string[];
  readonly operation: string;
  readonly onProgress?: (p: EngineProgress) => void;
  readonly signal?: AbortSignal;
  /** Longest expected run (ms) before the engine is killed and TimeoutError raised. */
  readonly timeoutMs: number;
  /** Ports that may get an XDP program (AF_XDP): detached by us if the engine dies without doing it. */
  readonly xdpPorts?: readonly { iface: string; netns?: string }[];
  /** DPDK EAL runtime directory of this run (the engine removes it; the janitor does if it is killed). */
  readonly dpdkRuntimeDir?: string;
  /**
   * The engine runs with `--hold holdS`: on its result line this is called (once) and awaited, then
   * "release" lets the engine close its ports. It gets holdS less HOOK_MARGIN_MS: a slower one fails the
   * trial with TimeoutError rather than read after the engine let go. Its failure is the trial's
   * (finish() throws it), after the engine was released.
   */
  readonly beforeRelease?: () => Promise<void>;
  /** The engine's --hold limit (s); required with beforeRelease. */
  readonly holdS?: number;
}

/** What the engine's hold leaves after the hook's bound: the "release" line's way and the engine's reaction. */
export const HOOK_MARGIN_MS = 2000;
/** After the result line: time for the engine to close its ports and exit (on top of a hold). */
export const EXIT_GRACE_MS = 15_000;

export class EngineRun {
  ready: EngineReady | undefined;
  lastProgress: EngineProgress | undefined;
  private result: EngineResult | undefined;
  private error: EngineError | undefined;
  private released: Promise<void> | undefined;
  private releaseError: unknown;
  /** finish()'s timer, re-armed when the result line arrives (the traffic is over; hold and exit remain). */
  private onResult: (() => void) | undefined;
  private protocolError: VsperfError | undefined;
  /** Set when the engine exited by itself (it detached its XDP programs). */
  private cleanExit = false;
  private constructor(
    private readonly child: Child,
    private readonly releaseProc: () => Promise<void>,
    private readonly releaseXdp: readonly (() => Promise<void>)[],
    private readonly opts: EngineRunOptions,
  ) {}

  private async release(): Promise<void> {
    await this.releaseProc();
    for (const r of this.releaseXdp) await r();
  }

  static async start(opts: EngineRunOptions): Promise<EngineRun> {
    requireEngine(opts.enginePath);
    if (opts.beforeRelease && !(opts.holdS !== undefined && opts.holdS * 1000 > HOOK_MARGIN_MS))
      throw new DriverError('Software', opts.operation, `a hold of ${String(opts.holdS)} s leaves the read before the release no time`, { kind: 'usage' });
    if (opts.signal?.aborted) throw new AbortedError('aborted before the engine started');
    const argv = [opts.enginePath, ...opts.argv];
    const child = await Child.start(argv, { stdinPipe: true, tailChars: 4096 });
    const id = opts.host.journal.nextId('proc');
    const release = opts.host.track(
      { kind: 'process', id, pid: child.pid, startTicks: child.startTicks, argv0: 'vsg-engine' },
      `stop vsg-engine (pid ${child.pid})`,
      () => child.stop(1000),
    );
    const xdp = (opts.xdpPorts ?? []).map((p) => {
      const entry = { kind: 'xdp' as const, id: opts.host.journal.nextId('xdp'), iface: p.iface, ...(p.netns ? { netns: p.netns } : {}) };
      return opts.host.track(entry, `xdp off ${p.iface}`, async () => {
        if (run.cleanExit) return;
        await exec([...(p.netns ? ['ip', '-n', p.netns] : ['ip']), 'link', 'set', 'dev', p.iface, 'xdp', 'off'], { allowFail: true, timeoutMs: 5000 });
      });
    });
    if (opts.dpdkRuntimeDir) {
      const dir = opts.dpdkRuntimeDir;
      xdp.push(
        opts.host.track({ kind: 'dir', id: opts.host.journal.nextId('dir'), path: dir }, `rm -rf ${dir}`, () => rmSync(dir, { recursive: true, force: true })),
      );
    }
    const run: EngineRun = new EngineRun(child, release, xdp, opts);
    const split = new LineSplitter();
    child.proc.stdout?.setEncoding('utf8');
    child.proc.stdout?.on('data', (d: string) => {
      try {
        for (const line of split.push(d)) run.onEvent(parseEngineLine(line));
      } catch (e) {
        run.protocolError ??= e as VsperfError;
        void child.stop(500);
      }
    });
    child.proc.stdin?.on('error', () => undefined); // EPIPE when the engine already exited
    return run;
  }

  get pid(): number {
    return this.child.pid;
  }

  private onEvent(ev: EngineEvent): void {
    switch (ev.event) {
      case 'ready':
        this.ready = ev;
        break;
      case 'progress':
        this.lastProgress = ev;
        this.opts.onProgress?.(ev);
        break;
      case 'result':
        this.result ??= ev;
        // One result line per run; a second one (a broken engine) must not call the hook again.
        if (this.opts.beforeRelease) this.released ??= this.releasePorts(this.opts.beforeRelease);
        this.onResult?.();
        break;
      case 'error':
        this.error = ev;
        break;
      default:
        break;
    }
  }

  /** The hook's time: the engine's hold less a margin, so the read ends before the engine lets go. */
  get hookLimitMs(): number {
    return Math.max(0, (this.opts.holdS ?? 0) * 1000 - HOOK_MARGIN_MS);
  }

  private async releasePorts(hook: () => Promise<void>): Promise<void> {
    const limitMs = this.hookLimitMs;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new TimeoutError(
              `Software ${this.opts.operation}: the read before the ports' release`,
              limitMs,
              `the engine holds its ports ${this.opts.holdS ?? 0} s; a later read would miss a vhost-user port's counters`,
            ),
          ),
        limitMs,
      );
    });
    try {
      await Promise.race([hook(), late]);
    } catch (e) {
      this.releaseError = e;
    } finally {
      clearTimeout(timer);
    }
    if (this.child.running) this.child.proc.stdin?.write('release\n');
  }

  /** Ask for a graceful stop: traffic ends now, the engine drains and reports. */
  requestStop(): void {
    if (this.child.running) this.child.proc.stdin?.write('stop\n');
  }

  /** Start counting delayed frames (later than 10 × the p99 latency so far). */
  mark(): void {
    if (this.child.running) this.child.proc.stdin?.write('mark\n');
  }

  /** Kill the engine group at once (abort path) and forget it. */
  async kill(): Promise<void> {
    await this.child.stop(500);
    await this.release();
  }

  /**
   * Wait for the engine to exit and return its result; any failure throws one clear error. The run has
   * timeoutMs until its result line, then the hold (holdS) plus EXIT_GRACE_MS: a slow read of the switch's
   * counters after a finished trial is not the trial timing out.
   */
  async finish(): Promise<EngineResult> {
    const { signal, timeoutMs, operation } = this.opts;
    const afterResultMs = (this.opts.beforeRelease ? (this.opts.holdS ?? 0) * 1000 : 0) + EXIT_GRACE_MS;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    let armedMs = timeoutMs;
    const exited = this.child.waitExit();
    const t0 = performance.now();
    let deadline = 0;
    const interrupted = new Promise<'abort' | 'timeout'>((resolve) => {
      // Extends, never shortens: the deadline is the later of the run's and (once the result is in) the hold's.
      const arm = (ms: number): void => {
        const at = performance.now() + ms;
        if (at <= deadline) return;
        if (timer) clearTimeout(timer);
        deadline = at;
        armedMs = Math.round(at - t0);
        timer = setTimeout(() => resolve('timeout'), ms);
      };
      arm(timeoutMs);
      if (this.result) arm(afterResultMs);
      this.onResult = () => arm(afterResultMs);
      if (signal) {
        onAbort = () => resolve('abort');
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }
    });
    const stop = async (why: 'abort' | 'timeout'): Promise<never> => {
      await this.kill();
      if (why === 'abort') throw new AbortedError(`${operation} aborted; engine (pid ${this.child.pid}) stopped`);
      throw new TimeoutError(
        `Software ${operation}`,
        armedMs,
        this.result ? 'engine did not exit after its result (hold and exit); killed' : 'engine did not finish; killed',
      );
    };
    try {
      const first = await Promise.race([exited, interrupted]);
      if (first === 'abort' || first === 'timeout') return await stop(first);
      this.cleanExit = first.code === 0 || first.code === 2;
      // The end of stdout first: its last lines (the result) may still be in the pipe, and the result
      // starts the hook. Then the hook, so that it never runs on after finish() returned; both under the
      // same timer and abort signal (a stuck read must not hang the trial).
      const stdoutEnded = new Promise<void>((r) =>
        this.child.proc.stdout && !this.child.proc.stdout.readableEnded ? this.child.proc.stdout.once('end', () => r()) : r(),
      );
      const drained = (async (): Promise<'drained'> => {
        await stdoutEnded;
        await this.released;
        return 'drained';
      })();
      const second = await Promise.race([drained, interrupted]);
      if (second !== 'drained') return await stop(second);
      // The trial ends when the engine is fully reaped (all pipes closed): otherwise the 'close' work
      // runs after we return, inside the caller's next step (a gRPC shim's next call) instead of here.
      await this.child.closed();
      await this.release();
      if (this.protocolError) throw this.protocolError;
      if (this.error) throw engineError(this.error, operation);
      if (this.releaseError !== undefined) throw this.releaseError;
      if (!this.result) {
        const st = first;
        const how = st.signal ? `was killed by ${st.signal}` : `exited with ${st.code}`;
        const tail = this.child.tail(5).trim().split('\n').slice(-3).join(' | ');
        throw new DriverError('Software', operation, `engine ${how} without a result${tail ? `: ${tail}` : ''}`);
      }
      return this.result;
    } finally {
      this.onResult = undefined;
      if (timer) clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      if (this.child.running) await this.kill();
    }
  }
}
