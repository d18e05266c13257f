/**
 * ShimClient: a traffic generator that is a tgshim.v1 gRPC client, for any generator behind a
 * vsperf-tgshim (registered as `Ixia`, alias `IxNet`, VSPERF's names for the IXIA it usually fronts).
 * The shim next to the generator runs each trial (timing included); this client sends the spec and
 * turns the answer, or the failure, into framework types and typed errors.
 */
import { checkTrafficSpec, checkTrialSpec } from '../../framework/api/trial-check.js';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { checkServerIdentity } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { AbortedError, ConfigError, DriverError, TimeoutError, errorMessage } from '../../framework/errors.js';
import type { Settings } from '../../framework/config/settings.js';
import type { Logger } from '../../framework/log/logger.js';
import { silentLogger } from '../../framework/log/logger.js';
import type { DriverContext } from '../../framework/api/driver.js';
import type {
  ContinuousRun,
  GeneratorCaps,
  LiveCounters,
  PortSpec,
  TrafficGenerator,
  TrafficSpec,
  TrialResult,
  TrialHooks,
  TrialSpec,
} from '../../framework/api/trafficgen.js';
import { imixAverage, rateToFps } from '../../framework/api/trafficgen.js';
import { API_MAJOR, InvalidFieldError, capsFromPb, liveFromPb, portToPb, resultFromPb, trafficToPb, trialToPb } from './convert.js';
import * as pb from './gen/tgshim/v1/tgshim.js';

export interface ShimClientTls {
  /** CA that signed the shim's certificate; undefined = system roots. */
  readonly caPem?: Buffer;
  /** Client certificate + key, for shims that check client certificates. */
  readonly certPem?: Buffer;
  readonly keyPem?: Buffer;
  /** Name to check in the shim's certificate when it differs from the address host. */
  readonly serverName?: string;
}

export interface ShimClientOptions {
  /** host:port of the shim. */
  readonly address: string;
  /** undefined = plaintext (loopback only). */
  readonly tls?: ShimClientTls;
  readonly token?: string;
  /** Deadline of each control call (ms). */
  readonly callTimeoutMs?: number;
  /** Retries of idempotent calls on transient failures (UNAVAILABLE). */
  readonly retries?: number;
  readonly leaseS?: number;
  /** Port names to send instead of the topology's (IXIA "chassis;card;port" locations). */
  readonly portLocations?: readonly string[];
  readonly clientName?: string;
  readonly log?: Logger;
  /** Driver name in errors ("Ixia"). */
  readonly name?: string;
  /**
   * Run trials over one RunTrials stream (default) instead of one RunTrial call each. Only used when the
   * shim has it (api_minor ≥ 1); it saves opening a call per trial.
   */
  readonly trialStream?: boolean;
}

/** The open RunTrials stream and the trial waiting on it. */
interface TrialStream {
  readonly call: grpc.ClientDuplexStream<pb.RunTrialsRequest, pb.RunTrialsResponse>;
  pending: { progress(p: pb.LiveCounters | undefined): void; held(limitMs: number): void; settle(e: unknown, r?: pb.TrialResult): void } | undefined;
}

/** The host of "host:port" / "[v6]:port" when it is an IP address. */
function ipHostOf(address: string): string | undefined {
  const m = /^\[?([^\]]*?)\]?:\d+$/.exec(address);
  const h = m?.[1] ?? '';
  return isIP(h) ? h : undefined;
}

const TLS_RE = /ssl|tls|certificate|handshake|self.signed|alert|wrong version number|unable to verify|CERT_/i;

type Unary<Req, Res> = (
  req: Req,
  md: grpc.Metadata,
  opts: Partial<grpc.CallOptions>,
  cb: (e: grpc.ServiceError | null, r: Res) => void,
) => grpc.ClientUnaryCall;

export class ShimClient implements TrafficGenerator {
  readonly name: string;
  readonly startContinuous?: (spec: TrafficSpec, signal?: AbortSignal) => Promise<ContinuousRun>;
  private readonly client: pb.TrafficGenShimServiceClient;
  private readonly log: Logger;
  private readonly callTimeoutMs: number;
  private readonly retries: number;
  private sessionId: string | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private ports: readonly PortSpec[] = [];
  private caps: GeneratorCaps | undefined;
  private info: pb.GetInfoResponse | undefined;
  private closed = false;
  private trials: TrialStream | undefined;

  private constructor(private readonly opts: ShimClientOptions) {
    this.name = opts.name ?? 'Ixia';
    this.log = opts.log ?? silentLogger;
    this.callTimeoutMs = opts.callTimeoutMs ?? 10_000;
    this.retries = opts.retries ?? 3;
    const channelOpts: grpc.ChannelOptions = {
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2_000,
      'grpc.enable_channelz': 0, // unused; saves per-call bookkeeping
    };
    let creds: grpc.ChannelCredentials;
    if (opts.tls) {
      const ip = ipHostOf(opts.address);
      let verify: grpc.VerifyOptions = {};
      if (opts.tls.serverName) {
        channelOpts['grpc.ssl_target_name_override'] = opts.tls.serverName;
        channelOpts['grpc.default_authority'] = opts.tls.serverName;
      } else if (ip) {
        // grpc-js would send the IP as TLS server name, which RFC 6066 forbids and Node warns about
        // (DEP0123). Send a reserved non-name instead and check the certificate against the IP itself.
        channelOpts['grpc.ssl_target_name_override'] = 'tgshim.invalid';
        verify = { checkServerIdentity: (_name, cert) => checkServerIdentity(ip, cert) };
      }
      creds = grpc.credentials.createSsl(opts.tls.caPem ?? null, opts.tls.keyPem ?? null, opts.tls.certPem ?? null, verify);
    } else creds = grpc.credentials.createInsecure();
    this.client = new pb.TrafficGenShimServiceClient(opts.address, creds, channelOpts);
    this.startContinuous = (spec, signal) => this.doStartContinuous(spec, signal);
  }

  /** Connect to the shim and check it (reachable, TLS, token, API version). */
  static async open(opts: ShimClientOptions): Promise<ShimClient> {
    const d = new ShimClient(opts);
    try {
      const info = await d.call('connect', d.client.getInfo.bind(d.client) as Unary<pb.GetInfoRequest, pb.GetInfoResponse>, {}, { retry: true });
      if (info.apiMajor !== API_MAJOR) {
        throw new DriverError(d.name, 'connect', `shim at ${opts.address} speaks tgshim.v${info.apiMajor}, this driver speaks tgshim.v${API_MAJOR}`, {
          hint: 'install matching vsperf-ts versions on both hosts',
          kind: 'environment',
        });
      }
      d.info = info;
      d.caps = capsFromPb(info.capabilities);
      if (!d.caps.continuous) (d as { startContinuous?: unknown }).startContinuous = undefined;
      d.log.info(
        `${d.name}: shim ${opts.address}: tgshim.v${info.apiMajor}.${info.apiMinor}, server ${info.serverVersion}, backend ${info.backend} (${info.generator})`,
      );
      return d;
    } catch (e) {
      d.client.close();
      throw e;
    }
  }

  /** What the shim told us at connect time. */
  shimInfo(): { backend: string; generator: string; apiMinor: number; serverVersion: string } {
    const i = this.info!;
    return { backend: i.backend, generator: i.generator, apiMinor: i.apiMinor, serverVersion: i.serverVersion };
  }

  capabilities(): GeneratorCaps {
    return this.caps!;
  }

  async connect(ports: readonly PortSpec[], signal?: AbortSignal): Promise<void> {
    this.assertOpen('connect');
    const loc = this.opts.portLocations;
    const sent = loc && loc.length ? ports.map((p, i) => ({ ...p, name: loc[i] ?? p.name })) : ports;
    if (loc && loc.length && loc.length < ports.length) {
      throw new DriverError(this.name, 'connect', `${ports.length} ports needed but only ${loc.length} IXIA port locations are configured`, { kind: 'usage' });
    }
    const res = await this.call(
      'connect',
      this.client.reserve.bind(this.client) as Unary<pb.ReserveRequest, pb.ReserveResponse>,
      { clientName: this.opts.clientName ?? `vsperf@${hostname()} pid ${process.pid}`, ports: sent.map(portToPb), leaseS: this.opts.leaseS ?? 60 },
      { signal, retry: true },
    );
    this.sessionId = res.sessionId;
    this.ports = ports;
    if (res.capabilities) this.caps = capsFromPb(res.capabilities);
    const everyMs = Math.max(1000, (res.leaseS * 1000) / 3);
    this.renewTimer = setInterval(() => {
      if (!this.sessionId) return;
      this.call('renew', this.client.renew.bind(this.client) as Unary<pb.RenewRequest, pb.RenewResponse>, { sessionId: this.sessionId }, { retry: true }).catch(
        (e) => this.log.warn(`${this.name}: lease renewal failed: ${errorMessage(e)}`),
      );
    }, everyMs);
    this.renewTimer.unref();
  }

  async runTrial(spec: TrialSpec, signal?: AbortSignal, onProgress?: (c: LiveCounters) => void, hooks?: TrialHooks): Promise<TrialResult> {
    const sessionId = this.needSession('runTrial');
    checkTrialSpec(this.name, this.capabilities(), spec);
    if (signal?.aborted) throw new AbortedError('trial aborted before it started');
    // Shims from api_minor 4 keep the generator's ports after the traffic until ReleaseTrial: the caller's
    // read before the release (a vhost-user switch port forgets its counters when the generator goes)
    // runs on the shim's `held` event. Older shims release at once; the caller then reads after.
    const beforeRelease = (this.info?.apiMinor ?? 0) >= 4 ? hooks?.beforeRelease : undefined;
    const req: pb.RunTrialRequest = { sessionId, trial: trialToPb(spec), progressIntervalMs: 1000, ...(beforeRelease ? { holdForRelease: true } : {}) };
    const timeoutMs = this.expectedTrialMs(spec) + this.callTimeoutMs + 30_000;
    const progress = (p: pb.LiveCounters | undefined): void => onProgress?.(liveFromPb(p));
    // At most one hook call per trial; ReleaseTrial follows it even when it failed, and its error is the trial's.
    let hookRun: Promise<void> | undefined;
    const held = (limitMs: number): void => {
      if (!beforeRelease) return;
      hookRun ??= (async () => {
        let failed: { e: unknown } | undefined;
        try {
          await boundedHook(beforeRelease, hookLimitMs(limitMs), this.opts.address, signal);
        } catch (e) {
          failed = { e };
        }
        const rel = await this.call(
          'releaseTrial',
          this.client.releaseTrial.bind(this.client) as Unary<pb.ReleaseTrialRequest, pb.ReleaseTrialResponse>,
          { sessionId },
          { retry: true },
        ).catch((e) => {
          this.log.warn(`${this.name}: ReleaseTrial failed (the shim releases the ports at its hold limit): ${errorMessage(e)}`);
          return undefined;
        });
        if (failed) throw failed.e;
        // The shim had already let go (its hold limit passed): the read may have missed the ports.
        if (rel && !rel.released) {
          throw new TimeoutError(
            `${this.name}: the read before the ports' release`,
            limitMs,
            `the shim at ${this.opts.address} released the ports first; a vhost-user port's counters may be gone`,
          );
        }
      })();
      // Its error is taken when the trial ends (below), not unhandled while the result is on its way.
      hookRun.catch(() => undefined);
    };
    const useStream = this.opts.trialStream !== false && (this.info?.apiMinor ?? 0) >= 1;
    let result: pb.TrialResult;
    try {
      result = useStream ? await this.trialOnStream(req, timeoutMs, signal, progress, held) : await this.trialOnCall(req, timeoutMs, signal, progress, held);
    } catch (e) {
      // A hook still running ends before the trial does.
      await hookRun?.catch(() => undefined);
      throw e;
    }
    await hookRun;
    return this.checkedResult('runTrial', result, {
      shim: this.opts.address,
      shim_backend: this.info?.backend ?? '',
      shim_generator: this.info?.generator ?? '',
    });
  }

  /** The shim's result as framework types; a malformed receiver timeline is one line naming the field. */
  private checkedResult(op: string, r: pb.TrialResult, extra: Record<string, string>): TrialResult {
    try {
      return resultFromPb(r, extra);
    } catch (e) {
      if (!(e instanceof InvalidFieldError)) throw e;
      throw new DriverError(this.name, op, `shim at ${this.opts.address} sent a malformed result: ${e.message}`, {
        hint: 'install matching vsperf-ts versions on both hosts',
        kind: 'environment',
      });
    }
  }

  /** One RunTrial call (shims before api_minor 1, or trialStream: false). */
  private async trialOnCall(
    req: pb.RunTrialRequest,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    progress: (p: pb.LiveCounters | undefined) => void,
    held: (limitMs: number) => void,
  ): Promise<pb.TrialResult> {
    const call = this.client.runTrial(req, this.metadata(), { deadline: new Date(Date.now() + timeoutMs) });
    let result: pb.TrialResult | undefined;
    let aborted = false;
    const onAbort = (): void => {
      aborted = true;
      call.cancel();
      // Belt and braces: the cancel already stops the trial on the shim; StopTraffic makes sure.
      void this.stopTrafficQuietly(req.sessionId);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await new Promise<void>((resolve, reject) => {
        call.on('data', (ev: pb.RunTrialResponse) => {
          if (ev.event?.$case === 'progress') progress(ev.event.progress);
          else if (ev.event?.$case === 'held') held(ev.event.held.limitMs);
          else if (ev.event?.$case === 'result') {
            // The result is the last message; the shim has already released the traffic state, so
            // the trial is done here, without waiting for the trailers.
            result = ev.event.result;
            resolve();
          }
        });
        call.on('error', reject);
        call.on('end', resolve);
      });
    } catch (e) {
      if (aborted) throw new AbortedError('trial aborted; traffic stopped on the shim');
      throw this.mapError('runTrial', e, true, timeoutMs);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    if (aborted) throw new AbortedError('trial aborted; traffic stopped on the shim');
    if (!result) throw this.noResult();
    return result;
  }

  /** One trial on the RunTrials stream, opened at the first trial and kept while it works. */
  private async trialOnStream(
    req: pb.RunTrialRequest,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    progress: (p: pb.LiveCounters | undefined) => void,
    held: (limitMs: number) => void,
  ): Promise<pb.TrialResult> {
    const st = (this.trials ??= this.openTrialStream());
    let aborted = false;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      return await new Promise<pb.TrialResult>((resolve, reject) => {
        const pending: NonNullable<TrialStream['pending']> = { progress, held, settle: (e, r) => (e ? reject(e) : resolve(r!)) };
        // A stream has no per-trial deadline: the trial's own timer, with the same effect as RunTrial's.
        timer = setTimeout(() => {
          this.dropTrialStream(st);
          void this.stopTrafficQuietly(req.sessionId);
          reject({ code: grpc.status.DEADLINE_EXCEEDED, details: 'no trial result before the deadline' });
        }, timeoutMs);
        onAbort = (): void => {
          if (st.pending !== pending) return; // the result is already in
          aborted = true;
          // Cancelling the stream stops the trial on the shim; StopTraffic makes sure.
          this.dropTrialStream(st);
          void this.stopTrafficQuietly(req.sessionId);
          reject(new AbortedError('trial aborted'));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        st.pending = pending;
        st.call.write({ run: req });
      });
    } catch (e) {
      if (aborted) throw new AbortedError('trial aborted; traffic stopped on the shim');
      if (e instanceof DriverError) throw e;
      throw this.mapError('runTrial', e, true, timeoutMs);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  private openTrialStream(): TrialStream {
    const st: TrialStream = { call: this.client.runTrials(this.metadata()), pending: undefined };
    const settle = (e: unknown, r?: pb.TrialResult): void => {
      const p = st.pending;
      st.pending = undefined;
      p?.settle(e, r);
    };
    const gone = (): void => {
      if (this.trials === st) this.trials = undefined;
    };
    st.call.on('data', (m: pb.RunTrialsResponse) => {
      const ev = m.event?.event;
      if (ev?.$case === 'progress') st.pending?.progress(ev.progress);
      else if (ev?.$case === 'held') st.pending?.held(ev.held.limitMs);
      else if (ev?.$case === 'result') settle(undefined, ev.result);
    });
    st.call.on('error', (e) => {
      gone();
      settle(e);
    });
    st.call.on('end', () => {
      gone();
      settle(this.noResult());
    });
    return st;
  }

  private noResult(): DriverError {
    return new DriverError(this.name, 'runTrial', `shim at ${this.opts.address} ended the trial without a result`);
  }

  /** Forget a stream (abort, timeout): cancelling it stops its trial on the shim; the next trial opens a new one. */
  private dropTrialStream(st: TrialStream): void {
    if (this.trials === st) this.trials = undefined;
    st.pending = undefined;
    st.call.cancel();
  }

  private async doStartContinuous(spec: TrafficSpec, signal?: AbortSignal): Promise<ContinuousRun> {
    const sessionId = this.needSession('startContinuous');
    checkTrafficSpec(this.name, this.capabilities(), spec);
    await this.call(
      'startContinuous',
      this.client.startContinuous.bind(this.client) as Unary<pb.StartContinuousRequest, pb.StartContinuousResponse>,
      {
        sessionId,
        traffic: trafficToPb(spec),
      },
      { signal },
    );
    let last: LiveCounters = { elapsedS: 0, txFrames: 0, rxFrames: 0 };
    const watch = this.client.watchCounters({ sessionId, intervalMs: 500 }, this.metadata());
    watch.on('data', (m: pb.WatchCountersResponse) => (last = liveFromPb(m.counters)));
    watch.on('error', () => undefined);
    const onAbort = (): void => void this.stopTrafficQuietly(sessionId);
    signal?.addEventListener('abort', onAbort, { once: true });
    // Shims before api_minor 3 have no MarkContinuous: no mark(), as for a generator without a receiver clock.
    const mark =
      (this.info?.apiMinor ?? 0) >= 3
        ? async (): Promise<void> => {
            await this.call(
              'markContinuous',
              this.client.markContinuous.bind(this.client) as Unary<pb.MarkContinuousRequest, pb.MarkContinuousResponse>,
              { sessionId },
              { signal },
            );
          }
        : undefined;
    return {
      poll: async () => last,
      ...(mark ? { mark } : {}),
      stop: async () => {
        signal?.removeEventListener('abort', onAbort);
        watch.cancel();
        const res = await this.call(
          'stopContinuous',
          this.client.stopContinuous.bind(this.client) as Unary<pb.StopContinuousRequest, pb.StopContinuousResponse>,
          {
            sessionId,
          },
          { timeoutMs: this.callTimeoutMs + 60_000 },
        );
        if (!res.result) throw new DriverError(this.name, 'stopContinuous', 'shim returned no counters');
        return this.checkedResult('stopContinuous', res.result, { shim: this.opts.address });
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.renewTimer) clearInterval(this.renewTimer);
    const id = this.sessionId;
    this.sessionId = undefined;
    const st = this.trials;
    if (st?.pending) {
      // A trial still running fails now (Release below stops its traffic), not at its deadline.
      const p = st.pending;
      this.dropTrialStream(st);
      p.settle(new DriverError(this.name, 'runTrial', 'driver closed during the trial; traffic stopped on the shim'));
    } else if (st) {
      this.trials = undefined;
      st.call.end(); // the shim ends its side
    }
    if (id) {
      await this.call(
        'close',
        this.client.release.bind(this.client) as Unary<pb.ReleaseRequest, pb.ReleaseResponse>,
        { sessionId: id },
        { timeoutMs: Math.min(this.callTimeoutMs, 5000), waitForReady: false },
      ).catch((e) => this.log.warn(`${this.name}: releasing the ports on the shim failed: ${errorMessage(e)}`));
    }
    this.client.close();
  }

  // ------------------------------------------------------------------ helpers

  private assertOpen(op: string): void {
    if (this.closed) throw new DriverError(this.name, op, 'driver is closed');
  }

  private needSession(op: string): string {
    this.assertOpen(op);
    if (!this.sessionId) throw new DriverError(this.name, op, 'not connected (call connect first)');
    return this.sessionId;
  }

  /** Trial length as the shim will run it (ms), for the call deadline. */
  private expectedTrialMs(spec: TrialSpec): number {
    let trafficS = spec.durationS ?? 0;
    if (spec.frames !== undefined) {
      const size = spec.stream.imixGenome ? imixAverage(spec.stream.imixGenome) : spec.stream.frameSize;
      const fps = rateToFps(spec.rate, this.ports[0]?.speedMbps ?? 10_000, size);
      trafficS = spec.frames / Math.max(fps, 1);
    }
    return (trafficS + (spec.learningS ?? 0) + (spec.drainS ?? 2)) * 1000;
  }

  private metadata(waitForReady = false): grpc.Metadata {
    const md = new grpc.Metadata({ waitForReady });
    if (this.opts.token) md.set('authorization', `Bearer ${this.opts.token}`);
    return md;
  }

  private async stopTrafficQuietly(sessionId: string): Promise<void> {
    await this.call(
      'stopTraffic',
      this.client.stopTraffic.bind(this.client) as Unary<pb.StopTrafficRequest, pb.StopTrafficResponse>,
      { sessionId },
      { timeoutMs: 5000, waitForReady: false },
    ).catch((e) => this.log.warn(`${this.name}: StopTraffic after abort failed: ${errorMessage(e)}`));
  }

  /** One unary call with a deadline, abort support, and retries of transient failures when allowed. */
  private async call<Req, Res>(
    op: string,
    fn: Unary<Req, Res>,
    req: Req,
    o: { retry?: boolean; signal?: AbortSignal | undefined; timeoutMs?: number; waitForReady?: boolean } = {},
  ): Promise<Res> {
    const timeoutMs = o.timeoutMs ?? this.callTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      if (o.signal?.aborted) throw new AbortedError(`${op} aborted`);
      try {
        return await new Promise<Res>((resolve, reject) => {
          // After the handshake, calls wait for the channel to (re)connect within their deadline, so a
          // shim that restarts or a connection that flaps is ridden out instead of failing at once.
          const waitForReady = o.waitForReady ?? this.info !== undefined;
          const c = fn(req, this.metadata(waitForReady), { deadline: new Date(Date.now() + timeoutMs) }, (e, r) => (e ? reject(e) : resolve(r)));
          o.signal?.addEventListener('abort', () => c.cancel(), { once: true });
        });
      } catch (e) {
        if (o.signal?.aborted) throw new AbortedError(`${op} aborted`);
        const se = e as grpc.ServiceError;
        const transient = se.code === grpc.status.UNAVAILABLE && !TLS_RE.test(se.details ?? '');
        if (o.retry && transient && attempt < this.retries) {
          const waitMs = 200 * 2 ** attempt;
          this.log.debug(`${this.name}: ${op}: ${se.details}; retrying in ${waitMs} ms`);
          await new Promise((r) => setTimeout(r, waitMs));
          continue;
        }
        throw this.mapError(op, e, false, timeoutMs);
      }
    }
  }

  /** A gRPC failure as a framework error that says what to do. */
  private mapError(op: string, e: unknown, midTrial: boolean, timeoutMs?: number): Error {
    const se = e as Partial<grpc.ServiceError>;
    // grpc-js appends a timestamp and an empty "Resolution note" to connection errors; keep the cause.
    const details = (se.details ?? errorMessage(e))
      .replace(/\s*\(\d{4}-\d\d-\d\dT[^)]*\)\.?/g, '')
      .replace(/\s*Resolution note:\s*$/, '')
      .replace(/\s+/g, ' ')
      .trim();
    const at = `shim at ${this.opts.address}`;
    switch (se.code) {
      case grpc.status.UNAUTHENTICATED:
        return new DriverError(this.name, op, `${at} rejected the credentials: ${details}`, {
          hint: "check TRAFFICGEN_IXIA_SHIM_TOKEN_FILE (or VSPERF_TGSHIM_TOKEN) against the shim's --token-file",
          kind: 'environment',
          cause: e,
        });
      case grpc.status.UNIMPLEMENTED:
        return new DriverError(this.name, op, `${at} does not serve tgshim.v${API_MAJOR} (version mismatch?): ${details}`, {
          hint: 'install matching vsperf-ts versions on both hosts',
          kind: 'environment',
          cause: e,
        });
      case grpc.status.DEADLINE_EXCEEDED:
        return new TimeoutError(`${this.name} ${op} (${at})`, timeoutMs ?? this.callTimeoutMs, details);
      case grpc.status.INVALID_ARGUMENT:
        return new DriverError(this.name, op, `${at} rejected the request: ${details}`, { kind: 'usage', cause: e });
      case grpc.status.UNAVAILABLE:
      case grpc.status.CANCELLED:
      case grpc.status.INTERNAL:
        if (TLS_RE.test(details)) {
          return new DriverError(this.name, op, `TLS with ${at} failed: ${details}`, {
            hint: 'check TRAFFICGEN_IXIA_SHIM_CA_CERT, TRAFFICGEN_IXIA_SHIM_CLIENT_CERT/KEY and TRAFFICGEN_IXIA_SHIM_SERVER_NAME',
            kind: 'environment',
            cause: e,
          });
        }
        if (midTrial) {
          return new DriverError(
            this.name,
            op,
            `${at} died or the connection dropped during the trial (${details}); the trial's results are lost, earlier trials are kept`,
            {
              cause: e,
            },
          );
        }
        if (se.code === grpc.status.INTERNAL) return new DriverError(this.name, op, `${at}: ${details}`, { cause: e });
        // TRAFFICGEN=IxNet in a VSPERF testcase lands here when no shim runs: say what is missing first.
        return new DriverError(
          this.name,
          op,
          `${at} is unreachable (needs vsperf-tgshim there, in front of an IxNetwork server): ${details.replace(/^No connection established\. Last error: (?:Error: )?/, '')}`,
          {
            hint: 'is vsperf-tgshim running there, and do TRAFFICGEN_IXIA_SHIM_TLS and the client certificate match its TLS setup?',
            kind: 'environment',
            cause: e,
          },
        );
      default:
        return new DriverError(this.name, op, `${at}: ${grpc.status[se.code ?? grpc.status.UNKNOWN] ?? se.code}: ${details}`, { cause: e });
    }
  }
}

// ---------------------------------------------------------------- factory (registry)

function readPem(settings: Settings, key: string): Buffer | undefined {
  const path = settings.getOr<string>(key, '');
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError(key, settings.source(key), `cannot read ${path}: ${errorMessage(e)}`);
  }
}

function num(settings: Settings, key: string, fallback: number): number {
  return settings.has(key) ? settings.number(key) : fallback;
}

/** Driver options from the TRAFFICGEN_IXIA_* settings (conf/03_traffic_ixia.json). */
export function shimClientOptions(settings: Settings, log: Logger, name = 'Ixia'): ShimClientOptions {
  const address = settings.getOr<string>('TRAFFICGEN_IXIA_SHIM_ADDRESS', '127.0.0.1:50551');
  const useTls = settings.has('TRAFFICGEN_IXIA_SHIM_TLS') ? settings.boolean('TRAFFICGEN_IXIA_SHIM_TLS') : true;
  const tokenFile = settings.getOr<string>('TRAFFICGEN_IXIA_SHIM_TOKEN_FILE', '');
  let token = process.env.VSPERF_TGSHIM_TOKEN || undefined;
  if (tokenFile) {
    try {
      token = readFileSync(tokenFile, 'utf8').trim();
    } catch (e) {
      throw new ConfigError(
        'TRAFFICGEN_IXIA_SHIM_TOKEN_FILE',
        settings.source('TRAFFICGEN_IXIA_SHIM_TOKEN_FILE'),
        `cannot read ${tokenFile}: ${errorMessage(e)}`,
      );
    }
  }
  const certPem = readPem(settings, 'TRAFFICGEN_IXIA_SHIM_CLIENT_CERT');
  const keyPem = readPem(settings, 'TRAFFICGEN_IXIA_SHIM_CLIENT_KEY');
  if (!!certPem !== !!keyPem) {
    throw new ConfigError(
      'TRAFFICGEN_IXIA_SHIM_CLIENT_CERT',
      settings.source('TRAFFICGEN_IXIA_SHIM_CLIENT_CERT'),
      'client certificate and key must be given together',
    );
  }
  const caPem = readPem(settings, 'TRAFFICGEN_IXIA_SHIM_CA_CERT');
  const serverName = settings.getOr<string>('TRAFFICGEN_IXIA_SHIM_SERVER_NAME', '');
  const host = settings.getOr<string>('TRAFFICGEN_IXIA_HOST', '');
  const card = String(settings.getOr<string | number>('TRAFFICGEN_IXIA_CARD', ''));
  const portLocations = host
    ? [String(settings.getOr<string | number>('TRAFFICGEN_IXIA_PORT1', '')), String(settings.getOr<string | number>('TRAFFICGEN_IXIA_PORT2', ''))].map(
        (p, i) => {
          if (!p)
            throw new ConfigError(`TRAFFICGEN_IXIA_PORT${i + 1}`, settings.source(`TRAFFICGEN_IXIA_PORT${i + 1}`), 'must be set when TRAFFICGEN_IXIA_HOST is');
          return `${host};${card};${p}`;
        },
      )
    : undefined;
  return {
    name,
    address,
    ...(useTls ? { tls: { ...(caPem ? { caPem } : {}), ...(certPem ? { certPem, keyPem: keyPem! } : {}), ...(serverName ? { serverName } : {}) } } : {}),
    ...(token ? { token } : {}),
    callTimeoutMs: num(settings, 'TRAFFICGEN_IXIA_SHIM_CALL_TIMEOUT_S', 10) * 1000,
    retries: num(settings, 'TRAFFICGEN_IXIA_SHIM_RETRIES', 3),
    leaseS: num(settings, 'TRAFFICGEN_IXIA_SHIM_LEASE_S', 60),
    ...(portLocations ? { portLocations } : {}),
    log,
  };
}

export async function createShimClient(ctx: DriverContext): Promise<ShimClient> {
  const d = await ShimClient.open(shimClientOptions(ctx.settings, ctx.log.child('ixia')));
  ctx.host.cleanup.defer('release Ixia shim session', () => d.close());
  return d;
}

/** The hook's time: the shim's hold less 2 s (half of a hold shorter than 4 s), so the read ends before the shim lets go. */
export function hookLimitMs(holdMs: number): number {
  return holdMs >= 4000 ? holdMs - 2000 : Math.floor(holdMs / 2);
}

/**
 * Run the caller's read before the release within the shim's hold: a slower read fails the trial with
 * E_TIMEOUT (it would read ports the shim has let go), and an abort ends the wait.
 */
async function boundedHook(hook: () => Promise<void>, limitMs: number, address: string, signal?: AbortSignal): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new TimeoutError(
            "the read before the ports' release",
            limitMs,
            `the shim at ${address} holds its ports only that long; a later read would miss a vhost-user port's counters`,
          ),
        ),
      limitMs,
    );
    onAbort = () => reject(new AbortedError("trial aborted while reading before the ports' release"));
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([hook(), stop]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
