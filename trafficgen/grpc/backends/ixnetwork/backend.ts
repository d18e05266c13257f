/**
 * `ixnetwork` backend: runs trials on an IXIA chassis through the IxNetwork REST API.
 *
 * Per shim session: (Linux) log in, create and start an API session; (Windows) use session 1 and clear
 * its config. Ports: one vport per port, assigned with `assignports` to "chassis;card;port" locations.
 * Per trial: one raw traffic item port0→port1 (bidirectional when asked), transmission control
 * fixedDuration / fixedFrameCount / continuous, frame rate (fps or % line rate), fixed size or IMIX,
 * tracking per port pair → generate → apply → clearstats → start → wait → stop → read "Flow Statistics".
 * Every call, header field path and its public source is listed in docs/ixia.md ("IxNetwork backend: REST calls and field paths").
 */
import { randomUUID } from 'node:crypto';
import { AbortedError, DriverError, errorMessage } from '../../../../framework/errors.js';
import type { Logger } from '../../../../framework/log/logger.js';
import { silentLogger } from '../../../../framework/log/logger.js';
import type {
  ContinuousRun,
  DirectionResult,
  GeneratorCaps,
  LatencyStats,
  LiveCounters,
  PortSpec,
  StreamSpec,
  TrafficGenerator,
  TrafficSpec,
  TrialResult,
  TrialSpec,
} from '../../../../framework/api/trafficgen.js';
import { IMIX_SIZES, imixAverage, rateToFps } from '../../../../framework/api/trafficgen.js';
import type { ShimBackend } from '../../server.js';
import { formatTag, isStale, ownTag, parseTag, type SessionTag } from './sessions.js';
import { HeaderPlanError, headerPlan, reverseStream, type StackPlan } from './headers.js';
import { IxOperationError, IxRest, IxRestError, sleep, toRef } from './rest.js';

export interface IxNetworkOptions {
  /** API server base URL: https://host:443 (Linux) or http(s)://host:11009 (Windows). */
  readonly baseUrl: string;
  readonly platform: 'linux' | 'windows';
  readonly user?: string;
  readonly password?: string;
  /** An existing API key instead of user/password. */
  readonly apiKey?: string;
  readonly caPem?: Buffer;
  /** Do not verify the API server's certificate (--insecure). */
  readonly insecure?: boolean;
  /** Latency measurement mode (traffic/statistics/latency mode): storeForward, cutThrough, mef, forwardingDelay. */
  readonly latencyMode?: LatencyMode;
  /** Name of this shim in session tags (sessions.ts); distinct shims sharing a host and server need distinct names. */
  readonly shimName?: string;
  /** Async-operation and traffic-state poll interval (ms). */
  readonly pollMs?: number;
  /** Longest wait for ports to come up after assignment (ms). */
  readonly portUpTimeoutMs?: number;
  readonly log?: Logger;
}

export class IxNetworkBackend implements ShimBackend {
  readonly kind = 'ixnetwork';
  private lastBuild = '';
  /** This shim instance's session tag. */
  readonly tag: SessionTag;

  constructor(private readonly opts: IxNetworkOptions) {
    this.tag = ownTag(opts.shimName ?? 'default', randomUUID());
  }

  generatorName(): string {
    return this.lastBuild ? `IxNetwork ${this.lastBuild}` : `IxNetwork at ${this.opts.baseUrl}`;
  }

  async open(): Promise<TrafficGenerator> {
    return new IxNetworkGenerator(this.opts, (b) => (this.lastBuild = b), formatTag(this.tag));
  }

  async close(): Promise<void> {}

  /**
   * Sessions of dead earlier instances of this shim (Linux API server): traffic stopped, session
   * stopped and deleted. The Windows GUI has one shared session that cannot be named: there the
   * traffic items carry the tag, and stale ones are stopped and deleted.
   */
  async cleanupStale(): Promise<string[]> {
    const log = this.opts.log ?? silentLogger;
    const rest = restFor(this.opts, log);
    if (this.opts.platform !== 'linux') return this.cleanupStaleItems(rest, '/api/v1/sessions/1', log);
    await login(rest, this.opts);
    const list =
      await rest.get<Array<{ id: number | string; sessionName?: string; name?: string; state?: string; links?: Array<{ href?: string }> }>>('/api/v1/sessions');
    const out: string[] = [];
    for (const s of Array.isArray(list) ? list : []) {
      const label = s.sessionName ?? s.name;
      if (!isStale(parseTag(label), this.tag)) continue;
      const path = s.links?.[0]?.href ? toRef(s.links[0].href) : `/api/v1/sessions/${s.id}`;
      const did: string[] = [];
      if (s.state === 'ACTIVE') {
        const traffic = `${path}/ixnetwork/traffic`;
        await rest.operation(`${traffic}/operations/stop`, { arg1: traffic }, { timeoutMs: 120_000 }).then(
          () => did.push('traffic stopped'),
          (e) => log.warn(`stale session ${path}: stop traffic: ${errorMessage(e)}`),
        );
        await rest.operation(`${path}/operations/stop`, {}).catch((e) => log.warn(`stale session ${path}: stop: ${errorMessage(e)}`));
      }
      await rest.delete(path);
      did.push('deleted');
      out.push(`${path} (${label}): ${did.join(', ')}`);
    }
    return out;
  }

  /** Windows GUI: the stale tagged traffic items of the shared session; traffic stopped, items deleted. */
  private async cleanupStaleItems(rest: IxRest, session: string, log: Logger): Promise<string[]> {
    const ixn = `${session}/ixnetwork`;
    const items = await rest.get<Array<{ id: number | string; name?: string }>>(`${ixn}/traffic/trafficItem`);
    const stale = (Array.isArray(items) ? items : []).filter((t) => isStale(parseTag(t.name), this.tag));
    if (!stale.length) return [];
    await rest
      .operation(`${ixn}/traffic/operations/stop`, { arg1: `${ixn}/traffic` }, { timeoutMs: 120_000 })
      .catch((e) => log.warn(`stale traffic: stop: ${errorMessage(e)}`));
    const deadline = Date.now() + 60_000;
    while ((await rest.get<{ state?: string }>(`${ixn}/traffic`))?.state !== 'stopped' && Date.now() < deadline) await sleep(rest.pollMs);
    const out: string[] = [];
    for (const t of stale) {
      await rest.delete(`${ixn}/traffic/trafficItem/${t.id}`);
      out.push(`${ixn}/traffic/trafficItem/${t.id} (${t.name}): traffic stopped, deleted`);
    }
    return out;
  }
}

function restFor(opts: IxNetworkOptions, log: Logger): IxRest {
  return new IxRest({
    baseUrl: opts.baseUrl,
    ...(opts.caPem ? { caPem: opts.caPem } : {}),
    ...(opts.insecure ? { insecure: true } : {}),
    ...(opts.apiKey ? { apiKey: opts.apiKey } : {}),
    pollMs: opts.pollMs ?? 1000,
    log,
  });
}

/** Linux API server login: POST /api/v1/auth/session → apiKey, sent as X-Api-Key from then on. */
async function login(rest: IxRest, opts: IxNetworkOptions): Promise<void> {
  if (rest.apiKey) return;
  const res = await rest.request(
    'POST',
    '/api/v1/auth/session',
    { username: opts.user ?? 'admin', password: opts.password ?? '' },
    { credentialsInBody: true },
  );
  const key = (res.body as { apiKey?: string } | undefined)?.apiKey;
  if (!key) throw new IxRestError('POST', '/api/v1/auth/session', res.status, 'login answer carries no apiKey');
  rest.apiKey = key;
}

export type LatencyMode = 'storeForward' | 'cutThrough' | 'mef' | 'forwardingDelay';
export const LATENCY_MODES: readonly LatencyMode[] = ['storeForward', 'cutThrough', 'mef', 'forwardingDelay'];

type TrialLength = { type: 'fixedDuration'; duration: number } | { type: 'fixedFrameCount'; frameCount: number } | { type: 'continuous' };

interface Row {
  readonly [caption: string]: string;
}

/** Frames and latency of one direction as read from the Flow Statistics view. */
interface FlowStats {
  tx: number;
  rx: number;
  rxBytes: number;
  txFps: number;
  minNs?: number;
  avgNs?: number;
  maxNs?: number;
  firstS?: number;
  lastS?: number;
}

const NAME = 'IxNetwork';
const TRAFFIC_RUNNING = new Set(['started', 'startedWaitingForStats', 'startedWaitingForStreams', 'txStopWatchExpected', 'locked', 'stoppedWaitingForStats']);

/** "00:00:01.250" → seconds. */
function parseTimestamp(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const m = /^(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(s.trim());
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : undefined;
}

function numCell(row: Row, ...captions: string[]): number | undefined {
  for (const c of captions) {
    const v = row[c];
    if (v !== undefined && v !== '' && Number.isFinite(Number(v))) return Number(v);
  }
  return undefined;
}

function latencyCell(row: Row, which: 'Min' | 'Avg' | 'Max'): number | undefined {
  const caption = Object.keys(row).find((c) => c.endsWith(`${which} Latency (ns)`));
  return caption ? numCell(row, caption) : undefined;
}

export class IxNetworkGenerator implements TrafficGenerator {
  readonly name = NAME;
  readonly startContinuous: (spec: TrafficSpec, signal?: AbortSignal) => Promise<ContinuousRun>;
  private readonly rest: IxRest;
  private readonly log: Logger;
  private sessionPath = '';
  private ownSession = false;
  private vports: string[] = [];
  private vportNames: string[] = [];
  private ports: readonly PortSpec[] = [];
  private trafficItem: string | undefined;
  private running = false;
  private templateRefs: Map<string, string> | undefined;
  private readonly latencyMode: LatencyMode;

  constructor(
    private readonly opts: IxNetworkOptions,
    private readonly onBuild: (b: string) => void = () => undefined,
    private readonly sessionTag?: string,
  ) {
    this.log = opts.log ?? silentLogger;
    this.rest = restFor(opts, this.log);
    this.latencyMode = opts.latencyMode ?? 'storeForward';
    this.startContinuous = (spec, signal) => this.doStartContinuous(spec, signal);
  }

  private get ixn(): string {
    return `${this.sessionPath}/ixnetwork`;
  }

  capabilities(): GeneratorCaps {
    return { continuous: true, latency: true, bidir: true, imix: true, vlan: true, ipv6: true, multistream: true, maxFrameSize: 9216 };
  }

  /** Wrap REST failures into DriverError naming the step; operation errors get the app errors appended. */
  private async step<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof AbortedError || e instanceof DriverError) throw e;
      let detail = errorMessage(e);
      if (e instanceof IxOperationError && this.sessionPath) {
        const app = await this.appErrors().catch(() => '');
        if (app && !detail.includes(app)) detail += ` (appErrors: ${app})`;
      }
      const hint = e instanceof IxRestError && e.status === 401 ? 'check the IxNetwork user/password or API key given to vsperf-tgshim' : undefined;
      throw new DriverError(NAME, op, detail, { cause: e, ...(hint ? { hint } : {}) });
    }
  }

  private async appErrors(): Promise<string> {
    const list = await this.rest.get<Array<{ name?: string; description?: string; errorLevel?: string }>>(`${this.ixn}/globals/appErrors/error`);
    return (Array.isArray(list) ? list : [])
      .filter((x) => x.errorLevel === 'kError')
      .map((x) => x.description ?? x.name ?? '')
      .filter(Boolean)
      .slice(-3)
      .join('; ');
  }

  async connect(ports: readonly PortSpec[], signal?: AbortSignal): Promise<void> {
    const locations = ports.map((p, i) => {
      const parts = p.name.split(/[;/]/);
      if (parts.length !== 3 || parts.some((x) => !x)) {
        throw new DriverError(NAME, 'connect', `port ${i} "${p.name}" is not an IXIA location "chassis;card;port"`, { kind: 'usage' });
      }
      return { arg1: parts[0]!, arg2: parts[1]!, arg3: parts[2]! };
    });
    this.ports = ports;
    await this.step('login', () => this.openSession(signal));
    const build = await this.step(
      'version',
      async () => (await this.rest.get<{ buildNumber?: string }>(`${this.ixn}/globals?includes=buildNumber`))?.buildNumber ?? '',
    );
    if (build) this.onBuild(build);
    this.log.info(`session ${this.sessionPath} (build ${build || 'unknown'})`);
    await this.step('newconfig', () => this.rest.operation(`${this.ixn}/operations/newconfig`, {}, signal ? { signal } : {}));
    this.vports = [];
    this.vportNames = [];
    for (let i = 0; i < ports.length; i++) {
      const name = `vsperf-p${i}`;
      const href = await this.step('vport', () => this.rest.create(`${this.ixn}/vport`, {}));
      await this.step('vport', () => this.rest.patch(href, { name }));
      this.vports.push(href);
      this.vportNames.push(name);
    }
    await this.step('assignports', () =>
      this.rest.operation(
        `${this.ixn}/operations/assignports`,
        { arg1: locations, arg2: [], arg3: this.vports, arg4: true },
        { timeoutMs: 900_000, ...(signal ? { signal } : {}) },
      ),
    );
    const deadline = Date.now() + (this.opts.portUpTimeoutMs ?? 120_000);
    for (const [i, v] of this.vports.entries()) {
      for (;;) {
        const st = await this.step('port state', () => this.rest.get<{ state?: string; connectionStatus?: string }>(`${v}?includes=state,connectionStatus`));
        if (st?.state === 'up') break;
        if (Date.now() > deadline) {
          throw new DriverError(NAME, 'connect', `port ${i} (${ports[i]!.name}) is ${st?.state ?? 'unknown'}: ${st?.connectionStatus ?? ''}`, {
            kind: 'environment',
          });
        }
        await sleep(this.rest.pollMs, signal);
      }
    }
  }

  private async openSession(signal?: AbortSignal): Promise<void> {
    if (this.opts.platform === 'windows') {
      this.sessionPath = '/api/v1/sessions/1';
      this.ownSession = false;
      return;
    }
    await login(this.rest, this.opts);
    const href = await this.rest.create('/api/v1/sessions', { applicationType: 'ixnrest' });
    this.sessionPath = toRef(href);
    this.ownSession = true;
    // Named at once, before anything can run in it, so a shim that dies from here on leaves a session its successor can find.
    if (this.sessionTag) await this.rest.patch(this.sessionPath, { sessionName: this.sessionTag });
    const s = await this.rest.get<{ state?: string }>(this.sessionPath);
    if (s?.state !== 'ACTIVE') await this.rest.operation(`${this.sessionPath}/operations/start`, { applicationType: 'ixnrest' }, signal ? { signal } : {});
  }

  // ------------------------------------------------------------------ traffic configuration

  private frameSizeBody(spec: TrafficSpec): Record<string, unknown> {
    const g = spec.stream.imixGenome;
    if (!g) return { type: 'fixed', fixedSize: spec.stream.frameSize };
    // IMIX as weightedPairs [size, weight, size, weight, …] (restpy frameSize.WeightedPairs, list of int).
    const counts = new Map<number, number>();
    for (const ch of g) counts.set(IMIX_SIZES[ch]!, (counts.get(IMIX_SIZES[ch]!) ?? 0) + 1);
    return { type: 'weightedPairs', weightedPairs: [...counts].flat() };
  }

  /** protocolTemplate href by stackTypeId ("vlan", "ipv4", …), read once per session. */
  private async templates(): Promise<Map<string, string>> {
    if (this.templateRefs) return this.templateRefs;
    const list = await this.step('protocol templates', () =>
      this.rest.get<Array<{ id: number | string; stackTypeId?: string; links?: Array<{ href?: string }> }>>(`${this.ixn}/traffic/protocolTemplate`),
    );
    const m = new Map<string, string>();
    for (const t of Array.isArray(list) ? list : []) {
      if (t.stackTypeId) m.set(t.stackTypeId, t.links?.[0]?.href ? toRef(t.links[0].href) : `${this.ixn}/traffic/protocolTemplate/${t.id}`);
    }
    this.templateRefs = m;
    return m;
  }

  /** Append the plan's stacks after ethernet and set every planned field of one config element. */
  private async programHeaders(ce: string, plan: readonly StackPlan[], signal?: AbortSignal): Promise<void> {
    const stacks = await this.step('stack', () => this.rest.get<Array<{ id: number | string; stackTypeId?: string }>>(`${ce}/stack`));
    const eth = (Array.isArray(stacks) ? stacks : []).find((x) => x.stackTypeId === 'ethernet');
    if (!eth) throw new DriverError(NAME, 'stack', `config element ${ce} has no ethernet stack`);
    let prev = `${ce}/stack/${eth.id}`;
    const hrefs: string[] = [prev];
    const templates = await this.templates();
    for (const st of plan.slice(1)) {
      const tpl = templates.get(st.stackTypeId);
      if (!tpl) throw new DriverError(NAME, 'stack', `the server has no "${st.stackTypeId}" protocol template`);
      const at = prev;
      const added = await this.step('appendprotocol', () =>
        this.rest.operation(`${at}/operations/appendprotocol`, { arg1: at, arg2: tpl }, signal ? { signal } : {}),
      );
      if (typeof added !== 'string') throw new DriverError(NAME, 'appendprotocol', `appending ${st.stackTypeId} returned no stack href`);
      prev = added;
      hrefs.push(prev);
    }
    for (const [i, st] of plan.entries()) {
      const href = hrefs[i]!;
      const fields = await this.step('field', () => this.rest.get<Array<{ id: number | string; fieldTypeId?: string }>>(`${href}/field`));
      const byType = new Map((Array.isArray(fields) ? fields : []).map((f) => [f.fieldTypeId ?? '', f.id]));
      for (const f of st.fields) {
        const id = byType.get(f.fieldTypeId);
        if (id === undefined) throw new DriverError(NAME, 'field', `stack ${st.stackTypeId} has no field ${f.fieldTypeId}`);
        await this.step('field', () => this.rest.patch(`${href}/field/${id}`, f.value));
      }
    }
  }

  /** The length of each direction: integer seconds, or an exact frame count so the offered rate holds. */
  private lengthOf(spec: TrialSpec, fps: number): TrialLength {
    if (spec.frames !== undefined) return { type: 'fixedFrameCount', frameCount: Math.round(spec.frames) };
    const d = spec.durationS ?? 1;
    // transmissionControl.duration is an integer (restpy types it int); a fractional length is sent
    // as the frame count it stands for, so the rate stays what was asked.
    if (Number.isInteger(d)) return { type: 'fixedDuration', duration: d };
    return { type: 'fixedFrameCount', frameCount: Math.max(1, Math.round(fps * d)) };
  }

  /** A fresh traffic item for `spec`: one endpoint set (and config element) per direction, generated and applied. */
  private async configure(spec: TrafficSpec, length: TrialLength, signal?: AbortSignal): Promise<string> {
    if (this.trafficItem) {
      const old = this.trafficItem;
      this.trafficItem = undefined;
      await this.step('delete traffic item', () => this.rest.delete(old));
    }
    await this.step('latency', () => this.rest.patch(`${this.ixn}/traffic/statistics/latency`, { enabled: spec.latency, mode: this.latencyMode }));
    const plans = this.plans(spec);
    const ti = await this.step('traffic item', () =>
      this.rest.create(`${this.ixn}/traffic/trafficItem`, {
        // The tag lets a later shim find it where sessions cannot be named (Windows GUI).
        name: this.sessionTag ?? 'vsperf',
        trafficType: 'raw',
        // Each direction is its own endpoint set so its headers can be the swapped ones; a
        // biDirectional item would send the forward element's stack both ways.
        biDirectional: false,
        srcDestMesh: 'oneToOne',
        routeMesh: 'oneToOne',
        allowSelfDestined: false,
        trafficItemType: 'l2L3',
      }),
    );
    this.trafficItem = ti;
    for (const [i, d] of plans.entries()) {
      await this.step('endpoint set', () =>
        this.rest.create(`${ti}/endpointSet`, {
          name: `vsperf-${d.from}-${d.to}`,
          sources: [`${this.vports[d.from]}/protocols`],
          destinations: [`${this.vports[d.to]}/protocols`],
        }),
      );
      void i;
    }
    const elements = await this.step('config element', () => this.rest.get<Array<{ id: number | string }>>(`${ti}/configElement`));
    if (!Array.isArray(elements) || elements.length !== plans.length) {
      throw new DriverError(
        NAME,
        'configure',
        `traffic item ${ti} has ${Array.isArray(elements) ? elements.length : 0} config elements, expected ${plans.length}`,
      );
    }
    const rate = spec.rate;
    for (const [i, el] of elements.entries()) {
      const ce = `${ti}/configElement/${el.id}`;
      await this.step('transmission control', async () => {
        // The type first and on its own: other attributes depend on it (OpenIxia IxNetRestApiTraffic.py).
        await this.rest.patch(`${ce}/transmissionControl`, { type: length.type });
        if (length.type === 'fixedDuration') await this.rest.patch(`${ce}/transmissionControl`, { duration: length.duration });
        if (length.type === 'fixedFrameCount') await this.rest.patch(`${ce}/transmissionControl`, { frameCount: length.frameCount });
      });
      await this.step('frame rate', () =>
        this.rest.patch(`${ce}/frameRate`, rate.unit === 'fps' ? { type: 'framesPerSecond', rate: rate.value } : { type: 'percentLineRate', rate: rate.value }),
      );
      await this.step('frame rate distribution', () => this.rest.patch(`${ce}/frameRateDistribution`, { portDistribution: 'applyRateToAll' }));
      await this.step('frame size', () => this.rest.patch(`${ce}/frameSize`, this.frameSizeBody(spec)));
      await this.programHeaders(ce, plans[i]!.stacks, signal);
    }
    await this.step('tracking', () => this.rest.patch(`${ti}/tracking`, { trackBy: ['trackingenabled0', 'sourceDestPortPair0'] }));
    const o = signal ? { signal } : {};
    await this.step('generate', () => this.rest.operation(`${this.ixn}/traffic/trafficItem/operations/generate`, { arg1: [ti] }, o));
    await this.step('apply', () => this.rest.operation(`${this.ixn}/traffic/operations/apply`, { arg1: `${this.ixn}/traffic` }, o));
    return ti;
  }

  /**
   * Shim-side check before anything reaches IxNetwork: the headers of both directions can be
   * programmed. Throws HeaderPlanError naming the stream field (e.g. "l3.dst_ip").
   */
  checkStream(stream: StreamSpec, bidir: boolean): void {
    headerPlan(stream);
    if (bidir) headerPlan(reverseStream(stream));
  }

  /** Directions and their header stacks: port 0 → 1, and 1 → 0 with swapped addresses when bidirectional. */
  private plans(spec: TrafficSpec): Array<{ from: number; to: number; stacks: StackPlan[] }> {
    try {
      const out = [{ from: 0, to: 1, stacks: headerPlan(spec.stream) }];
      if (spec.bidir) out.push({ from: 1, to: 0, stacks: headerPlan(reverseStream(spec.stream)) });
      return out;
    } catch (e) {
      if (e instanceof HeaderPlanError) throw new DriverError(NAME, 'headers', e.message, { kind: 'usage' });
      throw e;
    }
  }

  private async trafficState(): Promise<string> {
    const t = await this.step('traffic state', () => this.rest.get<{ state?: string }>(`${this.ixn}/traffic`));
    return t?.state ?? 'unknown';
  }

  private async startTraffic(signal?: AbortSignal): Promise<void> {
    await this.step('start', () =>
      this.rest.operation(`${this.ixn}/traffic/operations/start`, { arg1: `${this.ixn}/traffic` }, { timeoutMs: 120_000, ...(signal ? { signal } : {}) }),
    );
    this.running = true;
  }

  private async stopTraffic(): Promise<void> {
    await this.step('stop', () => this.rest.operation(`${this.ixn}/traffic/operations/stop`, { arg1: `${this.ixn}/traffic` }, { timeoutMs: 120_000 }));
    await this.waitStopped(60_000);
  }

  private async waitStopped(timeoutMs: number, signal?: AbortSignal, onPoll?: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const st = await this.trafficState();
      if (st === 'stopped') break;
      if (st === 'error')
        throw new DriverError(
          NAME,
          'traffic',
          `traffic state is "error"${await this.appErrors().then(
            (a) => (a ? `: ${a}` : ''),
            () => '',
          )}`,
        );
      if (!TRAFFIC_RUNNING.has(st) && st !== 'unapplied') this.log.debug(`traffic state ${st}`);
      if (Date.now() > deadline) throw new DriverError(NAME, 'traffic', `traffic did not stop within ${timeoutMs} ms (state ${st})`);
      await onPoll?.();
      await sleep(this.rest.pollMs, signal);
    }
    this.running = false;
  }

  // ------------------------------------------------------------------ statistics

  private async viewRows(caption: string): Promise<Row[]> {
    const deadline = Date.now() + 30_000;
    let viewHref: string | undefined;
    while (!viewHref) {
      const views = await this.step('statistics', () => this.rest.get<Array<{ id: number | string; caption?: string }>>(`${this.ixn}/statistics/view`));
      const v = (Array.isArray(views) ? views : []).find((x) => x.caption === caption);
      if (v) viewHref = `${this.ixn}/statistics/view/${v.id}`;
      else if (Date.now() > deadline) throw new DriverError(NAME, 'statistics', `no "${caption}" view`);
      else await sleep(this.rest.pollMs);
    }
    type Data = { isReady?: boolean; columnCaptions?: string[]; pageValues?: string[][][]; totalPages?: number | string };
    let data: Data = {};
    for (;;) {
      data = await this.step('statistics', () => this.rest.get<Data>(`${viewHref}/data`));
      if (data?.isReady && Array.isArray(data.columnCaptions) && data.columnCaptions.length) break;
      if (Date.now() > deadline) throw new DriverError(NAME, 'statistics', `"${caption}" view not ready within 30 s`);
      await sleep(Math.min(this.rest.pollMs, 250));
    }
    const captions = data.columnCaptions!;
    const rows: Row[] = [];
    const total = Number(data.totalPages) || 1;
    for (let p = 1; p <= total; p++) {
      if (p > 1) {
        await this.step('statistics', () => this.rest.patch(`${viewHref}/data`, { currentPage: p }));
        data = await this.step('statistics', () => this.rest.get<Data>(`${viewHref}/data`));
      }
      for (const entry of data.pageValues ?? []) {
        const cells = entry[0] ?? [];
        rows.push(Object.fromEntries(captions.map((c, i) => [c, String(cells[i] ?? '')])));
      }
    }
    if (total > 1) await this.rest.patch(`${viewHref}/data`, { currentPage: 1 }).catch(() => undefined);
    return rows;
  }

  /** Per-direction counters keyed "from>to" by port index. */
  private async flowStats(): Promise<Map<string, FlowStats>> {
    const rows = await this.viewRows('Flow Statistics');
    const out = new Map<string, FlowStats>();
    for (const r of rows) {
      const from = this.vportNames.indexOf(r['Tx Port'] ?? '');
      const to = this.vportNames.indexOf(r['Rx Port'] ?? '');
      if (from < 0 || to < 0) continue;
      const key = `${from}>${to}`;
      const cur = out.get(key) ?? { tx: 0, rx: 0, rxBytes: 0, txFps: 0 };
      cur.tx += numCell(r, 'Tx Frames') ?? 0;
      cur.rx += numCell(r, 'Rx Frames') ?? 0;
      cur.rxBytes += numCell(r, 'Rx Bytes') ?? 0;
      cur.txFps += numCell(r, 'Tx Frame Rate') ?? 0;
      // "Store-Forward Avg Latency (ns)", "Cut-Through …", or plain "Avg Latency (ns)" depending on mode and build.
      const min = latencyCell(r, 'Min');
      const avg = latencyCell(r, 'Avg');
      const max = latencyCell(r, 'Max');
      if (min !== undefined) cur.minNs = Math.min(cur.minNs ?? Infinity, min);
      if (max !== undefined) cur.maxNs = Math.max(cur.maxNs ?? 0, max);
      if (avg !== undefined) cur.avgNs = avg;
      const first = parseTimestamp(r['First TimeStamp']);
      const last = parseTimestamp(r['Last TimeStamp']);
      if (first !== undefined) cur.firstS = Math.min(cur.firstS ?? Infinity, first);
      if (last !== undefined) cur.lastS = Math.max(cur.lastS ?? 0, last);
      out.set(key, cur);
    }
    return out;
  }

  private buildResult(spec: TrafficSpec, stats: Map<string, FlowStats>, trafficS: number, wallS: number, frames?: number): TrialResult {
    const size = spec.stream.imixGenome ? imixAverage(spec.stream.imixGenome) : spec.stream.frameSize;
    const offered = rateToFps(spec.rate, this.ports[0]?.speedMbps ?? 10_000, size);
    const dirs: Array<[number, number]> = spec.bidir
      ? [
          [0, 1],
          [1, 0],
        ]
      : [[0, 1]];
    const directions: DirectionResult[] = dirs.map(([from, to]) => {
      const s = stats.get(`${from}>${to}`) ?? { tx: 0, rx: 0, rxBytes: 0, txFps: 0 };
      const latency: LatencyStats | undefined =
        spec.latency && s.avgNs !== undefined
          ? { minNs: s.minNs ?? s.avgNs, avgNs: s.avgNs, maxNs: s.maxNs ?? s.avgNs, percentilesNs: {}, samples: s.rx }
          : undefined;
      return {
        fromPort: from,
        toPort: to,
        txFrames: s.tx,
        rxFrames: s.rx,
        lostFrames: Math.max(0, s.tx - s.rx),
        reordered: 0,
        duplicated: 0,
        foreign: Math.max(0, s.rx - s.tx),
        txBytes: Math.round(s.tx * size),
        rxBytes: s.rxBytes || Math.round(s.rx * size),
        ...(latency ? { latency } : {}),
      };
    });
    const sum = (k: 'txFrames' | 'rxFrames' | 'lostFrames' | 'foreign' | 'txBytes' | 'rxBytes'): number => directions.reduce((a, d) => a + d[k], 0);
    const tx = sum('txFrames');
    const rx = sum('rxFrames');
    // Traffic time: the frames' own first/last timestamps when the view has them, else the requested length.
    const spans = dirs
      .map(([f, t]) => stats.get(`${f}>${t}`))
      .filter((s): s is FlowStats => !!s && s.firstS !== undefined && s.lastS !== undefined && s.lastS > s.firstS!);
    const measuredS = spans.length ? Math.max(...spans.map((s) => s.lastS! - s.firstS!)) : undefined;
    const durationS = frames !== undefined ? (measuredS ?? trafficS) : trafficS;
    const achieved = durationS > 0 ? tx / dirs.length / durationS : 0;
    const lat = directions.map((d) => d.latency).filter((l): l is LatencyStats => !!l);
    const latency: LatencyStats | undefined = lat.length
      ? {
          minNs: Math.min(...lat.map((l) => l.minNs)),
          maxNs: Math.max(...lat.map((l) => l.maxNs)),
          avgNs:
            lat.reduce((a, l) => a + l.avgNs * l.samples, 0) /
            Math.max(
              1,
              lat.reduce((a, l) => a + l.samples, 0),
            ),
          percentilesNs: {},
          samples: lat.reduce((a, l) => a + l.samples, 0),
        }
      : undefined;
    return {
      txFrames: tx,
      rxFrames: rx,
      lostFrames: sum('lostFrames'),
      reordered: 0,
      duplicated: 0,
      foreign: sum('foreign'),
      txBytes: sum('txBytes'),
      rxBytes: sum('rxBytes'),
      ...(latency ? { latency } : {}),
      offeredFps: offered,
      achievedTxFps: achieved,
      rxFps: durationS > 0 ? rx / dirs.length / durationS : 0,
      lossPct: tx > 0 ? (Math.max(0, tx - rx) / tx) * 100 : 0,
      durationS,
      wallS,
      // A frame-count trial takes as long as it takes; only rate-bound trials can be generator-limited.
      generatorLimited: frames === undefined && achieved < offered * 0.99,
      directions,
      info: { backend: 'ixnetwork', ixnetwork: this.opts.baseUrl },
    };
  }

  // ------------------------------------------------------------------ TrafficGenerator

  async runTrial(spec: TrialSpec, signal?: AbortSignal, onProgress?: (c: LiveCounters) => void): Promise<TrialResult> {
    const t0 = Date.now();
    try {
      const size = spec.stream.imixGenome ? imixAverage(spec.stream.imixGenome) : spec.stream.frameSize;
      const fps = rateToFps(spec.rate, this.ports[0]?.speedMbps ?? 10_000, size);
      const length = this.lengthOf(spec, fps);
      await this.configure(spec, length, signal);
      if (spec.learningS && spec.learningS > 0) await this.learn(spec.learningS, signal);
      await this.step('clearstats', () =>
        this.rest.operation(`${this.ixn}/operations/clearstats`, { arg1: ['waitForPortStatsRefresh'] }, signal ? { signal } : {}),
      );
      const tStart = Date.now();
      await this.startTraffic(signal);
      const expectedS = length.type === 'fixedFrameCount' ? length.frameCount / Math.max(1, fps) : length.type === 'fixedDuration' ? length.duration : 1;
      let lastProgress = 0;
      await this.waitStopped(expectedS * 1000 + 120_000, signal, async () => {
        if (!onProgress || Date.now() - lastProgress < 1000) return;
        lastProgress = Date.now();
        const s = await this.flowStats().catch(() => undefined);
        if (s)
          onProgress({
            elapsedS: (Date.now() - tStart) / 1000,
            txFrames: [...s.values()].reduce((a, x) => a + x.tx, 0),
            rxFrames: [...s.values()].reduce((a, x) => a + x.rx, 0),
          });
      });
      const trafficS = (Date.now() - tStart) / 1000;
      await sleep((spec.drainS ?? 0.5) * 1000, signal);
      const stats = await this.flowStats();
      const nominalS = length.type === 'fixedDuration' ? length.duration : spec.durationS;
      return this.buildResult(spec, stats, nominalS ?? trafficS, (Date.now() - t0) / 1000, nominalS === undefined ? spec.frames : undefined);
    } catch (e) {
      if (this.running) await this.stopTraffic().catch((x) => this.log.warn(`stop after failure: ${errorMessage(x)}`));
      if (signal?.aborted) throw new AbortedError('trial aborted; IxNetwork traffic stopped');
      throw e;
    }
  }

  /** L2/L3 learning frames of the applied traffic (traffic.sendL2L3Learning, restpy traffic.py), then the rest of the learning time. */
  private async learn(learningS: number, signal?: AbortSignal): Promise<void> {
    const t = Date.now();
    await this.step('learning', () =>
      this.rest.operation(`${this.ixn}/traffic/operations/sendl2l3learning`, { arg1: `${this.ixn}/traffic` }, signal ? { signal } : {}),
    );
    const left = learningS * 1000 - (Date.now() - t);
    if (left > 0) await sleep(left, signal);
  }

  private async doStartContinuous(spec: TrafficSpec, signal?: AbortSignal): Promise<ContinuousRun> {
    await this.configure(spec, { type: 'continuous' }, signal);
    await this.step('clearstats', () => this.rest.operation(`${this.ixn}/operations/clearstats`, { arg1: ['waitForPortStatsRefresh'] }));
    const t0 = Date.now();
    await this.startTraffic(signal);
    const onAbort = (): void => void this.stopTraffic().catch(() => undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    return {
      poll: async () => {
        const s = await this.flowStats();
        return {
          elapsedS: (Date.now() - t0) / 1000,
          txFrames: [...s.values()].reduce((a, x) => a + x.tx, 0),
          rxFrames: [...s.values()].reduce((a, x) => a + x.rx, 0),
        };
      },
      stop: async () => {
        signal?.removeEventListener('abort', onAbort);
        await this.stopTraffic();
        const trafficS = (Date.now() - t0) / 1000;
        await sleep(500);
        return this.buildResult(spec, await this.flowStats(), trafficS, trafficS);
      },
    };
  }

  async close(): Promise<void> {
    if (!this.sessionPath) return;
    const path = this.sessionPath;
    this.sessionPath = path; // keep for the calls below
    try {
      if (this.running) await this.stopTraffic().catch((e) => this.log.warn(`stop: ${errorMessage(e)}`));
      if (this.trafficItem) await this.rest.delete(this.trafficItem).catch(() => undefined);
      for (const v of this.vports) await this.rest.delete(v).catch(() => undefined);
      if (this.ownSession) {
        await this.rest.operation(`${path}/operations/stop`, {}).catch((e) => this.log.warn(`session stop: ${errorMessage(e)}`));
        await this.rest.delete(path).catch((e) => this.log.warn(`session delete: ${errorMessage(e)}`));
      }
    } finally {
      this.sessionPath = '';
      this.trafficItem = undefined;
      this.vports = [];
    }
  }
}
