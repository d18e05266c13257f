/**
 * The tgshim.v1 server: runs trials on a backend generator for one remote client at a time.
 *
 * Security: TLS (server certificate, optional client-certificate check) and a bearer token; listening
 * on anything but loopback without both is refused. Health: grpc.health.v1 via grpc-health-check.
 * Ownership: one session owns the ports; it ends on Release, on lease expiry, or at shutdown.
 * Shutdown: health NOT_SERVING → running traffic is stopped → generator closed → server closed.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { AbortedError, UsageError, errorMessage } from '../../framework/errors.js';
import type { Logger } from '../../framework/log/logger.js';
import { silentLogger } from '../../framework/log/logger.js';
import type { ContinuousRun, GeneratorCaps, LiveCounters, PortSpec, StreamSpec, TrafficGenerator, TrafficSpec } from '../../framework/api/trafficgen.js';
import {
  API_MAJOR,
  API_MINOR,
  InvalidFieldError,
  SERVICE_NAME,
  capsToPb,
  checkAgainstPorts,
  liveToPb,
  portsFromPb,
  resultToPb,
  trafficFromPb,
  trialFromPb,
} from './convert.js';
import * as pb from './gen/tgshim/v1/tgshim.js';
import { leaseExpiresMs, type LeaseFile, type LeaseRecord } from './lease-file.js';

/** A backend: makes one generator per session. */
export interface ShimBackend {
  /** "software" or "ixnetwork". */
  readonly kind: string;
  /** Human name of the generator behind it. */
  generatorName(): string;
  /** A fresh, unconnected generator. The server calls connect() and, at the end, close(). */
  open(): Promise<TrafficGenerator>;
  /** Release backend-wide resources at shutdown. */
  close(): Promise<void>;
  /**
   * Find what dead earlier instances of this shim left on the generator, stop its traffic and remove
   * it; returns one line per thing cleaned. Called at start and by the CleanupStale RPC.
   */
  cleanupStale?(): Promise<string[]>;
}

/** RunTrials bounds: queued requests per stream and in the whole shim, and open streams. */
export const RUN_TRIALS_MAX_QUEUED_PER_STREAM = 64;
export const RUN_TRIALS_MAX_QUEUED = 1024;
export const RUN_TRIALS_MAX_STREAMS = 64;

export interface ShimTls {
  readonly certPem: Buffer;
  readonly keyPem: Buffer;
  /** When set, clients must present a certificate signed by this CA. */
  readonly clientCaPem?: Buffer;
}

export interface ShimServerOptions {
  /** host:port; port 0 picks a free port (see ShimServer.port). */
  readonly address: string;
  readonly backend: ShimBackend;
  readonly tls?: ShimTls;
  /** Bearer token clients must send (`authorization: Bearer <token>`). */
  readonly token?: string;
  /** Lease granted when a client asks for 0 (s). */
  readonly defaultLeaseS?: number;
  readonly log?: Logger;
  readonly serverVersion?: string;
  /** Longest wait for running traffic to stop at shutdown (ms). */
  readonly shutdownGraceMs?: number;
  /** Keep the lease here so it holds across a restart of this shim (lease-file.ts). */
  readonly leaseFile?: LeaseFile;
  /** Longest a trial run with hold_for_release keeps the ports waiting for ReleaseTrial (ms); default HOLD_LIMIT_MS. */
  readonly holdLimitMs?: number;
}

/**
 * How long a held trial waits for the client's ReleaseTrial before the shim releases the ports itself: a
 * client that vanished must not keep them. Under the software engine's own bound on the hook (28 s).
 */
export const HOLD_LIMIT_MS = 20_000;

/** A failure with a gRPC status code, raised inside handlers. */
export class ShimStatusError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
    this.name = 'ShimStatusError';
  }
}

interface Traffic {
  readonly kind: 'trial' | 'continuous';
  readonly abort: AbortController;
  readonly startedAt: number;
  last: LiveCounters;
  phase: pb.Phase;
  run?: ContinuousRun;
  /** Settles when the traffic has stopped (trial finished, or continuous stopped). */
  done: Promise<unknown>;
  /** Set while a trial's generator holds its ports for the client (hold_for_release): lets them go. */
  release?: () => void;
}

interface Session {
  readonly id: string;
  readonly clientName: string;
  readonly since: Date;
  readonly leaseS: number;
  lastSeenMs: number;
  readonly gen: TrafficGenerator;
  readonly ports: readonly PortSpec[];
  traffic?: Traffic;
}

const MALFORMED = Symbol('malformed');
type Malformed = { [MALFORMED]: string };

/**
 * A generator's own check of a stream it could not program (the ixnetwork backend: a multistream
 * range it cannot express), as INVALID_ARGUMENT naming the field, before any traffic is configured.
 */
function checkWithGenerator(gen: TrafficGenerator, spec: TrafficSpec, field: string): void {
  const g = gen as Partial<{ checkStream(stream: StreamSpec, bidir: boolean): void }>;
  try {
    g.checkStream?.(spec.stream, spec.bidir);
  } catch (e) {
    const x = e as { field?: unknown; reason?: unknown };
    if (typeof x.field === 'string' && typeof x.reason === 'string') throw new InvalidFieldError(`${field}.stream.${x.field}`, x.reason);
    throw e;
  }
}

function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** Split "host:port" / "[v6]:port". */
export function splitAddress(address: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+|[^\]]*):(\d+)$/.exec(address);
  if (!m) throw new UsageError(`shim address "${address}" is not host:port`);
  return { host: m[1]!, port: Number(m[2]) };
}

function tokenDigest(t: string): Buffer {
  return createHash('sha256').update(t, 'utf8').digest();
}

export class ShimServer {
  private readonly server: grpc.Server;
  private readonly health: HealthImplementation;
  private readonly log: Logger;
  private session: Session | undefined;
  private reserving: string | undefined;
  private caps: GeneratorCaps | undefined;
  private boundPort = 0;
  private leaseTimer: NodeJS.Timeout | undefined;
  /** Open RunTrials streams, ended at shutdown. */
  private readonly trialStreams = new Set<{ close(): void }>();
  private stopping: Promise<void> | undefined;
  private readonly tokenHash: Buffer | undefined;
  /** RunTrials requests received and not yet finished, over all streams. */
  private queuedTrials = 0;
  /** A lease of a client of this shim's previous run (killed), still unexpired: the ports stay its. */
  private heldLease: LeaseRecord | undefined;

  constructor(private readonly opts: ShimServerOptions) {
    this.log = opts.log ?? silentLogger;
    const { host } = splitAddress(opts.address);
    if (!isLoopbackHost(host) && (!opts.tls || !opts.token)) {
      throw new UsageError(`refusing to listen on ${opts.address} without TLS and a token`, {
        hint: 'give --tls-cert/--tls-key and --token-file, or listen on 127.0.0.1',
      });
    }
    if (opts.token !== undefined && opts.token.length < 16) throw new UsageError('the shim token must be at least 16 characters');
    this.tokenHash = opts.token !== undefined ? tokenDigest(opts.token) : undefined;
    // Channelz (call tracing for grpcdebug) is unused here and costs per-call bookkeeping on every trial.
    this.server = new grpc.Server({ 'grpc.max_receive_message_length': 4 * 1024 * 1024, 'grpc.enable_channelz': 0 });
    this.health = new HealthImplementation({ '': 'NOT_SERVING', [SERVICE_NAME]: 'NOT_SERVING' });
    this.health.addToServer(this.server);
    this.server.addService(this.definition(), this.handlers());
  }

  get port(): number {
    return this.boundPort;
  }

  /** Bind and start serving. */
  async start(): Promise<number> {
    const probe = await this.opts.backend.open();
    try {
      this.caps = probe.capabilities();
    } finally {
      await probe.close().catch(() => undefined);
    }
    const creds = this.opts.tls
      ? grpc.ServerCredentials.createSsl(
          this.opts.tls.clientCaPem ?? null,
          [{ private_key: this.opts.tls.keyPem, cert_chain: this.opts.tls.certPem }],
          this.opts.tls.clientCaPem !== undefined,
        )
      : grpc.ServerCredentials.createInsecure();
    await this.cleanupStale('start');
    this.heldLease = this.opts.leaseFile?.read();
    if (this.heldLease) {
      this.log.warn(
        `the ports stay reserved for ${this.heldLease.clientName} until ${new Date(leaseExpiresMs(this.heldLease)).toISOString()} (lease from before this shim restarted)`,
      );
    }
    this.boundPort = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(this.opts.address, creds, (err, port) => (err ? reject(err) : resolve(port))),
    );
    this.health.setStatus('', 'SERVING');
    this.health.setStatus(SERVICE_NAME, 'SERVING');
    this.leaseTimer = setInterval(() => void this.expireLease(), 1000);
    this.leaseTimer.unref();
    this.log.info(
      `serving ${SERVICE_NAME} on ${this.opts.address.replace(/:0$/, `:${this.boundPort}`)} (backend ${this.opts.backend.kind}, tls ${this.opts.tls ? (this.opts.tls.clientCaPem ? 'mutual' : 'server') : 'off'}, token ${this.opts.token ? 'on' : 'off'})`,
    );
    return this.boundPort;
  }

  /** What dead earlier instances left on the generator; never fatal at start (the generator may be down). */
  private async cleanupStale(why: string): Promise<string[]> {
    if (!this.opts.backend.cleanupStale) return [];
    try {
      const cleaned = await this.opts.backend.cleanupStale();
      for (const c of cleaned) this.log.warn(`cleaned up after an earlier shim (${why}): ${c}`);
      return cleaned;
    } catch (e) {
      if (why !== 'start') throw e;
      this.log.warn(`could not look for what earlier shims left behind: ${errorMessage(e)}`);
      return [];
    }
  }

  /** Graceful stop: no new calls, running traffic stopped, ports released, then the server closes. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.health.setStatus('', 'NOT_SERVING');
    this.health.setStatus(SERVICE_NAME, 'NOT_SERVING');
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    const s = this.session;
    if (s) await this.endSession(s, 'shim shutting down');
    for (const t of this.trialStreams) t.close();
    await this.opts.backend.close().catch((e) => this.log.warn(`backend close: ${errorMessage(e)}`));
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, this.opts.shutdownGraceMs ?? 5000);
      this.server.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
    this.log.info('stopped');
  }

  // ------------------------------------------------------------------ plumbing

  /** The generated service definition, with decoders that never throw (malformed → INVALID_ARGUMENT). */
  private definition(): grpc.ServiceDefinition {
    const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
    for (const [name, m] of Object.entries(pb.TrafficGenShimServiceService)) {
      const typeName = m.path.split('/').pop()!;
      def[name] = {
        ...(m as unknown as grpc.MethodDefinition<unknown, unknown>),
        requestDeserialize: (buf: Buffer) => {
          try {
            return (m.requestDeserialize as (b: Buffer) => unknown)(buf);
          } catch (e) {
            return { [MALFORMED]: `${typeName}Request: malformed protobuf message (${errorMessage(e)})` } satisfies Malformed;
          }
        },
      };
    }
    return def as grpc.ServiceDefinition;
  }

  private authorize(md: grpc.Metadata): void {
    if (!this.tokenHash) return;
    const v = md.get('authorization')[0];
    const m = typeof v === 'string' ? /^Bearer\s+(.+)$/i.exec(v) : null;
    if (!m) throw new ShimStatusError(grpc.status.UNAUTHENTICATED, 'missing bearer token (metadata "authorization: Bearer <token>")');
    if (!timingSafeEqual(tokenDigest(m[1]!), this.tokenHash)) throw new ShimStatusError(grpc.status.UNAUTHENTICATED, 'wrong bearer token');
  }

  private static toStatus(e: unknown): Partial<grpc.StatusObject> {
    if (e instanceof ShimStatusError) return { code: e.code, details: e.message };
    if (e instanceof InvalidFieldError) return { code: grpc.status.INVALID_ARGUMENT, details: e.message };
    if (e instanceof AbortedError) return { code: grpc.status.ABORTED, details: e.message };
    return { code: grpc.status.INTERNAL, details: errorMessage(e) };
  }

  private check<Req>(req: Req | Malformed, md: grpc.Metadata): Req {
    this.authorize(md);
    if (this.stopping) throw new ShimStatusError(grpc.status.UNAVAILABLE, 'shim is shutting down');
    if (req && typeof req === 'object' && MALFORMED in req) throw new ShimStatusError(grpc.status.INVALID_ARGUMENT, (req as Malformed)[MALFORMED]);
    return req as Req;
  }

  private unary<Req, Res>(fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, cb) => {
      let req: Req;
      try {
        req = this.check(call.request as Req | Malformed, call.metadata);
      } catch (e) {
        cb(ShimServer.toStatus(e));
        return;
      }
      fn(req, call).then(
        (res) => cb(null, res),
        (e) => cb(ShimServer.toStatus(e)),
      );
    };
  }

  private stream<Req, Res>(fn: (req: Req, call: grpc.ServerWritableStream<Req, Res>) => Promise<void>): grpc.handleServerStreamingCall<Req, Res> {
    return (call) => {
      let req: Req;
      try {
        req = this.check(call.request as Req | Malformed, call.metadata);
      } catch (e) {
        call.emit('error', ShimServer.toStatus(e));
        return;
      }
      fn(req, call).then(
        () => call.end(),
        (e) => {
          if (!call.cancelled) call.emit('error', ShimServer.toStatus(e));
        },
      );
    };
  }

  /** One trial for RunTrial and RunTrials: progress events while it runs, then its result. */
  private async runOneTrial(
    req: pb.RunTrialRequest,
    call: { readonly cancelled: boolean; on(ev: 'cancelled', fn: () => void): unknown; off(ev: 'cancelled', fn: () => void): unknown },
    write: (m: pb.RunTrialResponse) => void,
  ): Promise<void> {
    const s = this.sessionFor(req.sessionId);
    const spec = trialFromPb(req.trial, 'trial', s.gen.capabilities());
    checkAgainstPorts(spec, s.ports, 'trial.traffic');
    checkWithGenerator(s.gen, spec, 'trial.traffic');
    const intervalMs = req.progressIntervalMs === 0 ? 1000 : req.progressIntervalMs;
    if (intervalMs < 50 || intervalMs > 60_000) throw new InvalidFieldError('progress_interval_ms', `${intervalMs} ms is out of range 50..60000 ms`);
    if (s.traffic) throw new ShimStatusError(grpc.status.FAILED_PRECONDITION, `traffic is already running (${s.traffic.kind}); call StopTraffic first`);
    const abort = new AbortController();
    const onCancel = (): void => abort.abort(new AbortedError('RunTrial cancelled by the client'));
    call.on('cancelled', onCancel);
    let lastSent = Date.now();
    const traffic: Traffic = {
      kind: 'trial',
      abort,
      startedAt: Date.now(),
      last: { elapsedS: 0, txFrames: 0, rxFrames: 0 },
      phase: spec.learningS ? pb.Phase.PHASE_LEARNING : pb.Phase.PHASE_TRAFFIC,
      done: Promise.resolve(),
    };
    const onProgress = (c: LiveCounters): void => {
      traffic.last = c;
      traffic.phase = pb.Phase.PHASE_TRAFFIC;
      const now = Date.now();
      if (now - lastSent >= intervalMs && !call.cancelled) {
        lastSent = now;
        write({ event: { $case: 'progress', progress: liveToPb(c, traffic.phase) } });
      }
    };
    const t0 = Date.now();
    const run = s.gen.runTrial(spec, abort.signal, onProgress, req.holdForRelease ? { beforeRelease: () => this.hold(s, traffic, write) } : undefined);
    traffic.done = run;
    s.traffic = traffic;
    try {
      const result = await run;
      if (abort.signal.aborted) throw abort.signal.reason instanceof Error ? abort.signal.reason : new AbortedError('trial stopped');
      traffic.phase = pb.Phase.PHASE_DONE;
      const r = result.wallS > 0 ? result : { ...result, wallS: (Date.now() - t0) / 1000 };
      write({ event: { $case: 'result', result: resultToPb(r) } });
    } catch (e) {
      if (abort.signal.aborted) throw new AbortedError(errorMessage(abort.signal.reason ?? e));
      throw e;
    } finally {
      call.off('cancelled', onCancel);
      if (s.traffic === traffic) s.traffic = undefined;
      s.lastSeenMs = Date.now();
    }
  }

  /**
   * The generator's beforeRelease for a trial run with hold_for_release: tell the client (`held`) and keep
   * the ports until its ReleaseTrial, the trial's abort (cancelled call, StopTraffic, shutdown) or the
   * hold's limit, whichever comes first. Never rejects: the generator then releases as usual.
   */
  private hold(s: Session, traffic: Traffic, write: (m: pb.RunTrialResponse) => void): Promise<void> {
    const limitMs = this.opts.holdLimitMs ?? HOLD_LIMIT_MS;
    const signal = traffic.abort.signal;
    return new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        traffic.release = undefined;
        resolve();
      };
      const timer = setTimeout(() => {
        this.log.warn(`${s.clientName}: no ReleaseTrial ${limitMs} ms after the trial's traffic ended; releasing the ports`);
        done();
      }, limitMs);
      signal.addEventListener('abort', done, { once: true });
      traffic.release = done;
      write({ event: { $case: 'held', held: { limitMs } } });
    });
  }

  private persistLease(s: Session): void {
    try {
      this.opts.leaseFile?.write({ sessionId: s.id, clientName: s.clientName, leaseS: s.leaseS, lastSeenMs: s.lastSeenMs });
    } catch (e) {
      this.log.warn(`cannot keep the lease on disk: ${errorMessage(e)}`);
    }
  }

  /** The live session named by `id`; renews its lease. */
  private sessionFor(id: string): Session {
    if (!id) throw new InvalidFieldError('session_id', 'is required');
    const s = this.session;
    if (this.heldLease?.sessionId === id) {
      throw new ShimStatusError(grpc.status.NOT_FOUND, `session ${id} was lost when the shim restarted (its traffic was stopped); call Reserve again`);
    }
    if (!s || s.id !== id) throw new ShimStatusError(grpc.status.NOT_FOUND, `session ${id} is unknown or expired; call Reserve again`);
    s.lastSeenMs = Date.now();
    return s;
  }

  private async expireLease(): Promise<void> {
    const s = this.session;
    if (!s || s.traffic) return;
    if (Date.now() - s.lastSeenMs > s.leaseS * 1000) {
      this.log.warn(`lease of ${s.clientName} (session ${s.id}) expired; releasing the ports`);
      await this.endSession(s, 'lease expired');
    }
  }

  private async endSession(s: Session, why: string): Promise<void> {
    if (this.session === s) {
      this.session = undefined;
      this.opts.leaseFile?.remove();
    }
    if (s.traffic) {
      s.traffic.abort.abort(new AbortedError(`traffic stopped: ${why}`));
      if (s.traffic.run) await s.traffic.run.stop().catch((e) => this.log.warn(`stop continuous: ${errorMessage(e)}`));
      await Promise.race([s.traffic.done.catch(() => undefined), new Promise((r) => setTimeout(r, this.opts.shutdownGraceMs ?? 5000))]);
    }
    await s.gen.close().catch((e) => this.log.warn(`closing generator: ${errorMessage(e)}`));
    this.log.info(`released ports of ${s.clientName} (${why})`);
  }

  /**
   * RunTrials: trials one after another on one stream. Each request waits for the previous trial's
   * result (the client sends the next one only then anyway). The stream is authenticated when it
   * opens, before any message; queues are bounded (RESOURCE_EXHAUSTED beyond). The first error ends it.
   */
  private runTrials(call: grpc.ServerDuplexStream<pb.RunTrialsRequest | Malformed, pb.RunTrialsResponse>): void {
    try {
      this.authorize(call.metadata);
      if (this.stopping) throw new ShimStatusError(grpc.status.UNAVAILABLE, 'shim is shutting down');
      if (this.trialStreams.size >= RUN_TRIALS_MAX_STREAMS) {
        throw new ShimStatusError(grpc.status.RESOURCE_EXHAUSTED, `too many open RunTrials streams (${RUN_TRIALS_MAX_STREAMS}); close idle ones`);
      }
    } catch (e) {
      call.emit('error', ShimServer.toStatus(e));
      return;
    }
    let chain = Promise.resolve();
    let failed = false;
    let queued = 0;
    // At shutdown an idle stream is ended (after its running trial, which the shutdown aborts), so
    // the server's graceful stop does not wait out its grace period for connected drivers.
    const entry = { close: (): void => void chain.then(() => !failed && !call.cancelled && call.end()) };
    this.trialStreams.add(entry);
    const forget = (): void => void this.trialStreams.delete(entry);
    call.on('cancelled', forget);
    call.on('finish', forget);
    const fail = (e: unknown): void => {
      forget();
      if (failed) return;
      failed = true;
      // Field paths of this stream's messages start at the RunTrialsRequest.
      const err = e instanceof InvalidFieldError ? new InvalidFieldError(`run.${e.field}`, e.reason) : e;
      if (!call.cancelled) call.emit('error', ShimServer.toStatus(err));
    };
    call.on('data', (raw: pb.RunTrialsRequest | Malformed) => {
      if (failed) return;
      if (queued >= RUN_TRIALS_MAX_QUEUED_PER_STREAM || this.queuedTrials >= RUN_TRIALS_MAX_QUEUED) {
        const which =
          queued >= RUN_TRIALS_MAX_QUEUED_PER_STREAM ? `${RUN_TRIALS_MAX_QUEUED_PER_STREAM} on this stream` : `${RUN_TRIALS_MAX_QUEUED} in the shim`;
        fail(
          new ShimStatusError(grpc.status.RESOURCE_EXHAUSTED, `too many queued RunTrials requests (${which}); send the next trial after the previous result`),
        );
        return;
      }
      queued++;
      this.queuedTrials++;
      const done = (): void => {
        queued--;
        this.queuedTrials--;
      };
      chain = chain
        .then(async () => {
          if (failed || call.cancelled) return;
          const req = this.check(raw, call.metadata);
          if (!req.run) throw new ShimStatusError(grpc.status.INVALID_ARGUMENT, 'run: is required');
          await this.runOneTrial(req.run, call, (event) => call.write({ event }));
        })
        .catch(fail)
        .finally(done);
    });
    call.on('end', () => void chain.then(() => !failed && !call.cancelled && call.end()));
    call.on('error', () => undefined); // a client that goes away mid-stream: 'cancelled' stops its trial
  }

  // ------------------------------------------------------------------ RPCs

  private handlers(): grpc.UntypedServiceImplementation {
    const h: pb.TrafficGenShimServiceServer = {
      getInfo: this.unary<pb.GetInfoRequest, pb.GetInfoResponse>(async () => ({
        apiMajor: API_MAJOR,
        apiMinor: API_MINOR,
        serverVersion: this.opts.serverVersion ?? '0.0.0',
        backend: this.opts.backend.kind,
        generator: this.opts.backend.generatorName(),
        capabilities: capsToPb(this.caps!),
        owner: this.session?.clientName ?? (this.heldLease && leaseExpiresMs(this.heldLease) > Date.now() ? this.heldLease.clientName : ''),
      })),

      reserve: this.unary<pb.ReserveRequest, pb.ReserveResponse>(async (req, call) => {
        if (req.leaseS > 3600) throw new InvalidFieldError('lease_s', `${req.leaseS} s is out of range 0..3600 s`);
        if (req.clientName.length > 256) throw new InvalidFieldError('client_name', 'at most 256 characters');
        const ports = portsFromPb(req.ports);
        const who = req.clientName || call.getPeer();
        const cur = this.session;
        if (cur && (cur.traffic || Date.now() - cur.lastSeenMs <= cur.leaseS * 1000)) {
          throw new ShimStatusError(
            grpc.status.FAILED_PRECONDITION,
            `ports are owned by ${cur.clientName} since ${cur.since.toISOString()}; wait until it releases them or its ${cur.leaseS} s lease expires`,
          );
        }
        if (this.reserving !== undefined) throw new ShimStatusError(grpc.status.FAILED_PRECONDITION, `ports are being reserved by ${this.reserving}`);
        const held = this.heldLease;
        if (held && leaseExpiresMs(held) > Date.now() && held.clientName !== who) {
          throw new ShimStatusError(
            grpc.status.FAILED_PRECONDITION,
            `ports are owned by ${held.clientName} (lease from before the shim restarted, until ${new Date(leaseExpiresMs(held)).toISOString()}); wait until it expires`,
          );
        }
        this.reserving = who;
        try {
          if (cur) await this.endSession(cur, 'lease expired');
          const gen = await this.opts.backend.open();
          try {
            const ac = new AbortController();
            call.on('cancelled', () => ac.abort(new AbortedError('Reserve cancelled by the client')));
            await gen.connect(ports, ac.signal);
          } catch (e) {
            await gen.close().catch(() => undefined);
            throw new ShimStatusError(grpc.status.FAILED_PRECONDITION, `cannot claim the ports: ${errorMessage(e)}`);
          }
          const leaseS = req.leaseS || this.opts.defaultLeaseS || 60;
          const s: Session = { id: randomUUID(), clientName: who, since: new Date(), leaseS, lastSeenMs: Date.now(), gen, ports };
          this.session = s;
          this.heldLease = undefined;
          this.persistLease(s);
          this.log.info(`${who} owns ports ${ports.map((p) => p.name).join(', ')} (session ${s.id}, lease ${leaseS} s)`);
          return { sessionId: s.id, leaseS, capabilities: capsToPb(gen.capabilities()) };
        } finally {
          this.reserving = undefined;
        }
      }),

      renew: this.unary<pb.RenewRequest, pb.RenewResponse>(async (req) => {
        const s = this.sessionFor(req.sessionId);
        this.persistLease(s);
        return { leaseS: s.leaseS };
      }),

      release: this.unary<pb.ReleaseRequest, pb.ReleaseResponse>(async (req) => {
        if (!req.sessionId) throw new InvalidFieldError('session_id', 'is required');
        const s = this.session;
        if (s && s.id === req.sessionId) await this.endSession(s, 'released by the client');
        return {};
      }),

      runTrial: this.stream<pb.RunTrialRequest, pb.RunTrialResponse>((req, call) => this.runOneTrial(req, call, (m) => call.write(m))),

      releaseTrial: this.unary<pb.ReleaseTrialRequest, pb.ReleaseTrialResponse>(async (req) => {
        const release = this.sessionFor(req.sessionId).traffic?.release;
        release?.();
        return { released: release !== undefined };
      }),

      runTrials: (call: grpc.ServerDuplexStream<pb.RunTrialsRequest | Malformed, pb.RunTrialsResponse>) => this.runTrials(call),

      startContinuous: this.unary<pb.StartContinuousRequest, pb.StartContinuousResponse>(async (req) => {
        const s = this.sessionFor(req.sessionId);
        const spec = trafficFromPb(req.traffic, 'traffic', s.gen.capabilities());
        checkAgainstPorts(spec, s.ports, 'traffic');
        checkWithGenerator(s.gen, spec, 'traffic');
        if (!s.gen.startContinuous || !s.gen.capabilities().continuous) {
          throw new ShimStatusError(grpc.status.FAILED_PRECONDITION, `generator ${s.gen.name} has no continuous mode`);
        }
        if (s.traffic) throw new ShimStatusError(grpc.status.FAILED_PRECONDITION, `traffic is already running (${s.traffic.kind})`);
        const abort = new AbortController();
        const run = await s.gen.startContinuous(spec, abort.signal);
        s.traffic = {
          kind: 'continuous',
          abort,
          startedAt: Date.now(),
          last: { elapsedS: 0, txFrames: 0, rxFrames: 0 },
          phase: pb.Phase.PHASE_TRAFFIC,
          run,
          done: new Promise((resolve) => abort.signal.addEventListener('abort', resolve, { once: true })),
        };
        return {};
      }),

      watchCounters: this.stream<pb.WatchCountersRequest, pb.WatchCountersResponse>(async (req, call) => {
        const s = this.sessionFor(req.sessionId);
        const intervalMs = req.intervalMs === 0 ? 1000 : req.intervalMs;
        if (intervalMs < 50 || intervalMs > 60_000) throw new InvalidFieldError('interval_ms', `${intervalMs} ms is out of range 50..60000 ms`);
        while (!call.cancelled && s.traffic && this.session === s) {
          const t = s.traffic;
          if (t.run) t.last = await t.run.poll().catch(() => t.last);
          call.write({ counters: liveToPb(t.last, t.phase) });
          await new Promise((r) => setTimeout(r, intervalMs));
          s.lastSeenMs = Date.now();
        }
      }),

      stopContinuous: this.unary<pb.StopContinuousRequest, pb.StopContinuousResponse>(async (req) => {
        const s = this.sessionFor(req.sessionId);
        const t = s.traffic;
        if (!t || t.kind !== 'continuous' || !t.run) throw new ShimStatusError(grpc.status.FAILED_PRECONDITION, 'no continuous traffic is running');
        try {
          const result = await t.run.stop();
          return { result: resultToPb(result) };
        } finally {
          t.abort.abort(new AbortedError('continuous traffic stopped'));
          if (s.traffic === t) s.traffic = undefined;
        }
      }),

      markContinuous: this.unary<pb.MarkContinuousRequest, pb.MarkContinuousResponse>(async (req) => {
        const s = this.sessionFor(req.sessionId);
        const t = s.traffic;
        if (!t || t.kind !== 'continuous' || !t.run) throw new ShimStatusError(grpc.status.FAILED_PRECONDITION, 'no continuous traffic is running');
        if (!t.run.mark) return { marked: false };
        await t.run.mark();
        return { marked: true };
      }),

      cleanupStale: this.unary<pb.CleanupStaleRequest, pb.CleanupStaleResponse>(async () => ({ cleaned: await this.cleanupStale('CleanupStale') })),

      stopTraffic: this.unary<pb.StopTrafficRequest, pb.StopTrafficResponse>(async (req) => {
        const s = this.sessionFor(req.sessionId);
        const t = s.traffic;
        if (!t) return { stopped: false };
        t.abort.abort(new AbortedError('traffic stopped by StopTraffic'));
        if (t.run) await t.run.stop().catch((e) => this.log.warn(`stop continuous: ${errorMessage(e)}`));
        await t.done.catch(() => undefined);
        if (s.traffic === t) s.traffic = undefined;
        return { stopped: true };
      }),
    };
    return h as unknown as grpc.UntypedServiceImplementation;
  }
}
