import type { Settings, JsonObject } from '../config/settings.js';
import type { StreamSpec, TrafficSpec, Rate, TunnelSpec } from '../api/trafficgen.js';

/** VSPERF's string booleans ('True', 'No'…) and real booleans. */
export function truthy(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  return typeof v === 'string' && /^(true|yes|1)$/i.test(v);
}

const ZERO_MAC = '00:00:00:00:00:00';

/**
 * VSPERF's default MACs are all zero, and its TRex driver then substitutes the port MACs. A zero source
 * MAC is dropped by a Linux bridge (pvp guests) and by MAC learning, so we substitute locally
 * administered unicast addresses the same way; explicitly set MACs are kept.
 */
export function frameMacs(srcMac: string, dstMac: string): { srcMac: string; dstMac: string } {
  if (srcMac === ZERO_MAC && dstMac === ZERO_MAC) return { srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02' };
  return { srcMac, dstMac };
}

/** The TRAFFIC dict of a testcase as a typed stream for one frame size. */
export function streamFromSettings(settings: Settings, frameSize: number): StreamSpec {
  const t = settings.get<JsonObject>('TRAFFIC');
  const l2 = (t.l2 ?? {}) as JsonObject;
  const l3 = (t.l3 ?? {}) as JsonObject;
  const l4 = (t.l4 ?? {}) as JsonObject;
  const vlan = (t.vlan ?? {}) as JsonObject;
  const imix = (t.imix ?? {}) as JsonObject;
  const srcIp = String(l3.srcip ?? '1.1.1.1');
  return {
    frameSize,
    ...(truthy(imix.enabled) ? { imixGenome: String(imix.genome ?? 'aaaaaaaddddg') } : {}),
    l2: frameMacs(String(l2.srcmac ?? ZERO_MAC), String(l2.dstmac ?? ZERO_MAC)),
    l3: {
      enabled: truthy(l3.enabled ?? true),
      version: srcIp.includes(':') ? 6 : 4,
      proto: 'udp',
      srcIp,
      dstIp: String(l3.dstip ?? '90.90.90.90'),
    },
    l4: { enabled: truthy(l4.enabled ?? true), srcPort: Number(l4.srcport ?? 3000), dstPort: Number(l4.dstport ?? 3001) },
    vlan: { enabled: truthy(vlan.enabled), id: Number(vlan.id ?? 0), priority: Number(vlan.priority ?? 0), cfi: Number(vlan.cfi ?? 0) },
    multistream: Number(t.multistream ?? 0),
    streamType: (String(t.stream_type ?? 'L4').toUpperCase() as StreamSpec['streamType']) ?? 'L4',
    ...(t.tunnel ? { tunnel: t.tunnel as unknown as TunnelSpec } : {}),
  };
}

export function trafficFromSettings(settings: Settings, frameSize: number, rate: Rate): TrafficSpec {
  const t = settings.get<JsonObject>('TRAFFIC');
  return {
    stream: streamFromSettings(settings, frameSize),
    bidir: truthy(t.bidir),
    rate,
    latency: true,
  };
}

/** Frame sizes to test: TRAFFICGEN_PKT_SIZES (VSPERF), as numbers. */
export function frameSizes(settings: Settings): number[] {
  const v = settings.get('TRAFFICGEN_PKT_SIZES');
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => Number(x));
}
