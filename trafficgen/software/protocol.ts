/**
 * The vsg-engine control protocol, TypeScript side.
 *
 * The driver starts `vsg-engine gen …` with an argv array (built by `engineArgv`). The engine writes one
 * JSON object per line on stdout, each with an `event` field:
 *   ready    {backend, tag, ports:[{name, mtu, backend}]}         sockets open, traffic about to start
 *   progress {elapsed_s, tx, rx, streams:[{tx, rx}]}              every --progress-ms
 *   result   {version, backend, tag, wall_s, stopped_by, ports:[…], streams:[…]}   last line, exit 0
 *   error    {code, message}                                      last line, exit 2
 * and reads commands on stdin, one per line: `stop` ends the traffic now, drains and reports. EOF on
 * stdin (the driver died) stops without draining. SIGTERM/SIGINT stop too (short drain).
 * `vsg-engine check --port …` prints {event:'check', ports:[{name, netns, exists, up, mtu, ifindex, error}]}.
 */
import { DriverError } from '../../framework/errors.js';

export type Backend = 'auto' | 'af_packet' | 'af_xdp' | 'dpdk';

/** One stream as the engine takes it (`--stream k=v,…`). Sizes are wire bytes without FCS. */
export interface EngineStream {
  readonly txPort: number;
  readonly rxPort: number;
  readonly srcMac: string;
  readonly dstMac: string;
  readonly srcIp: string;
  readonly dstIp: string;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly l3: boolean;
  readonly l4: boolean;
  readonly vlan?: { readonly id: number; readonly priority: number; readonly cfi: number };
  readonly flows: number;
  readonly vary: 'l2' | 'l3' | 'l4' | 'none';
  /** Frames per second; 0 = as fast as the engine can. */
  readonly rateFps: number;
  readonly sizes: readonly number[];
  /** Outer headers (hex, see encap.ts): frames are sent encapsulated; sizes are then outer sizes. */
  readonly encap?: string;
}

export interface EnginePort {
  readonly name: string;
  readonly netns?: string;
  readonly backend?: Backend;
  /** backend dpdk: the DPDK device (devargs or PCI address); `name` is then only a label. */
  readonly dev?: string;
}

export interface EnginePlan {
  readonly ports: readonly EnginePort[];
  readonly streams: readonly EngineStream[];
  readonly durationS?: number;
  readonly frames?: number;
  readonly learningS?: number;
  readonly learningFps?: number;
  readonly drainS: number;
  readonly backend: Backend;
  readonly progressMs: number;
  readonly latency: boolean;
  /** Keep 1 ms receive bins (continuous runs: live migration). */
  readonly timeline?: boolean;
  readonly cpus?: readonly number[];
  readonly batch?: number;
  readonly ringFrames?: number;
  readonly tag?: number;
  /** > 0: TX threads run SCHED_FIFO at this priority. */
  readonly rtPriority?: number;
  /** DPDK EAL --file-prefix (its runtime dir /var/run/dpdk/<prefix> is journalled for the janitor). */
  readonly dpdkPrefix?: string;
  /** dpdk loops: a full TX queue drops what it has no room for (counted as sent), as a NIC's wire does. */
  readonly txDropFull?: boolean;
  /** dpdk loops: RX and TX queues per port (a sender per TX queue, every RX queue polled). */
  readonly queues?: number;
  /**
   * dpdk loops: paced frames leave once this many are due (1..32; 1 = each when due) or the oldest due
   * frame has waited txBurstWaitUs (0..10000 µs). The engine's defaults when not given: 32 and 50.
   */
  readonly txBurst?: number;
  readonly txBurstWaitUs?: number;
  /**
   * Keep the ports open after the result until "release" on stdin, at most this many seconds (the
   * switch's counters are read then).
   */
  readonly holdS?: number;
}

/** Limits of --tx-burst and --tx-burst-wait-us (the engine's VSG_TX_BURST_MAX, VSG_TX_BURST_WAIT_US_MAX). */
export const TX_BURST_MAX = 32;
export const TX_BURST_WAIT_US_MAX = 10_000;

const NAME_RE = /^[A-Za-z0-9_.:-]{1,15}$/;
const DEVARGS_RE = /^[A-Za-z0-9_.:,=/+-]{1,255}$/;
const NETNS_RE = /^[A-Za-z0-9_.-]{1,63}$/;

export function portArg(p: EnginePort): string {
  if (p.backend === 'dpdk') {
    if (!p.dev || !DEVARGS_RE.test(p.dev))
      throw new DriverError('Software', 'connect', `"${p.dev ?? ''}" is not a valid DPDK device (devargs of letters, digits and _.:,=/+-)`, { kind: 'usage' });
    if (p.netns !== undefined && p.netns !== '' && !NETNS_RE.test(p.netns))
      throw new DriverError('Software', 'connect', `"${p.netns}" is not a valid network namespace name`, { kind: 'usage' });
    return `${p.dev}${p.netns ? `@${p.netns}` : ''}#dpdk`;
  }
  if (!NAME_RE.test(p.name)) throw new DriverError('Software', 'connect', `"${p.name}" is not a valid interface name`, { kind: 'usage' });
  if (p.netns !== undefined && p.netns !== '' && !NETNS_RE.test(p.netns))
    throw new DriverError('Software', 'connect', `"${p.netns}" is not a valid network namespace name`, { kind: 'usage' });
  return `${p.name}${p.netns ? `@${p.netns}` : ''}${p.backend && p.backend !== 'auto' ? `#${p.backend}` : ''}`;
}

export function streamArg(s: EngineStream): string {
  const kv: string[] = [
    `tx=${s.txPort}`,
    `rx=${s.rxPort}`,
    `smac=${s.srcMac}`,
    `dmac=${s.dstMac}`,
    `sip=${s.srcIp}`,
    `dip=${s.dstIp}`,
    `sport=${s.srcPort}`,
    `dport=${s.dstPort}`,
    `l3=${s.l3 ? 1 : 0}`,
    `l4=${s.l4 ? 1 : 0}`,
    `flows=${Math.max(1, Math.floor(s.flows))}`,
    `vary=${s.vary}`,
    `rate=${s.rateFps}`,
    `sizes=${s.sizes.join(':')}`,
  ];
  if (s.vlan) kv.push(`vlan=${s.vlan.id}`, `prio=${s.vlan.priority}`, `cfi=${s.vlan.cfi}`);
  if (s.encap) {
    if (!/^[0-9a-f]+$/.test(s.encap)) throw new DriverError('Software', 'runTrial', 'encapsulation header must be lowercase hex', { kind: 'usage' });
    kv.push(`encap=${s.encap}`);
  }
  for (const v of kv)
    if (/[,\s]/.test(v.slice(v.indexOf('=') + 1)))
      throw new DriverError('Software', 'runTrial', `stream value "${v}" contains a comma or space`, { kind: 'usage' });
  return kv.join(',');
}

/** argv after the engine path for one trial. */
export function engineArgv(plan: EnginePlan): string[] {
  const a: string[] = ['gen'];
  for (const p of plan.ports) a.push('--port', portArg(p));
  for (const s of plan.streams) a.push('--stream', streamArg(s));
  if (plan.frames !== undefined) a.push('--frames', String(Math.round(plan.frames)));
  else a.push('--duration', String(plan.durationS ?? 1));
  if (plan.learningS) a.push('--learning', String(plan.learningS), '--learning-rate', String(plan.learningFps ?? 1000));
  a.push('--drain', String(plan.drainS), '--backend', plan.backend, '--progress-ms', String(plan.progressMs));
  if (!plan.latency) a.push('--no-latency');
  if (plan.timeline) a.push('--timeline');
  if (plan.cpus && plan.cpus.length) a.push('--cpus', plan.cpus.join(','));
  if (plan.batch) a.push('--batch', String(plan.batch));
  if (plan.ringFrames) a.push('--ring', String(plan.ringFrames));
  if (plan.tag !== undefined) a.push('--tag', String(plan.tag & 0xff));
  if (plan.rtPriority) a.push('--rt-priority', String(Math.round(plan.rtPriority)));
  if (plan.dpdkPrefix) {
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(plan.dpdkPrefix))
      throw new DriverError('Software', 'runTrial', `"${plan.dpdkPrefix}" is not a valid DPDK file prefix`, { kind: 'usage' });
    a.push('--dpdk-prefix', plan.dpdkPrefix);
  }
  if (plan.txDropFull) a.push('--tx-drop-full');
  if (plan.queues && plan.queues > 1) a.push('--queues', String(Math.round(plan.queues)));
  if (plan.txBurst !== undefined) {
    if (!Number.isInteger(plan.txBurst) || plan.txBurst < 1 || plan.txBurst > TX_BURST_MAX)
      throw new DriverError('Software', 'runTrial', `TX burst must be an integer 1..${TX_BURST_MAX} frames, got ${plan.txBurst}`, { kind: 'usage' });
    a.push('--tx-burst', String(plan.txBurst));
  }
  if (plan.txBurstWaitUs !== undefined) {
    if (!Number.isFinite(plan.txBurstWaitUs) || plan.txBurstWaitUs < 0 || plan.txBurstWaitUs > TX_BURST_WAIT_US_MAX)
      throw new DriverError('Software', 'runTrial', `TX burst wait must be 0..${TX_BURST_WAIT_US_MAX} µs, got ${plan.txBurstWaitUs}`, { kind: 'usage' });
    a.push('--tx-burst-wait-us', String(plan.txBurstWaitUs));
  }
  if (plan.holdS !== undefined && plan.holdS > 0) a.push('--hold', String(Math.ceil(plan.holdS)));
  return a;
}

// ---- events ----

export interface EngineReady {
  readonly event: 'ready';
  readonly backend: string;
  readonly tag: number;
  readonly ports: readonly { name: string; mtu: number; backend: string }[];
}
export interface EngineProgress {
  readonly event: 'progress';
  readonly elapsed_s: number;
  readonly tx: number;
  readonly rx: number;
  readonly streams: readonly { tx: number; rx: number }[];
}
export interface EnginePortResult {
  readonly name: string;
  readonly netns: string;
  readonly backend: string;
  readonly mtu: number;
  readonly rx_frames: number;
  readonly foreign: number;
  readonly learning: number;
  readonly tx_errors: number;
  /** Frames the kernel dropped because the engine's RX ring was full. */
  readonly rx_ring_drops: number;
  /** dpdk port with more than one queue: the queues and the frames each TX / RX queue moved. */
  readonly queues?: number;
  readonly txq_frames?: readonly number[];
  readonly rxq_frames?: readonly number[];
}
export interface EngineStreamResult {
  readonly id: number;
  readonly tx_port: number;
  readonly rx_port: number;
  readonly offered_fps: number;
  readonly planned: number;
  readonly tx_frames: number;
  readonly tx_bytes: number;
  readonly tx_s: number;
  readonly achieved_fps: number;
  readonly rx_frames: number;
  readonly rx_bytes: number;
  readonly duplicated: number;
  readonly reordered: number;
  readonly max_gap: number;
  /** --tx-drop-full: frames the full TX queue had no room for (counted in tx_frames). */
  readonly tx_full_drops?: number;
  readonly lat_samples: number;
  readonly lat_min_ns: number;
  readonly lat_avg_ns: number;
  readonly lat_max_ns: number;
  /** [bucket lower bound ns, count] for non-empty buckets. */
  readonly hist: readonly (readonly [number, number])[];
  /** Receiver clock (engine ≥ this issue): longest silences [start, end] (ns, CLOCK_REALTIME), longest first. */
  readonly rx_gaps?: readonly (readonly [number, number])[];
  readonly first_rx_ns?: number;
  readonly last_rx_ns?: number;
  readonly delayed?: number;
  readonly delay_threshold_ns?: number;
  /** With --timeline: 1 ms bins from t0_ns. */
  readonly timeline?: { readonly t0_ns: number; readonly bin_ms: number; readonly rx: readonly number[]; readonly max_lat_us: readonly number[] };
}
export interface EngineResult {
  readonly event: 'result';
  readonly version: string;
  readonly backend: string;
  readonly tag: number;
  readonly wall_s: number;
  readonly stopped_by: string;
  readonly ports: readonly EnginePortResult[];
  readonly streams: readonly EngineStreamResult[];
  /** dpdk polling loops: CPU, the share of rounds that moved frames (%), times the kernel preempted the loop, idle sleeps. */
  readonly loops?: readonly {
    readonly cpu: number;
    readonly busy_pct: number;
    readonly preempted?: number;
    readonly idle_sleeps?: number;
    /** TSC cycles per frame sent or received, over the rounds that moved frames and were not preempted. */
    readonly cycles_per_frame?: number;
    /** Share of the trial the loop was off its CPU (rounds over 100 µs that did not sleep: preempted). */
    readonly offcpu_pct?: number;
  }[];
}
export interface EngineError {
  readonly event: 'error';
  readonly code: string;
  readonly message: string;
}
export interface EngineCheck {
  readonly event: 'check';
  readonly ports: readonly { name: string; netns: string; exists: boolean; up: boolean; mtu: number; ifindex: number; error: string }[];
}
export type EngineEvent = EngineReady | EngineProgress | EngineResult | EngineError | EngineCheck;

function bad(line: string, why: string): DriverError {
  const excerpt = line.length > 120 ? `${line.slice(0, 120)}…` : line;
  return new DriverError('Software', 'engine protocol', `${why} in engine output line "${excerpt}"`);
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function need(o: Record<string, unknown>, keys: readonly string[], kind: 'number' | 'string', line: string, where: string): void {
  for (const k of keys) {
    const v = o[k];
    if (kind === 'number' ? !isNum(v) : typeof v !== 'string') throw bad(line, `${where}.${k} is not a ${kind}`);
  }
}

/** Parse and shape-check one stdout line. Throws DriverError on anything malformed. */
export function parseEngineLine(line: string): EngineEvent {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw bad(line, 'invalid JSON');
  }
  if (!isObj(v) || typeof v.event !== 'string') throw bad(line, 'no "event" field');
  switch (v.event) {
    case 'ready':
      need(v, ['backend'], 'string', line, 'ready');
      if (!Array.isArray(v.ports)) throw bad(line, 'ready.ports is not an array');
      return v as unknown as EngineReady;
    case 'progress':
      need(v, ['elapsed_s', 'tx', 'rx'], 'number', line, 'progress');
      return v as unknown as EngineProgress;
    case 'error':
      need(v, ['code', 'message'], 'string', line, 'error');
      return v as unknown as EngineError;
    case 'check':
      if (!Array.isArray(v.ports) || !v.ports.every(isObj)) throw bad(line, 'check.ports is not an array of objects');
      return v as unknown as EngineCheck;
    case 'result': {
      need(v, ['version', 'backend', 'stopped_by'], 'string', line, 'result');
      need(v, ['wall_s', 'tag'], 'number', line, 'result');
      if (!Array.isArray(v.ports) || !Array.isArray(v.streams)) throw bad(line, 'result.ports/streams is not an array');
      for (const p of v.ports) {
        if (!isObj(p)) throw bad(line, 'result.ports[] is not an object');
        need(p, ['rx_frames', 'foreign', 'learning', 'tx_errors', 'rx_ring_drops', 'mtu'], 'number', line, 'result.ports[]');
      }
      for (const s of v.streams) {
        if (!isObj(s)) throw bad(line, 'result.streams[] is not an object');
        need(
          s,
          [
            'id',
            'tx_port',
            'rx_port',
            'offered_fps',
            'planned',
            'tx_frames',
            'tx_bytes',
            'tx_s',
            'achieved_fps',
            'rx_frames',
            'rx_bytes',
            'duplicated',
            'reordered',
            'max_gap',
            'lat_samples',
            'lat_min_ns',
            'lat_avg_ns',
            'lat_max_ns',
          ],
          'number',
          line,
          'result.streams[]',
        );
        if (!Array.isArray(s.hist) || !s.hist.every((b) => Array.isArray(b) && b.length === 2 && isNum(b[0]) && isNum(b[1])))
          throw bad(line, 'result.streams[].hist is not [[lower, count], …]');
      }
      return v as unknown as EngineResult;
    }
    default:
      throw bad(line, `unknown event "${String(v.event)}"`);
  }
}

/** Splits a byte stream into lines; keeps a partial line until its newline arrives. Caps line length. */
export class LineSplitter {
  private buf = '';
  constructor(private readonly maxLine = 4 << 20) {}
  push(chunk: string): string[] {
    this.buf += chunk;
    const parts = this.buf.split('\n');
    this.buf = parts.pop() ?? '';
    if (this.buf.length > this.maxLine) throw new DriverError('Software', 'engine protocol', `engine output line longer than ${this.maxLine} bytes`);
    return parts.filter((l) => l.trim() !== '');
  }
}
