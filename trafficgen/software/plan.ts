/**
 * TrialSpec → engine plan: wire frame sizes, streams per direction, offered rate; and the input checks
 * (frame size vs MTU and trailer, rate vs line rate) that must fail before anything is started.
 */
import { DriverError } from '../../framework/errors.js';
import type { PortSpec, StreamSpec, TrafficSpec } from '../../framework/api/trafficgen.js';
import { IMIX_SIZES, lineRateFps, rateToFps, tunnelOverheadBytes } from '../../framework/api/trafficgen.js';
import type { Backend, EnginePlan, EngineStream } from './protocol.js';
import { dpdkDevargs } from './dpdk.js';
import { encapHeader } from './encap.js';

/** Bytes the engine puts at the end of every frame: magic, run tag, stream id, sequence, 48-bit TX timestamp. */
export const TRAILER_BYTES = 14;
export const FCS_BYTES = 4;
/** Largest frame incl. FCS: the engine's VSG_MAX_FRAME + FCS (16 KiB; the port's MTU limits it further). */
export const MAX_FRAME_SIZE = 16384;

/** Frame sizes (bytes incl. FCS) of one period of the stream: one size, or the IMIX genome in order. */
export function frameSizesOf(stream: StreamSpec): number[] {
  if (!stream.imixGenome) return [stream.frameSize];
  const out: number[] = [];
  for (const ch of stream.imixGenome) {
    const s = IMIX_SIZES[ch];
    if (s === undefined)
      throw new DriverError('Software', 'runTrial', `IMIX genome letter '${ch}' is not one of ${Object.keys(IMIX_SIZES).join('')}`, { kind: 'usage' });
    out.push(s);
  }
  if (out.length === 0) throw new DriverError('Software', 'runTrial', 'empty IMIX genome', { kind: 'usage' });
  if (out.length > 256) throw new DriverError('Software', 'runTrial', `IMIX genome of ${out.length} letters is longer than 256`, { kind: 'usage' });
  return out;
}

/** Smallest frame (incl. FCS) that holds the headers and the trailer (the inner frame of a tunnelled stream). */
export function minFrameSize(stream: StreamSpec): number {
  let n = 14 + (stream.vlan.enabled ? 4 : 0);
  if (stream.l3.enabled) n += (stream.l3.version === 6 ? 40 : 20) + (stream.l4.enabled ? 8 : 0);
  return Math.max(64, n + TRAILER_BYTES + FCS_BYTES);
}

/** L3 MTU a frame (incl. FCS) needs. */
export function mtuNeeded(frameSize: number, vlan: boolean): number {
  return frameSize - FCS_BYTES - 14 - (vlan ? 4 : 0);
}

export interface PlanPort extends PortSpec {
  /** MTU found by connect(). */
  readonly mtuFound: number;
}

export interface PlanOptions {
  readonly backend: Backend;
  readonly drainS: number;
  readonly progressMs: number;
  readonly learningFps: number;
  readonly cpus?: readonly number[];
  readonly batch?: number;
  readonly ringFrames?: number;
  readonly rtPriority?: number;
  /** dpdk backend: queues per port. */
  readonly queues?: number;
  /** dpdk backend: paced frames leave in bursts of this many, or once the oldest waited txBurstWaitUs. */
  readonly txBurst?: number;
  readonly txBurstWaitUs?: number;
}

export interface TrialBounds {
  readonly durationS?: number;
  readonly frames?: number;
  readonly learningS?: number;
  readonly drainS?: number;
}

const op = 'runTrial';

/** Check a trial against the ports; returns the offered rate per direction (fps) and the sizes the generator sends (outer for decapsulation). */
export function checkTrial(spec: TrafficSpec & TrialBounds, ports: readonly PlanPort[]): { offeredFps: number; avgFrameSize: number; sizes: number[] } {
  const st = spec.stream;
  if (ports.length === 0) throw new DriverError('Software', op, 'not connected (call connect() first)', { kind: 'usage' });
  if (spec.bidir && ports.length < 2) throw new DriverError('Software', op, 'a bidirectional trial needs two ports', { kind: 'usage' });
  if ((spec.durationS === undefined) === (spec.frames === undefined))
    throw new DriverError('Software', op, 'give exactly one of durationS and frames', { kind: 'usage' });
  if (spec.durationS !== undefined && !(spec.durationS > 0))
    throw new DriverError('Software', op, `durationS must be > 0, got ${spec.durationS}`, { kind: 'usage' });
  if (spec.frames !== undefined && !(Number.isInteger(spec.frames) && spec.frames > 0))
    throw new DriverError('Software', op, `frames must be a positive integer, got ${spec.frames}`, { kind: 'usage' });
  const min = minFrameSize(st);
  // Decapsulation: the generator sends the outer headers in front of each (inner) frame.
  const overhead = tunnelOverheadBytes(st);
  for (const s of frameSizesOf(st))
    if (!Number.isInteger(s) || s < min)
      throw new DriverError(
        'Software',
        op,
        `frame size ${s} B is below the minimum of ${min} B for this stream (headers + ${TRAILER_BYTES}-byte trailer + FCS)`,
        { kind: 'usage' },
      );
  const sizes = frameSizesOf(st).map((s) => s + overhead);
  for (const s of sizes) {
    if (s > MAX_FRAME_SIZE) throw new DriverError('Software', op, `frame size ${s} B is above the maximum of ${MAX_FRAME_SIZE} B`, { kind: 'usage' });
    const used = spec.bidir ? ports.slice(0, 2) : ports.slice(0, 1);
    for (const p of used) {
      const need = mtuNeeded(s, st.vlan.enabled);
      if (need > p.mtuFound)
        throw new DriverError(
          'Software',
          op,
          `frame size ${s} B${overhead ? ` (${s - overhead} B inside ${overhead} B of outer headers)` : ''} is larger than port ${p.name} allows: it needs MTU ${need}, the interface has MTU ${p.mtuFound}`,
          { kind: 'usage' },
        );
    }
  }
  const avg = sizes.reduce((a, b) => a + b, 0) / sizes.length;
  const speed = ports[0]!.speedMbps;
  const offered = rateToFps(spec.rate, speed, avg);
  if (!(offered > 0) || !Number.isFinite(offered))
    throw new DriverError('Software', op, `rate must be > 0, got ${JSON.stringify(spec.rate)}`, { kind: 'usage' });
  const line = lineRateFps(speed, avg);
  if (offered > line * 1.000001)
    throw new DriverError(
      'Software',
      op,
      `rate ${Math.round(offered)} fps is above the line rate of ${Math.round(line)} fps (${speed} Mbit/s at ${avg} B frames)`,
      { kind: 'usage' },
    );
  return { offeredFps: offered, avgFrameSize: avg, sizes };
}

/** Outer header bytes of a decapsulation stream (the switch takes them off); undefined otherwise. */
function encap(st: StreamSpec): string | undefined {
  const t = st.tunnel;
  if (t?.operation !== 'decapsulation') return undefined;
  if (!t.outer) throw new DriverError('Software', op, `a ${t.type} decapsulation stream needs its outer headers (StreamSpec.tunnel.outer)`, { kind: 'usage' });
  return encapHeader({ type: t.type, ...t.outer });
}

const VARY: Record<StreamSpec['streamType'], EngineStream['vary']> = { L2: 'l2', L3: 'l3', L4: 'l4' };

/** The engine plan of one trial: stream 0 is port 0 → 1 (or 0 → 0 with one port), stream 1 the reverse. */
export function buildPlan(
  spec: TrafficSpec & TrialBounds,
  ports: readonly PlanPort[],
  opts: PlanOptions,
): { plan: EnginePlan; offeredFps: number; avgFrameSize: number } {
  const { offeredFps, avgFrameSize, sizes } = checkTrial(spec, ports);
  const st = spec.stream;
  const wire = sizes.map((s) => s - FCS_BYTES);
  // Always paced at the offered rate: a rate the engine cannot reach is sent flat out by the pacing
  // loop, and never more frames than offered × duration.
  const engineRate = offeredFps;
  const outer = encap(st);
  const fwd: EngineStream = {
    txPort: 0,
    rxPort: ports.length > 1 ? 1 : 0,
    srcMac: st.l2.srcMac,
    dstMac: st.l2.dstMac,
    srcIp: st.l3.srcIp,
    dstIp: st.l3.dstIp,
    srcPort: st.l4.srcPort,
    dstPort: st.l4.dstPort,
    l3: st.l3.enabled,
    l4: st.l4.enabled,
    ...(st.vlan.enabled ? { vlan: { id: st.vlan.id, priority: st.vlan.priority, cfi: st.vlan.cfi } } : {}),
    flows: Math.max(1, st.multistream),
    vary: st.multistream > 1 ? (VARY[st.streamType] ?? 'l4') : 'none',
    rateFps: engineRate,
    sizes: wire,
    ...(outer ? { encap: outer } : {}),
  };
  const streams: EngineStream[] = [fwd];
  if (spec.bidir) {
    // The reverse direction swaps addresses and ports, as VSPERF's generators do.
    streams.push({
      ...fwd,
      txPort: 1,
      rxPort: 0,
      srcMac: fwd.dstMac,
      dstMac: fwd.srcMac,
      srcIp: fwd.dstIp,
      dstIp: fwd.srcIp,
      srcPort: fwd.dstPort,
      dstPort: fwd.srcPort,
    });
  }
  const used = ports.slice(0, Math.max(fwd.rxPort, spec.bidir ? 1 : 0) + 1);
  // the dpdk polling loops (every port a DPDK device) pace in bursts; the thread model does not
  const dpdk = used.every((p) => (p.backend ?? opts.backend) === 'dpdk');
  const plan: EnginePlan = {
    ports: used.map((p, i) => ({
      name: p.name,
      ...(p.netns ? { netns: p.netns } : {}),
      ...(p.backend ? { backend: p.backend } : {}),
      ...(p.backend === 'dpdk' ? { dev: dpdkDevargs(p, i, opts.queues) } : {}),
    })),
    streams,
    ...(spec.frames !== undefined ? { frames: spec.frames } : { durationS: spec.durationS! }),
    ...(spec.learningS ? { learningS: spec.learningS, learningFps: opts.learningFps } : {}),
    drainS: spec.drainS ?? opts.drainS,
    backend: opts.backend,
    progressMs: opts.progressMs,
    latency: spec.latency,
    ...(opts.cpus && opts.cpus.length ? { cpus: opts.cpus } : {}),
    ...(opts.batch ? { batch: opts.batch } : {}),
    ...(opts.ringFrames ? { ringFrames: opts.ringFrames } : {}),
    ...(opts.rtPriority ? { rtPriority: opts.rtPriority } : {}),
    ...(opts.queues && opts.queues > 1 ? { queues: opts.queues } : {}),
    ...(dpdk && opts.txBurst !== undefined ? { txBurst: opts.txBurst } : {}),
    ...(dpdk && opts.txBurstWaitUs !== undefined ? { txBurstWaitUs: opts.txBurstWaitUs } : {}),
  };
  return { plan, offeredFps, avgFrameSize };
}
