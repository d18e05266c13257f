/**
 * The traffic-generator contract. A driver runs single trials; it never searches (the methodology in
 * framework/methodology does, identically for every generator). Units are in the field names.
 */
import type { SshTarget } from '../host/ssh.js';

/** A rate as a user writes it: frames per second, or percent of the port's line rate. */
export type Rate = { unit: 'fps'; value: number } | { unit: 'pct'; value: number };

/** A generator port. In the sandbox it is a veth end inside a network namespace. */
export interface PortSpec {
  /** Interface name (veth, NIC netdev) or, for hardware generators, a chassis/card/port id. */
  readonly name: string;
  /** Network namespace the interface lives in, if any. */
  readonly netns?: string;
  /** PCI address when the port is a NIC bound for DPDK use. */
  readonly pci?: string;
  /** Line speed used for "% of line rate" (Mbit/s). */
  readonly speedMbps: number;
  readonly mac?: string;
  readonly mtu?: number;
  /** I/O backend wish for software generators: 'auto' picks the fastest of the kernel paths that works; 'dpdk' drives a DPDK device. */
  readonly backend?: 'auto' | 'af_packet' | 'af_xdp' | 'dpdk';
  /**
   * DPDK device of a `dpdk` port (EAL devargs): e.g. `net_virtio_user0,path=/run/x.sock,server=1`,
   * `net_af_xdp0,iface=eth1`, `net_pcap0,iface=eth1`. Absent: the PCI address, else net_af_packet on `name`.
   */
  readonly devargs?: string;
  /**
   * The host the port is on when it is not this one (a TESTBED_HOSTS `generator` host, or the two-host
   * sandbox's): the generator then runs there (drivers.ts: Software through a vsperf-tgshim started over
   * SSH). Absent: this host.
   */
  readonly host?: SshTarget;
}

/** One flow definition, VSPERF's TRAFFIC dict in typed form. */
export interface StreamSpec {
  /**
   * L2 frame size in bytes including the 4-byte FCS, as RFC 2544 and VSPERF count it. In overlay
   * testcases it is the inner (tenant) frame both ways: a decapsulation generator puts
   * `tunnelOverheadBytes` of outer headers in front of it (docs/deployments.md, op2p).
   */
  readonly frameSize: number;
  /** RFC 6985 IMIX genome ('a'=64,'b'=128,'c'=256,'d'=512,'e'=1024,'f'=1280,'g'=1518); overrides frameSize. */
  readonly imixGenome?: string;
  readonly l2: { readonly srcMac: string; readonly dstMac: string };
  readonly l3: { readonly enabled: boolean; readonly version: 4 | 6; readonly proto: 'udp'; readonly srcIp: string; readonly dstIp: string };
  readonly l4: { readonly enabled: boolean; readonly srcPort: number; readonly dstPort: number };
  readonly vlan: { readonly enabled: boolean; readonly id: number; readonly priority: number; readonly cfi: number };
  /** Number of flows (0 or 1 = a single flow). */
  readonly multistream: number;
  /** Which header field varies between the flows. */
  readonly streamType: 'L2' | 'L3' | 'L4';
  /** Overlay testcases (VSPERF op2p): l2/l3/l4 above are then the inner frame. */
  readonly tunnel?: TunnelSpec;
}

/** The overlay encapsulations a stream may carry (VSPERF's TUNNEL_TYPE values). */
export const TUNNEL_TYPES = ['vxlan', 'gre', 'geneve'] as const;
export type TunnelType = (typeof TUNNEL_TYPES)[number];

/**
 * VSPERF's TUNNEL_OPERATION seen from the generator: `decapsulation` = it sends encapsulated frames
 * (outer headers below) and receives plain ones; `encapsulation` = it sends plain frames and receives
 * them encapsulated by the switch. Either way the trailer sits at the end of the inner frame.
 */
export interface TunnelSpec {
  readonly type: TunnelType;
  readonly operation: 'encapsulation' | 'decapsulation';
  /** Outer headers the generator puts on (decapsulation only), in front of the frameSize-byte inner frame. */
  readonly outer?: {
    readonly srcMac: string;
    readonly dstMac: string;
    readonly srcIp: string;
    readonly dstIp: string;
    /** UDP ports (VXLAN, GENEVE); unused for GRE. */
    readonly srcPort?: number;
    readonly dstPort?: number;
    /** VXLAN/GENEVE network identifier (24 bits). */
    readonly vni?: number;
  };
}

/** What to send: streams from port 0 to port 1, and back when bidirectional. */
export interface TrafficSpec {
  readonly stream: StreamSpec;
  readonly bidir: boolean;
  /** Offered rate per direction. */
  readonly rate: Rate;
  /** Measure latency (timestamps in every frame for software generators). */
  readonly latency: boolean;
}

export interface TrialSpec extends TrafficSpec {
  /** Traffic duration (s). Exactly one of durationS / frames is set. */
  readonly durationS?: number;
  /** Fixed frame count per direction (bursts, back-to-back). */
  readonly frames?: number;
  /** Seconds of learning traffic at a low rate before the counted phase (0 = none). */
  readonly learningS?: number;
  /** Seconds to wait after stopping for frames still in flight. Default: driver's choice (≈ 0.5–2 s). */
  readonly drainS?: number;
}

export interface LatencyStats {
  readonly minNs: number;
  readonly avgNs: number;
  readonly maxNs: number;
  /** Percentiles (ns): keys 'p50','p90','p99','p99.9','p99.99'. */
  readonly percentilesNs: Readonly<Record<string, number>>;
  /** Histogram as parallel arrays: bucket lower bounds (ns) and counts. Counts sum to the samples. */
  readonly histogram?: { readonly lowerNs: readonly number[]; readonly counts: readonly number[] };
  readonly samples: number;
}

/** Counters of one direction (port i → port j) or of the whole trial. */
export interface FlowCounters {
  readonly txFrames: number;
  readonly rxFrames: number;
  /** Frames sent and never received (tx − distinct rx, never negative). */
  readonly lostFrames: number;
  readonly reordered: number;
  readonly duplicated: number;
  /** Frames received that the generator did not send in this trial (kernel chatter, stale frames). */
  readonly foreign: number;
  readonly txBytes: number;
  readonly rxBytes: number;
  readonly latency?: LatencyStats;
  /** Longest gap between consecutive received sequence numbers, as time (ms) at the offered rate. */
  readonly maxGapMs?: number;
}

/**
 * What the receiving port saw on the receiver's own clock (epoch ms, CLOCK_REALTIME), for outages that
 * sequence numbers cannot show (frames delayed, not lost). Reported by generators that timestamp frames
 * on receive; the Software generator does for every backend.
 */
export interface ReceiverTimeline {
  /** Longest silences between two consecutive received frames, [start, end] epoch ms, longest first. */
  readonly gapsMs: readonly (readonly [number, number])[];
  /** Receive time of the first frame (epoch ms): with lastRxMs, the rate the receiver saw. */
  readonly firstRxMs?: number;
  /** Receive time of the last frame (epoch ms). */
  readonly lastRxMs?: number;
  /** Frames whose latency exceeded `delayThresholdNs`, counted from ContinuousRun.mark() on. */
  readonly delayedFrames?: number;
  /** 10 × the p99 latency measured before mark() (ns); absent before a mark or without latency. */
  readonly delayThresholdNs?: number;
  /** Per `binMs` bin from `t0Ms`: frames received and their largest one-way latency (µs). */
  readonly bins?: { readonly t0Ms: number; readonly binMs: number; readonly rxFrames: readonly number[]; readonly maxLatencyUs: readonly number[] };
}

export interface DirectionResult extends FlowCounters {
  readonly fromPort: number;
  readonly toPort: number;
  readonly receiver?: ReceiverTimeline;
}

export interface TrialResult extends FlowCounters {
  /** Rate asked for, per direction (fps). */
  readonly offeredFps: number;
  /** Rate actually transmitted, per direction (fps). */
  readonly achievedTxFps: number;
  /** Received frames per second per direction. */
  readonly rxFps: number;
  /** Loss as percent of transmitted frames (0–100). */
  readonly lossPct: number;
  /** Traffic phase length actually achieved (s). */
  readonly durationS: number;
  /** Wall time of the whole trial including learning and drain (s). */
  readonly wallS: number;
  /** True when the generator could not send at the offered rate: the trial says nothing about the DUT. */
  readonly generatorLimited: boolean;
  readonly directions: readonly DirectionResult[];
  /** True for the Simulated driver: the figures were computed, not measured. */
  readonly simulated?: boolean;
  /** Driver facts worth keeping (I/O backend used, engine version, …); see also GENERATOR_BUSY_INFO. */
  readonly info?: Readonly<Record<string, string | number | boolean>>;
}

export interface GeneratorCaps {
  readonly continuous: boolean;
  readonly latency: boolean;
  readonly bidir: boolean;
  readonly imix: boolean;
  readonly vlan: boolean;
  readonly ipv6: boolean;
  /** Multistream varies the stream_type field per flow; undefined = yes (false: multistream > 1 is refused). */
  readonly multistream?: boolean;
  readonly maxFrameSize: number;
  /** Highest rate (fps, per direction, at 64-byte frames) this generator can reach, if known. */
  readonly maxRateFps?: number;
  /** The generator models the DUT itself (Simulated): the runner then skips real deployments. */
  readonly simulatesDut?: boolean;
  /** Tunnel types it can send and count in overlay testcases (StreamSpec.tunnel); absent = none. */
  readonly tunnels?: readonly TunnelType[];
}

/** Live counters while traffic runs, for progress displays. */
export interface LiveCounters {
  readonly elapsedS: number;
  readonly txFrames: number;
  readonly rxFrames: number;
}

export interface ContinuousRun {
  /** Counters so far. */
  poll(): Promise<LiveCounters>;
  /** Stop traffic, drain, and return the counters of the whole run. */
  stop(): Promise<TrialResult>;
  /** From now on count frames later than 10 × the p99 latency so far (ReceiverTimeline.delayedFrames). */
  mark?(): Promise<void>;
}

/** What the caller of runTrial does at the trial's end, before the generator lets go of its ports. */
export interface TrialHooks {
  /**
   * Called once the trial's counts are final, while the generator still holds its ports (a vhost-user
   * switch port forgets its counters when the generator's end disconnects); the generator waits for it,
   * then releases the ports. A generator that has nothing to release may call it after the trial, or not.
   */
  readonly beforeRelease?: () => Promise<void>;
}

export interface TrafficGenerator {
  readonly name: string;
  capabilities(): GeneratorCaps;
  /** Claim and check the ports (exist, up, MTU, privileges). Throws DriverError/EnvironmentError. */
  connect(ports: readonly PortSpec[], signal?: AbortSignal): Promise<void>;
  /** One trial: learning → clear → traffic → stop → drain → counters. No search inside. */
  runTrial(spec: TrialSpec, signal?: AbortSignal, onProgress?: (c: LiveCounters) => void, hooks?: TrialHooks): Promise<TrialResult>;
  /** Present exactly when capabilities().continuous is true. */
  startContinuous?(spec: TrafficSpec, signal?: AbortSignal): Promise<ContinuousRun>;
  /** Release everything. Idempotent; safe after a failed connect. */
  close(): Promise<void>;
}

/** L1 line rate in frames per second for a frame size (bytes incl. FCS): 20 B preamble + IFG per frame. */
export function lineRateFps(speedMbps: number, frameSize: number): number {
  return (speedMbps * 1e6) / ((frameSize + 20) * 8);
}

/** Bytes of outer headers a tunnel type puts in front of the inner frame: Ethernet + IPv4 + UDP + VXLAN/GENEVE (no options), or Ethernet + IPv4 + GRE. */
export function tunnelHeaderBytes(type: TunnelType): number {
  return 14 + 20 + (type === 'gre' ? 4 : 8 + 8);
}

/**
 * Bytes a generator sends beyond the stream's frame size: the outer headers of a decapsulation stream
 * (it sends them, the switch takes them off), else 0. Line rate at the generator's port counts them.
 */
export function tunnelOverheadBytes(stream: Pick<StreamSpec, 'tunnel'>): number {
  return stream.tunnel?.operation === 'decapsulation' ? tunnelHeaderBytes(stream.tunnel.type) : 0;
}

/** Resolve a Rate to frames per second at a port speed and frame size. */
export function rateToFps(rate: Rate, speedMbps: number, frameSize: number): number {
  return rate.unit === 'fps' ? rate.value : (rate.value / 100) * lineRateFps(speedMbps, frameSize);
}

/** Average frame size (bytes incl. FCS) of an RFC 6985 IMIX genome. */
export const IMIX_SIZES: Readonly<Record<string, number>> = { a: 64, b: 128, c: 256, d: 512, e: 1024, f: 1280, g: 1518, h: 9000 };
export function imixAverage(genome: string): number {
  let sum = 0;
  for (const ch of genome) {
    const s = IMIX_SIZES[ch];
    if (s === undefined) throw new RangeError(`IMIX genome letter '${ch}' is not one of ${Object.keys(IMIX_SIZES).join('')}`);
    sum += s;
  }
  return genome.length ? sum / genome.length : 0;
}

/**
 * TrialResult.info key: a busy-polling generator's busiest core, as the share (%) of its polling rounds
 * that moved frames. Such a generator's threads use 100 % of their CPU whatever the load, so the validity
 * verdict takes this figure instead of their CPU time ("generator-saturated" at ≥ generator_thread_pct).
 */
export const GENERATOR_BUSY_INFO = 'generatorBusyPct';
