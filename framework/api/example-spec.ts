/**
 * A plain, valid trial: one UDP/IPv4 flow of 64-byte frames from port 0 to port 1 for 1 s at 10 kfps.
 * For conformance kits, tests and benchmarks, which override only what they are about.
 */
import type { StreamSpec, TrialSpec } from './trafficgen.js';

export function basicStream(over: Partial<StreamSpec> = {}): StreamSpec {
  return {
    frameSize: 64,
    l2: { srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02' },
    l3: { enabled: true, version: 4, proto: 'udp', srcIp: '10.0.0.1', dstIp: '10.0.0.2' },
    l4: { enabled: true, srcPort: 3000, dstPort: 3001 },
    vlan: { enabled: false, id: 0, priority: 0, cfi: 0 },
    multistream: 0,
    streamType: 'L4',
    ...over,
  };
}

/** `over` replaces top-level fields; `stream` is merged into the basic stream. */
export function basicTrialSpec(over: Partial<TrialSpec> = {}, stream: Partial<StreamSpec> = {}): TrialSpec {
  return {
    stream: basicStream(stream),
    bidir: false,
    rate: { unit: 'fps', value: 10_000 },
    latency: true,
    durationS: 1,
    ...over,
  };
}
