/**
 * Conversion between the framework's trafficgen types and the tgshim.v1 wire messages, with the
 * validation the shim applies to every incoming message. A bad field raises InvalidFieldError whose
 * message starts with the field path (proto names), which the server maps to INVALID_ARGUMENT.
 */
import { isIP } from 'node:net';
import type {
  DirectionResult,
  FlowCounters,
  GeneratorCaps,
  LatencyStats,
  LiveCounters,
  PortSpec,
  Rate,
  ReceiverTimeline,
  StreamSpec,
  TrafficSpec,
  TrialResult,
  TrialSpec,
} from '../../framework/api/trafficgen.js';
import { IMIX_SIZES, imixAverage, lineRateFps, rateToFps } from '../../framework/api/trafficgen.js';
import { isMac } from '../../framework/util/net-address.js';
import * as pb from './gen/tgshim/v1/tgshim.js';

export const API_MAJOR = 1;
/**
 * 1: RunTrials (trials on one stream); 2: CleanupStale, Capabilities.multistream; 3: DirectionResult.receiver, MarkContinuous;
 * 4: RunTrialRequest.hold_for_release, RunTrialResponse.held, ReleaseTrial.
 */
export const API_MINOR = 4;

/** Bounds of a ReceiverTimeline on the wire: the engine keeps 16 silences and 180 000 bins; more is not a timeline. */
export const MAX_RECEIVER_GAPS = 1024;
export const MAX_RECEIVER_BINS = 3_600_000;
export const SERVICE_NAME = 'tgshim.v1.TrafficGenShimService';

/** A message field is missing, malformed or out of range. `field` is the proto path. */
export class InvalidFieldError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'InvalidFieldError';
  }
}

function bad(field: string, reason: string): never {
  throw new InvalidFieldError(field, reason);
}

function finite(field: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(field, `must be a finite number, got ${String(v)}`);
  return v;
}

function range(field: string, v: number, min: number, max: number, unit = ''): number {
  finite(field, v);
  if (v < min || v > max) bad(field, `${v}${unit} is out of range ${min}..${max}${unit}`);
  return v;
}

function positive(field: string, v: number, max: number, unit = ''): number {
  finite(field, v);
  if (!(v > 0) || v > max) bad(field, `${v}${unit} is out of range (0, ${max}]${unit}`);
  return v;
}

const MAX_U53 = BigInt(Number.MAX_SAFE_INTEGER);

// ---------------------------------------------------------------- framework → wire (client side)

export function portToPb(p: PortSpec): pb.Port {
  return {
    name: p.name,
    netns: p.netns ?? '',
    pci: p.pci ?? '',
    speedMbps: p.speedMbps,
    mac: p.mac ?? '',
    mtu: p.mtu ?? 0,
    ioBackend: p.backend ?? '',
  };
}

export function rateToPb(r: Rate): pb.Rate {
  return r.unit === 'fps' ? { value: { $case: 'fps', fps: r.value } } : { value: { $case: 'pct', pct: r.value } };
}

const STREAM_TYPE_TO_PB: Record<StreamSpec['streamType'], pb.StreamType> = {
  L2: pb.StreamType.STREAM_TYPE_L2,
  L3: pb.StreamType.STREAM_TYPE_L3,
  L4: pb.StreamType.STREAM_TYPE_L4,
};

export function streamToPb(s: StreamSpec): pb.StreamSpec {
  return {
    frameSize: s.frameSize,
    imixGenome: s.imixGenome ?? '',
    l2: { srcMac: s.l2.srcMac, dstMac: s.l2.dstMac },
    l3: { enabled: s.l3.enabled, version: s.l3.version, proto: s.l3.proto, srcIp: s.l3.srcIp, dstIp: s.l3.dstIp },
    l4: { enabled: s.l4.enabled, srcPort: s.l4.srcPort, dstPort: s.l4.dstPort },
    vlan: { enabled: s.vlan.enabled, id: s.vlan.id, priority: s.vlan.priority, cfi: s.vlan.cfi },
    multistream: s.multistream,
    streamType: STREAM_TYPE_TO_PB[s.streamType] ?? pb.StreamType.STREAM_TYPE_L4,
  };
}

export function trafficToPb(t: TrafficSpec): pb.TrafficSpec {
  return { stream: streamToPb(t.stream), bidir: t.bidir, rate: rateToPb(t.rate), latency: t.latency };
}

export function trialToPb(t: TrialSpec): pb.TrialSpec {
  return {
    traffic: trafficToPb(t),
    length: t.frames !== undefined ? { $case: 'frames', frames: BigInt(Math.round(t.frames)) } : { $case: 'durationS', durationS: t.durationS ?? 0 },
    learningS: t.learningS ?? 0,
    ...(t.drainS !== undefined ? { drainS: t.drainS } : {}),
  };
}

// ---------------------------------------------------------------- wire → framework (server side, validated)

export function portsFromPb(ports: readonly pb.Port[], field = 'ports'): PortSpec[] {
  if (ports.length < 2) bad(field, `needs at least 2 ports, got ${ports.length}`);
  if (ports.length > 64) bad(field, `at most 64 ports, got ${ports.length}`);
  return ports.map((p, i) => {
    const f = `${field}[${i}]`;
    if (!p.name || p.name.length > 256) bad(`${f}.name`, 'must be a non-empty name of at most 256 characters');
    positive(`${f}.speed_mbps`, p.speedMbps, 1_000_000, ' Mbit/s');
    if (p.mac && !isMac(p.mac)) bad(`${f}.mac`, `"${p.mac}" is not a MAC address`);
    if (p.mtu) range(`${f}.mtu`, p.mtu, 68, 65535);
    if (p.ioBackend && !['auto', 'af_packet', 'af_xdp', 'dpdk'].includes(p.ioBackend))
      bad(`${f}.io_backend`, `"${p.ioBackend}" is not one of auto, af_packet, af_xdp, dpdk`);
    return {
      name: p.name,
      speedMbps: p.speedMbps,
      ...(p.netns ? { netns: p.netns } : {}),
      ...(p.pci ? { pci: p.pci } : {}),
      ...(p.mac ? { mac: p.mac } : {}),
      ...(p.mtu ? { mtu: p.mtu } : {}),
      ...(p.ioBackend ? { backend: p.ioBackend as NonNullable<PortSpec['backend']> } : {}),
    };
  });
}

export function rateFromPb(r: pb.Rate | undefined, field: string): Rate {
  const v = r?.value;
  if (!v) bad(field, 'is required (fps or pct)');
  if (v.$case === 'fps') return { unit: 'fps', value: positive(`${field}.fps`, v.fps, 1e10, ' fps') };
  return { unit: 'pct', value: positive(`${field}.pct`, v.pct, 100, ' %') };
}

const STREAM_TYPE_FROM_PB: Record<number, StreamSpec['streamType']> = {
  [pb.StreamType.STREAM_TYPE_UNSPECIFIED]: 'L4',
  [pb.StreamType.STREAM_TYPE_L2]: 'L2',
  [pb.StreamType.STREAM_TYPE_L3]: 'L3',
  [pb.StreamType.STREAM_TYPE_L4]: 'L4',
};

export function streamFromPb(s: pb.StreamSpec | undefined, field: string, caps: GeneratorCaps): StreamSpec {
  if (!s) bad(field, 'is required');
  range(`${field}.frame_size`, s.frameSize, 64, caps.maxFrameSize, ' bytes');
  if (s.imixGenome) {
    if (!caps.imix) bad(`${field}.imix_genome`, 'this generator does not support IMIX');
    if (s.imixGenome.length > 256) bad(`${field}.imix_genome`, 'at most 256 letters');
    for (const ch of s.imixGenome)
      if (IMIX_SIZES[ch] === undefined) bad(`${field}.imix_genome`, `letter "${ch}" is not one of ${Object.keys(IMIX_SIZES).join('')}`);
  }
  const l2 = s.l2 ?? { srcMac: '00:00:00:00:00:00', dstMac: '00:00:00:00:00:00' };
  for (const k of ['srcMac', 'dstMac'] as const) {
    const name = k === 'srcMac' ? 'src_mac' : 'dst_mac';
    if (!isMac(l2[k])) bad(`${field}.l2.${name}`, `"${l2[k]}" is not a MAC address`);
  }
  const l3 = s.l3 ?? { enabled: false, version: 4, proto: 'udp', srcIp: '0.0.0.0', dstIp: '0.0.0.0' };
  const version = l3.version === 0 ? 4 : l3.version;
  if (version !== 4 && version !== 6) bad(`${field}.l3.version`, `${l3.version} is not 4 or 6`);
  if (version === 6 && l3.enabled && !caps.ipv6) bad(`${field}.l3.version`, 'this generator does not support IPv6');
  if (l3.proto && l3.proto !== 'udp') bad(`${field}.l3.proto`, `"${l3.proto}" is not supported (only udp)`);
  if (l3.enabled) {
    for (const k of ['srcIp', 'dstIp'] as const) {
      const name = k === 'srcIp' ? 'src_ip' : 'dst_ip';
      if (isIP(l3[k]) !== version) bad(`${field}.l3.${name}`, `"${l3[k]}" is not an IPv${version} address`);
    }
  }
  const l4 = s.l4 ?? { enabled: false, srcPort: 0, dstPort: 0 };
  range(`${field}.l4.src_port`, l4.srcPort, 0, 65535);
  range(`${field}.l4.dst_port`, l4.dstPort, 0, 65535);
  const vlan = s.vlan ?? { enabled: false, id: 0, priority: 0, cfi: 0 };
  if (vlan.enabled && !caps.vlan) bad(`${field}.vlan.enabled`, 'this generator does not support VLAN tags');
  range(`${field}.vlan.id`, vlan.id, 0, 4095);
  range(`${field}.vlan.priority`, vlan.priority, 0, 7);
  range(`${field}.vlan.cfi`, vlan.cfi, 0, 1);
  range(`${field}.multistream`, s.multistream, 0, 1_000_000);
  if (s.multistream > 1 && caps.multistream === false) bad(`${field}.multistream`, 'this generator does not vary flows (multistream)');
  const streamType = STREAM_TYPE_FROM_PB[s.streamType];
  if (!streamType) bad(`${field}.stream_type`, `unknown value ${s.streamType}`);
  return {
    frameSize: s.frameSize,
    ...(s.imixGenome ? { imixGenome: s.imixGenome } : {}),
    l2: { srcMac: l2.srcMac, dstMac: l2.dstMac },
    l3: { enabled: l3.enabled, version, proto: 'udp', srcIp: l3.srcIp, dstIp: l3.dstIp },
    l4: { enabled: l4.enabled, srcPort: l4.srcPort, dstPort: l4.dstPort },
    vlan: { enabled: vlan.enabled, id: vlan.id, priority: vlan.priority, cfi: vlan.cfi },
    multistream: s.multistream,
    streamType,
  };
}

export function trafficFromPb(t: pb.TrafficSpec | undefined, field: string, caps: GeneratorCaps): TrafficSpec {
  if (!t) bad(field, 'is required');
  if (t.bidir && !caps.bidir) bad(`${field}.bidir`, 'this generator does not support bidirectional traffic');
  if (t.latency && !caps.latency) bad(`${field}.latency`, 'this generator does not measure latency');
  return { stream: streamFromPb(t.stream, `${field}.stream`, caps), bidir: t.bidir, rate: rateFromPb(t.rate, `${field}.rate`), latency: t.latency };
}

export function trialFromPb(t: pb.TrialSpec | undefined, field: string, caps: GeneratorCaps): TrialSpec {
  if (!t) bad(field, 'is required');
  const traffic = trafficFromPb(t.traffic, `${field}.traffic`, caps);
  const len = t.length;
  if (!len) bad(`${field}.length`, 'one of duration_s or frames is required');
  let length: { durationS: number } | { frames: number };
  if (len.$case === 'durationS') length = { durationS: positive(`${field}.duration_s`, len.durationS, 86_400, ' s') };
  else {
    if (len.frames <= 0n || len.frames > MAX_U53) bad(`${field}.frames`, `${len.frames} is out of range 1..${MAX_U53}`);
    length = { frames: Number(len.frames) };
  }
  range(`${field}.learning_s`, t.learningS, 0, 60, ' s');
  if (t.drainS !== undefined) range(`${field}.drain_s`, t.drainS, 0, 60, ' s');
  return {
    ...traffic,
    ...length,
    ...(t.learningS > 0 ? { learningS: t.learningS } : {}),
    ...(t.drainS !== undefined ? { drainS: t.drainS } : {}),
  };
}

// ---------------------------------------------------------------- results (both ways)

const u64 = (n: number): bigint => (Number.isFinite(n) && n > 0 ? BigInt(Math.round(n)) : 0n);
const num = (b: bigint | undefined): number => (b === undefined ? 0 : Number(b));

export function capsToPb(c: GeneratorCaps): pb.Capabilities {
  return {
    continuous: c.continuous,
    latency: c.latency,
    bidir: c.bidir,
    imix: c.imix,
    vlan: c.vlan,
    ipv6: c.ipv6,
    maxFrameSize: c.maxFrameSize,
    ...(c.maxRateFps !== undefined ? { maxRateFps: c.maxRateFps } : {}),
    simulatesDut: c.simulatesDut ?? false,
    multistream: c.multistream !== false,
  };
}

export function capsFromPb(c: pb.Capabilities | undefined): GeneratorCaps {
  const x = c ?? pb.Capabilities.create();
  return {
    continuous: x.continuous,
    latency: x.latency,
    bidir: x.bidir,
    imix: x.imix,
    vlan: x.vlan,
    ipv6: x.ipv6,
    maxFrameSize: x.maxFrameSize || 1518,
    ...(x.maxRateFps !== undefined ? { maxRateFps: x.maxRateFps } : {}),
    ...(x.simulatesDut ? { simulatesDut: true } : {}),
    multistream: x.multistream,
  };
}

/**
 * Checks that need the reserved ports: the offered rate fits the sending port's line rate, and a
 * duration trial lasts at least one frame time (shorter sends no frame and would read as 0 % loss).
 */
export function checkAgainstPorts(spec: TrafficSpec & { durationS?: number }, ports: readonly PortSpec[], field: string): void {
  const size = spec.stream.imixGenome ? imixAverage(spec.stream.imixGenome) : spec.stream.frameSize;
  const senders = spec.bidir ? [0, 1] : [0];
  for (const i of senders) {
    const p = ports[i];
    if (!p) continue;
    const fps = rateToFps(spec.rate, p.speedMbps, size);
    const line = lineRateFps(p.speedMbps, size);
    if (fps > line * (1 + 1e-9)) {
      bad(`${field}.rate.fps`, `${fps} fps is above the line rate of port ${i} (${Math.floor(line)} fps for ${size}-byte frames at ${p.speedMbps} Mbit/s)`);
    }
  }
  if (spec.durationS !== undefined && ports[0]) {
    const fps = rateToFps(spec.rate, ports[0].speedMbps, size);
    if (spec.durationS * fps < 1)
      bad(`${field.replace(/\.traffic$/, '')}.duration_s`, `${spec.durationS} s is shorter than one frame at ${fps} fps (${1 / fps} s)`);
  }
}

function latencyToPb(l: LatencyStats): pb.LatencyStats {
  return {
    minNs: l.minNs,
    avgNs: l.avgNs,
    maxNs: l.maxNs,
    percentilesNs: { ...l.percentilesNs },
    ...(l.histogram ? { histogram: { lowerNs: [...l.histogram.lowerNs], counts: l.histogram.counts.map(u64) } } : {}),
    samples: u64(l.samples),
  };
}

function latencyFromPb(l: pb.LatencyStats): LatencyStats {
  return {
    minNs: l.minNs,
    avgNs: l.avgNs,
    maxNs: l.maxNs,
    percentilesNs: { ...l.percentilesNs },
    ...(l.histogram ? { histogram: { lowerNs: [...l.histogram.lowerNs], counts: l.histogram.counts.map(num) } } : {}),
    samples: num(l.samples),
  };
}

function countersToPb(c: FlowCounters): pb.FlowCounters {
  return {
    txFrames: u64(c.txFrames),
    rxFrames: u64(c.rxFrames),
    lostFrames: u64(c.lostFrames),
    reordered: u64(c.reordered),
    duplicated: u64(c.duplicated),
    foreign: u64(c.foreign),
    txBytes: u64(c.txBytes),
    rxBytes: u64(c.rxBytes),
    ...(c.latency ? { latency: latencyToPb(c.latency) } : {}),
    ...(c.maxGapMs !== undefined ? { maxGapMs: c.maxGapMs } : {}),
  };
}

function countersFromPb(c: pb.FlowCounters | undefined): FlowCounters {
  const x = c ?? pb.FlowCounters.create();
  return {
    txFrames: num(x.txFrames),
    rxFrames: num(x.rxFrames),
    lostFrames: num(x.lostFrames),
    reordered: num(x.reordered),
    duplicated: num(x.duplicated),
    foreign: num(x.foreign),
    txBytes: num(x.txBytes),
    rxBytes: num(x.rxBytes),
    ...(x.latency ? { latency: latencyFromPb(x.latency) } : {}),
    ...(x.maxGapMs !== undefined ? { maxGapMs: x.maxGapMs } : {}),
  };
}

export function receiverToPb(r: ReceiverTimeline): pb.ReceiverTimeline {
  return {
    gaps: r.gapsMs.map(([startMs, endMs]) => ({ startMs, endMs })),
    ...(r.firstRxMs !== undefined ? { firstRxMs: r.firstRxMs } : {}),
    ...(r.lastRxMs !== undefined ? { lastRxMs: r.lastRxMs } : {}),
    ...(r.delayThresholdNs !== undefined ? { delayThresholdNs: r.delayThresholdNs, delayedFrames: u64(r.delayedFrames ?? 0) } : {}),
    ...(r.bins ? { bins: { t0Ms: r.bins.t0Ms, binMs: r.bins.binMs, rxFrames: [...r.bins.rxFrames], maxLatencyUs: [...r.bins.maxLatencyUs] } } : {}),
  };
}

/**
 * A shim's receiver timeline, checked field by field (client side: the figures of a migration are
 * computed from it, so a malformed one is refused, never half-used). `field` is the proto path.
 */
export function receiverFromPb(r: pb.ReceiverTimeline, field: string): ReceiverTimeline {
  const epoch = (f: string, v: number): number => range(f, v, 0, 1e14, ' ms');
  if (r.gaps.length > MAX_RECEIVER_GAPS) bad(`${field}.gaps`, `${r.gaps.length} silences, at most ${MAX_RECEIVER_GAPS}`);
  const gapsMs = r.gaps.map((g, i) => {
    const f = `${field}.gaps[${i}]`;
    epoch(`${f}.start_ms`, g.startMs);
    epoch(`${f}.end_ms`, g.endMs);
    if (g.endMs < g.startMs) bad(`${f}.end_ms`, `${g.endMs} is before start_ms ${g.startMs}`);
    return [g.startMs, g.endMs] as const;
  });
  if (r.firstRxMs !== undefined) epoch(`${field}.first_rx_ms`, r.firstRxMs);
  if (r.lastRxMs !== undefined) epoch(`${field}.last_rx_ms`, r.lastRxMs);
  if (r.firstRxMs !== undefined && r.lastRxMs !== undefined && r.lastRxMs < r.firstRxMs)
    bad(`${field}.last_rx_ms`, `${r.lastRxMs} is before first_rx_ms ${r.firstRxMs}`);
  if ((r.delayThresholdNs === undefined) !== (r.delayedFrames === undefined))
    bad(r.delayThresholdNs === undefined ? `${field}.delay_threshold_ns` : `${field}.delayed_frames`, 'delay_threshold_ns and delayed_frames come together');
  if (r.delayThresholdNs !== undefined) positive(`${field}.delay_threshold_ns`, r.delayThresholdNs, 1e13, ' ns');
  if (r.delayedFrames !== undefined && r.delayedFrames > MAX_U53) bad(`${field}.delayed_frames`, `${r.delayedFrames} is out of range 0..${MAX_U53}`);
  let bins: ReceiverTimeline['bins'];
  if (r.bins) {
    const b = r.bins;
    const f = `${field}.bins`;
    epoch(`${f}.t0_ms`, b.t0Ms);
    positive(`${f}.bin_ms`, b.binMs, 60_000, ' ms');
    if (b.rxFrames.length !== b.maxLatencyUs.length)
      bad(`${f}.max_latency_us`, `${b.maxLatencyUs.length} bins, rx_frames has ${b.rxFrames.length} (parallel lists)`);
    if (b.rxFrames.length > MAX_RECEIVER_BINS) bad(`${f}.rx_frames`, `${b.rxFrames.length} bins, at most ${MAX_RECEIVER_BINS}`);
    bins = { t0Ms: b.t0Ms, binMs: b.binMs, rxFrames: b.rxFrames, maxLatencyUs: b.maxLatencyUs };
  }
  return {
    gapsMs,
    ...(r.firstRxMs !== undefined ? { firstRxMs: r.firstRxMs } : {}),
    ...(r.lastRxMs !== undefined ? { lastRxMs: r.lastRxMs } : {}),
    ...(r.delayThresholdNs !== undefined ? { delayedFrames: num(r.delayedFrames), delayThresholdNs: r.delayThresholdNs } : {}),
    ...(bins ? { bins } : {}),
  };
}

export function resultToPb(r: TrialResult): pb.TrialResult {
  const info: Record<string, pb.InfoValue> = {};
  for (const [k, v] of Object.entries(r.info ?? {})) {
    info[k] =
      typeof v === 'string'
        ? { value: { $case: 'text', text: v } }
        : typeof v === 'number'
          ? { value: { $case: 'number', number: v } }
          : { value: { $case: 'flag', flag: v } };
  }
  return {
    total: countersToPb(r),
    offeredFps: r.offeredFps,
    achievedTxFps: r.achievedTxFps,
    rxFps: r.rxFps,
    lossPct: r.lossPct,
    durationS: r.durationS,
    wallS: r.wallS,
    generatorLimited: r.generatorLimited,
    directions: r.directions.map((d) => ({
      fromPort: d.fromPort,
      toPort: d.toPort,
      counters: countersToPb(d),
      ...(d.receiver ? { receiver: receiverToPb(d.receiver) } : {}),
    })),
    simulated: r.simulated ?? false,
    info,
  };
}

export function resultFromPb(r: pb.TrialResult, extraInfo: Record<string, string | number | boolean> = {}): TrialResult {
  const info: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(r.info)) {
    const x = v.value;
    if (x) info[k] = x.$case === 'text' ? x.text : x.$case === 'number' ? x.number : x.flag;
  }
  Object.assign(info, extraInfo);
  // Only the receiver timeline is checked here: the counters are plain numbers whatever they hold,
  // while a malformed timeline would turn into a wrong outage. Throws InvalidFieldError.
  const directions: DirectionResult[] = r.directions.map((d, i) => ({
    fromPort: d.fromPort,
    toPort: d.toPort,
    ...countersFromPb(d.counters),
    ...(d.receiver ? { receiver: receiverFromPb(d.receiver, `result.directions[${i}].receiver`) } : {}),
  }));
  return {
    ...countersFromPb(r.total),
    offeredFps: r.offeredFps,
    achievedTxFps: r.achievedTxFps,
    rxFps: r.rxFps,
    lossPct: r.lossPct,
    durationS: r.durationS,
    wallS: r.wallS,
    generatorLimited: r.generatorLimited,
    directions,
    ...(r.simulated ? { simulated: true } : {}),
    info,
  };
}

export function liveToPb(c: LiveCounters, phase: pb.Phase = pb.Phase.PHASE_TRAFFIC): pb.LiveCounters {
  return { elapsedS: c.elapsedS, txFrames: u64(c.txFrames), rxFrames: u64(c.rxFrames), phase };
}

export function liveFromPb(c: pb.LiveCounters | undefined): LiveCounters {
  return { elapsedS: c?.elapsedS ?? 0, txFrames: num(c?.txFrames), rxFrames: num(c?.rxFrames) };
}
