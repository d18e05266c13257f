import type { Settings, JsonObject } from '../config/settings.js';
import type { StreamSpec, TrafficSpec, Rate } from '../../trafficgen/types.js';

/** VSPERF's string booleans ('True', 'No'…) and real booleans. */
export function truthy(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  return typeof v === 'string' && /^(true|yes|1)$/i.test(v);
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
    l2: { srcMac: String(l2.srcmac ?? '00:00:00:00:00:00'), dstMac: String(l2.dstmac ?? '00:00:00:00:00:00') },
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
