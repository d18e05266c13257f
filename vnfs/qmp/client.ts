/**
 * Asynchronous QMP client (after qemu.qmp, with a deadline on every call).
 *
 * States: idle → connecting → running → closing → idle. The session is set up before routing starts:
 * greeting read and checked, `qmp_capabilities` sent and answered; any failure on the way tears the
 * socket down and raises QmpConnectError with the cause. While running, each line is classified:
 * events go to `events` (history + listeners), returns/errors to the pending call with that id. An
 * unknown id is logged and dropped; an error without an id (QEMU could not parse what we sent) or a
 * garbled line is fatal for the session. EOF, a socket error or close() rejects every pending call
 * with QmpInterruptedError, so nothing awaits forever.
 */
import { createConnection, type Socket } from 'node:net';
import { AbortedError } from '../../framework/errors.js';
import type { Logger } from '../../framework/log/logger.js';
import { silentLogger } from '../../framework/log/logger.js';
import { EventHub } from './events.js';
import { LineSplitter, DEFAULT_MAX_LINE_BYTES } from './framing.js';
import { parseMessage, type QmpMessage, type QmpVersion } from './message.js';
import { QmpCommandError, QmpConnectError, QmpError, QmpInterruptedError, QmpProtocolError, QmpStateError, QmpTimeoutError } from './errors.js';

export type QmpState = 'idle' | 'connecting' | 'running' | 'closing';

export interface CallOptions {
  /** Deadline for the reply (ms). Default: the client's defaultTimeoutMs. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface QmpClientOptions {
  readonly log?: Logger;
  readonly defaultTimeoutMs?: number;
  readonly maxLineBytes?: number;
  /** Oldest QEMU accepted (major, minor). Default 2.12 (events with timestamps, migrate-incoming). */
  readonly minVersion?: readonly [number, number];
}

interface Pending {
  readonly cmd: string;
  readonly sent: unknown;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
}

/** Status of a migration as query-migrate returns it (the members we use). */
export interface MigrationInfo {
  readonly status?: string;
  readonly 'total-time'?: number;
  readonly 'setup-time'?: number;
  readonly downtime?: number;
  readonly 'expected-downtime'?: number;
  readonly ram?: {
    readonly transferred: number;
    readonly total: number;
    readonly remaining: number;
    readonly duplicate?: number;
    readonly normal?: number;
    readonly 'dirty-sync-count'?: number;
    readonly mbps?: number;
    readonly 'downtime-bytes'?: number;
  };
  readonly 'error-desc'?: string;
}

export class QmpClient {
  readonly events = new EventHub();
  private state_: QmpState = 'idle';
  private socket: Socket | undefined;
  private splitter: LineSplitter;
  private readonly pending = new Map<string, Pending>();
  private seq = 0;
  private greeting_: { version: QmpVersion; capabilities: readonly string[] } | undefined;
  private readonly log: Logger;
  private readonly defaultTimeoutMs: number;
  private disconnectReason: Error | undefined;
  private readonly disconnectHandlers = new Set<(reason: Error) => void>();
  private path = '';

  constructor(private readonly opts: QmpClientOptions = {}) {
    this.log = opts.log ?? silentLogger;
    this.defaultTimeoutMs = opts.defaultTimeoutMs ?? 10_000;
    this.splitter = new LineSplitter(opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  }

  get state(): QmpState {
    return this.state_;
  }

  get version(): QmpVersion | undefined {
    return this.greeting_?.version;
  }

  /** Why the last session ended (undefined while running or after a clean close()). */
  get lastDisconnect(): Error | undefined {
    return this.disconnectReason;
  }

  /** Called once per session end that we did not ask for (EOF, socket or protocol error). */
  onDisconnect(fn: (reason: Error) => void): () => void {
    this.disconnectHandlers.add(fn);
    return () => this.disconnectHandlers.delete(fn);
  }

  /** Connect to a QMP unix socket, read the greeting, negotiate capabilities. */
  async connect(path: string, opts: CallOptions = {}): Promise<void> {
    if (this.state_ !== 'idle') throw new QmpStateError('connect', this.state_);
    this.state_ = 'connecting';
    this.path = path;
    this.disconnectReason = undefined;
    this.splitter = new LineSplitter(this.opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    this.events.reset();
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    try {
      const sock = await this.openSocket(path, timeoutMs, opts.signal);
      this.socket = sock;
      // Greeting and negotiation go through the same reader; `pending` holds the negotiation call.
      const greeting = this.expectGreeting();
      // Handlers are bound to this socket: a late 'close' of an old session never ends a newer one.
      sock.on('data', (d: Buffer) => {
        if (this.socket === sock) this.onData(d);
      });
      sock.on('error', (e) => {
        if (this.socket === sock) this.teardown(new QmpInterruptedError('session', `socket error: ${e.message}`, { cause: e }), false);
      });
      sock.on('close', () => {
        if (this.socket === sock) this.teardown(new QmpInterruptedError('session', 'connection closed by QEMU (EOF)'), false);
      });
      const g = await withDeadline(greeting, Math.max(1, deadline - Date.now()), 'greeting', opts.signal);
      const [minMaj, minMin] = this.opts.minVersion ?? [2, 12];
      if (g.version.major < minMaj || (g.version.major === minMaj && g.version.minor < minMin)) {
        throw new QmpProtocolError(`QEMU ${g.version.major}.${g.version.minor}.${g.version.micro} is older than ${minMaj}.${minMin}`);
      }
      this.greeting_ = g;
      this.state_ = 'running';
      await this.execute('qmp_capabilities', undefined, { timeoutMs: Math.max(1, deadline - Date.now()), ...(opts.signal ? { signal: opts.signal } : {}) });
      this.log.debug(`qmp: connected to ${path} (QEMU ${g.version.major}.${g.version.minor}.${g.version.micro})`);
    } catch (e) {
      const reason = this.disconnectReason ?? e;
      this.teardown(new QmpInterruptedError('connect', 'connect failed'), true);
      this.state_ = 'idle';
      if (e instanceof AbortedError) throw e;
      throw new QmpConnectError(path, (reason as Error).message ?? String(reason), { cause: reason });
    }
  }

  /**
   * Send a command and await its return value. Rejects with QmpCommandError (QEMU error),
   * QmpTimeoutError (deadline; a late reply is dropped), QmpInterruptedError (session ended),
   * AbortedError (signal) or QmpStateError (not connected).
   */
  execute<T = unknown>(cmd: string, args?: Record<string, unknown>, opts: CallOptions = {}): Promise<T> {
    if (this.state_ !== 'running' || !this.socket) return Promise.reject(new QmpStateError(`execute ${cmd}`, this.state_));
    if (opts.signal?.aborted) return Promise.reject(new AbortedError(`aborted before QMP ${cmd}`));
    const id = `vsperf-${++this.seq}`;
    const msg: Record<string, unknown> = { execute: cmd, id };
    if (args !== undefined) msg.arguments = args;
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new QmpTimeoutError(cmd, timeoutMs));
      }, timeoutMs);
      const onAbort = (): void => {
        cleanup();
        reject(new AbortedError(`aborted while waiting for QMP ${cmd}`));
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        cmd,
        sent: msg,
        resolve: (v) => {
          cleanup();
          resolve(v as T);
        },
        reject: (e) => {
          cleanup();
          reject(e);
        },
      });
      this.socket!.write(`${JSON.stringify(msg)}\n`);
    });
  }

  /** Ask QEMU to quit; EOF before the reply counts as success. */
  async quit(opts: CallOptions = {}): Promise<void> {
    try {
      await this.execute('quit', undefined, opts);
    } catch (e) {
      if (!(e instanceof QmpInterruptedError)) throw e;
    }
  }

  /** Close the session. Idempotent; pending calls reject with QmpInterruptedError. */
  async close(): Promise<void> {
    if (this.state_ === 'idle') return;
    this.teardown(new QmpInterruptedError('session', 'client closed'), true);
  }

  // ---- typed helpers -------------------------------------------------------------------------------
  queryStatus(opts?: CallOptions): Promise<{ status: string; running: boolean }> {
    return this.execute('query-status', undefined, opts);
  }
  queryMigrate(opts?: CallOptions): Promise<MigrationInfo> {
    return this.execute('query-migrate', undefined, opts);
  }
  migrateSetCapabilities(caps: Readonly<Record<string, boolean>>, opts?: CallOptions): Promise<void> {
    return this.execute('migrate-set-capabilities', { capabilities: Object.entries(caps).map(([capability, state]) => ({ capability, state })) }, opts);
  }
  migrateSetParameters(params: Readonly<Record<string, unknown>>, opts?: CallOptions): Promise<void> {
    return this.execute('migrate-set-parameters', { ...params }, opts);
  }
  queryMigrateParameters(opts?: CallOptions): Promise<Record<string, unknown>> {
    return this.execute('query-migrate-parameters', undefined, opts);
  }
  migrateIncoming(uri: string, opts?: CallOptions): Promise<void> {
    return this.execute('migrate-incoming', { uri }, opts);
  }
  migrate(uri: string, opts?: CallOptions): Promise<void> {
    return this.execute('migrate', { uri }, opts);
  }
  migrateCancel(opts?: CallOptions): Promise<void> {
    return this.execute('migrate_cancel', undefined, opts);
  }
  cont(opts?: CallOptions): Promise<void> {
    return this.execute('cont', undefined, opts);
  }

  // ---- reader --------------------------------------------------------------------------------------
  private greetingWaiter: { resolve: (g: { version: QmpVersion; capabilities: readonly string[] }) => void; reject: (e: Error) => void } | undefined;

  private expectGreeting(): Promise<{ version: QmpVersion; capabilities: readonly string[] }> {
    return new Promise((resolve, reject) => {
      this.greetingWaiter = { resolve, reject };
    });
  }

  private onData(chunk: Buffer): void {
    let lines: string[];
    try {
      lines = this.splitter.push(chunk);
    } catch (e) {
      this.fatal(e as Error);
      return;
    }
    for (const line of lines) {
      if (this.state_ === 'idle' || this.state_ === 'closing') return;
      let m: QmpMessage;
      try {
        m = parseMessage(line);
      } catch (e) {
        this.fatal(e as Error);
        return;
      }
      this.route(m, line);
    }
  }

  private route(m: QmpMessage, line: string): void {
    switch (m.kind) {
      case 'greeting': {
        const w = this.greetingWaiter;
        this.greetingWaiter = undefined;
        if (w) w.resolve({ version: m.version, capabilities: m.capabilities });
        else this.fatal(new QmpProtocolError('unexpected second greeting', line));
        return;
      }
      case 'event':
        if (this.greetingWaiter) return this.fatal(new QmpProtocolError('event before greeting', line));
        this.events.publish({ event: m.event, data: m.data, qemuTsUs: m.qemuTsUs, recvHrNs: process.hrtime.bigint(), recvWallMs: Date.now() });
        return;
      case 'return':
      case 'error': {
        if (this.greetingWaiter) return this.fatal(new QmpProtocolError('reply before greeting', line));
        if (m.id === undefined) {
          if (m.kind === 'error') return this.fatal(new QmpProtocolError(`error without id (${m.errorClass}: ${m.desc})`, line));
          this.log.warn(`qmp: dropping a return without id: ${line.slice(0, 120)}`);
          return;
        }
        const p = this.pending.get(m.id);
        if (!p) {
          this.log.warn(`qmp: dropping a reply for unknown or timed-out id ${m.id}`);
          return;
        }
        if (m.kind === 'return') p.resolve(m.value);
        else p.reject(new QmpCommandError(p.cmd, m.errorClass, m.desc, p.sent, m.raw));
        return;
      }
    }
  }

  private fatal(err: Error): void {
    this.log.warn(`qmp: ${err.message}; closing the session`);
    this.teardown(err, false);
  }

  /** End the session: reject everything outstanding, destroy the socket, back to idle. */
  private teardown(reason: Error, requested: boolean): void {
    if (this.state_ === 'idle' || (this.state_ === 'closing' && !this.socket)) return;
    const wasRunning = this.state_ === 'running';
    this.state_ = 'closing';
    if (!requested) this.disconnectReason = reason;
    const sock = this.socket;
    this.socket = undefined;
    sock?.removeAllListeners('data');
    sock?.destroy();
    const gw = this.greetingWaiter;
    this.greetingWaiter = undefined;
    gw?.reject(reason);
    for (const [, p] of [...this.pending]) {
      p.reject(
        reason instanceof QmpInterruptedError
          ? new QmpInterruptedError(p.cmd, reason.message.replace(/^QMP \S+ interrupted: /, ''), { cause: reason })
          : new QmpInterruptedError(p.cmd, reason.message, { cause: reason }),
      );
    }
    this.pending.clear();
    this.events.fail(reason instanceof QmpError ? reason : new QmpInterruptedError('session', reason.message, { cause: reason }));
    this.state_ = 'idle';
    if (!requested && wasRunning) for (const h of [...this.disconnectHandlers]) h(reason);
  }

  private openSocket(path: string, timeoutMs: number, signal?: AbortSignal): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = createConnection({ path });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new QmpTimeoutError(`connect ${path}`, timeoutMs));
      }, timeoutMs);
      const onAbort = (): void => {
        clearTimeout(timer);
        s.destroy();
        reject(new AbortedError(`aborted while connecting to ${path}`));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      s.once('connect', () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(e);
      });
    });
  }
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new QmpTimeoutError(what, ms)), ms);
    const onAbort = (): void => reject(new AbortedError(`aborted while waiting for ${what}`));
    signal?.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
