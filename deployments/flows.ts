/**
 * Pure flow building: VSPERF's connection flows (port, IP, pre-installed multistream L2/L3/L4 flows),
 * frame modification actions, and the OpenFlow text `ovs-ofctl add-flow(s)` takes. No I/O here.
 */
import { ConfigError, UsageError } from '../framework/errors.js';
import type { JsonObject } from '../framework/config/settings.js';
import type { FlowMatch, FlowSpec } from '../framework/api/deployment.js';

/** The part of VSPERF's TRAFFIC dict that shapes switch flows. */
export interface ConnectionTraffic {
  /** `pre_installed_flows`: one flow per stream instead of one per port. */
  readonly preInstalledFlows: boolean;
  readonly multistream: number;
  readonly streamType: 'L2' | 'L3' | 'L4';
  /** `flow_type`: 'port' matches in_port only, 'ip' also nw_src/nw_dst (VSPERF). */
  readonly flowType: 'port' | 'ip';
  readonly dstMac: string;
  readonly srcIp: string;
  readonly dstIp: string;
  readonly proto: 'udp' | 'tcp';
  readonly dstPort: number;
}

const PROTO_NUM = { udp: 17, tcp: 6 } as const;

function isTrue(v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  return typeof v === 'string' && /^(true|yes|1)$/i.test(v);
}

/** TRAFFIC (VSPERF names) → ConnectionTraffic. `source` names where TRAFFIC came from, for errors. */
export function connectionTraffic(t: JsonObject, source = 'TRAFFIC'): ConnectionTraffic {
  const l2 = (t.l2 ?? {}) as JsonObject;
  const l3 = (t.l3 ?? {}) as JsonObject;
  const l4 = (t.l4 ?? {}) as JsonObject;
  const streamType = String(t.stream_type ?? 'L4').toUpperCase();
  if (streamType !== 'L2' && streamType !== 'L3' && streamType !== 'L4') {
    throw new ConfigError('TRAFFIC.stream_type', source, `must be L2, L3 or L4, got ${JSON.stringify(t.stream_type)}`);
  }
  const flowType = String(t.flow_type ?? 'port').toLowerCase();
  if (flowType !== 'port' && flowType !== 'ip') {
    throw new ConfigError('TRAFFIC.flow_type', source, `must be "port" or "IP", got ${JSON.stringify(t.flow_type)}`);
  }
  const proto = String(l3.proto ?? 'udp').toLowerCase();
  if (proto !== 'udp' && proto !== 'tcp') throw new ConfigError('TRAFFIC.l3.proto', source, `must be udp or tcp, got ${JSON.stringify(l3.proto)}`);
  const multistream = Number(t.multistream ?? 0);
  if (!Number.isInteger(multistream) || multistream < 0)
    throw new ConfigError('TRAFFIC.multistream', source, `must be a non-negative integer, got ${JSON.stringify(t.multistream)}`);
  return {
    preInstalledFlows: isTrue(t.pre_installed_flows ?? 'No'),
    multistream,
    streamType,
    flowType,
    dstMac: String(l2.dstmac ?? '00:00:00:00:00:00'),
    srcIp: String(l3.srcip ?? '1.1.1.1'),
    dstIp: String(l3.dstip ?? '90.90.90.90'),
    proto,
    dstPort: Number(l4.dstport ?? 3001),
  };
}

/** MAC (colon form) plus an offset, wrapping at 2^48. */
export function macAdd(mac: string, n: number): string {
  const hex = mac.toLowerCase().split(/[:-]/);
  if (hex.length !== 6 || hex.some((h) => !/^[0-9a-f]{1,2}$/.test(h))) throw new UsageError(`not a MAC address: "${mac}"`);
  let v = BigInt('0x' + hex.map((h) => h.padStart(2, '0')).join(''));
  v = (v + BigInt(n)) & 0xffffffffffffn;
  const s = v.toString(16).padStart(12, '0');
  return s.match(/../g)!.join(':');
}

/** IPv4 plus an offset, wrapping at 2^32. */
export function ipAdd(ip: string, n: number): string {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new UsageError(`not an IPv4 address: "${ip}"`);
  const v = (parts.reduce((a, p) => a * 256 + Number(p), 0) + n) % 2 ** 32;
  return [24, 16, 8, 0].map((sh) => Math.floor(v / 2 ** sh) % 256).join('.');
}

/**
 * Flows for one connection port1 → port2, like VSPERF's `_prepare_flows('add', …)`: with
 * pre_installed_flows one flow per stream (dst MAC / dst IP / UDP dst port + stream index), with
 * flow_type 'ip' a flow matching the IP pair, else a plain port flow. `traffic` undefined = port flow
 * (VSPERF connects guest-side ports without traffic options).
 */
export function connectionFlows(inPort: number, outPort: number, traffic?: ConnectionTraffic, modActions?: readonly string[]): FlowSpec[] {
  const mods = modActions && modActions.length ? { modActions } : {};
  if (traffic && traffic.preInstalledFlows && traffic.multistream > 0) {
    const flows: FlowSpec[] = [];
    for (let s = 0; s < traffic.multistream; s++) {
      let match: FlowMatch;
      if (traffic.streamType === 'L2') match = { inPort, dlDst: macAdd(traffic.dstMac, s) };
      else if (traffic.streamType === 'L3') match = { inPort, dlType: 0x0800, nwDst: ipAdd(traffic.dstIp, s) };
      else match = { inPort, dlType: 0x0800, nwProto: PROTO_NUM[traffic.proto], tpDst: (traffic.dstPort + s) % 65536 };
      flows.push({ type: 'match', match, outPorts: [outPort], ...mods });
    }
    return flows;
  }
  if (traffic && traffic.flowType === 'ip') {
    return [{ type: 'match', match: { inPort, dlType: 0x0800, nwSrc: traffic.srcIp, nwDst: traffic.dstIp }, outPorts: [outPort], ...mods }];
  }
  return [{ type: 'port', inPort, outPorts: [outPort], ...mods }];
}

/** VSPERF's "Frame Modification" kinds. */
export const FRAME_MODIFICATIONS = ['vlan', 'mpls', 'mac', 'dscp', 'ttl', 'ip_addr', 'ip_port'] as const;
export type FrameModification = (typeof FRAME_MODIFICATIONS)[number];

export function parseFrameModification(v: unknown, source = 'FRAME_MOD'): FrameModification | undefined {
  if (v === undefined || v === null || v === '' || v === false) return undefined;
  const s = String(v).toLowerCase();
  if ((FRAME_MODIFICATIONS as readonly string[]).includes(s)) return s as FrameModification;
  throw new ConfigError('FRAME_MOD', source, `must be one of ${FRAME_MODIFICATIONS.join(', ')} (or empty), got ${JSON.stringify(v)}`);
}

/**
 * Header modification actions applied before output, per direction (`forward` = generator port 0 → 1),
 * with the values VSPERF's testcase uses (push VLAN with VID 0 / MPLS, fixed MACs, DSCP 184 (EF),
 * TTL 251/241, IPs 10.10.10.10 ↔ 20.20.20.20, L4 ports 44444). Needs OpenFlow 1.3 for push_vlan/push_mpls.
 * `dl_type` matches that VSPERF adds for IP rewrites are returned in `match`.
 */
export function frameModActions(mod: FrameModification, forward: boolean): { actions: string[]; match?: Partial<FlowMatch> } {
  switch (mod) {
    case 'vlan':
      return { actions: ['push_vlan:0x8100'] };
    case 'mpls':
      return { actions: ['push_mpls:0x8847'] };
    case 'mac':
      return { actions: [forward ? 'mod_dl_src:22:22:22:22:22:22' : 'mod_dl_src:11:11:11:11:11:11'] };
    case 'dscp':
      return { actions: ['mod_nw_tos:184'], match: { dlType: 0x0800 } };
    case 'ttl':
      return { actions: [forward ? 'mod_nw_ttl:251' : 'mod_nw_ttl:241'], match: { dlType: 0x0800 } };
    case 'ip_addr':
      return {
        actions: forward ? ['mod_nw_src:10.10.10.10', 'mod_nw_dst:20.20.20.20'] : ['mod_nw_src:20.20.20.20', 'mod_nw_dst:10.10.10.10'],
        match: { dlType: 0x0800 },
      };
    case 'ip_port':
      return { actions: ['mod_tp_src:44444', 'mod_tp_dst:44444'], match: { dlType: 0x0800, nwProto: 17 } };
  }
}

/** Flows of one direction with a frame modification folded in (match fields merged, actions prefixed). */
export function withFrameMod(flows: readonly FlowSpec[], mod: FrameModification | undefined, forward: boolean): FlowSpec[] {
  if (!mod) return [...flows];
  const { actions, match } = frameModActions(mod, forward);
  return flows.map((f): FlowSpec => {
    if (f.type === 'raw') return f;
    const m: FlowMatch = f.type === 'port' ? { inPort: f.inPort } : f.match;
    // The flow's own match fields win; the modification only fills in what it needs (dl_type…).
    const merged: FlowMatch = { ...(match ?? {}), ...m };
    const hasMatch = Object.keys(merged).length > 1;
    return hasMatch
      ? { type: 'match', match: merged, outPorts: f.outPorts, modActions: [...actions, ...(f.modActions ?? [])] }
      : { type: 'port', inPort: m.inPort, outPorts: f.outPorts, modActions: [...actions, ...(f.modActions ?? [])] };
  });
}

const SAFE_VALUE = /^[0-9A-Za-z:._/-]+$/;

function field(k: string, v: string | number): string {
  const s = String(v);
  if (!SAFE_VALUE.test(s)) throw new UsageError(`unsafe flow field ${k}=${JSON.stringify(s)}`);
  return `${k}=${s}`;
}

/**
 * One flow as `ovs-ofctl add-flow` text. `template` adds VSPERF's OVS_FLOW_TEMPLATE fields
 * (idle_timeout=0 …). Values are checked against a conservative character set: a flow line can never
 * smuggle another flow or option.
 */
export function flowText(f: FlowSpec, template: Readonly<Record<string, string | number>> = {}): string {
  if (f.type === 'raw') {
    if (/[\n\r]/.test(f.flow)) throw new UsageError('raw flow must be a single line');
    return f.flow;
  }
  const parts: string[] = [];
  for (const [k, v] of Object.entries(template)) parts.push(field(k, v));
  if (f.type === 'match' && f.priority !== undefined) parts.push(field('priority', f.priority));
  const m: FlowMatch = f.type === 'port' ? { inPort: f.inPort } : f.match;
  parts.push(field('in_port', m.inPort));
  if (m.dlSrc !== undefined) parts.push(field('dl_src', m.dlSrc));
  if (m.dlDst !== undefined) parts.push(field('dl_dst', m.dlDst));
  if (m.dlType !== undefined) parts.push(field('dl_type', '0x' + m.dlType.toString(16).padStart(4, '0')));
  if (m.nwSrc !== undefined) parts.push(field('nw_src', m.nwSrc));
  if (m.nwDst !== undefined) parts.push(field('nw_dst', m.nwDst));
  if (m.nwProto !== undefined) parts.push(field('nw_proto', m.nwProto));
  if (m.tpSrc !== undefined) parts.push(field('tp_src', m.tpSrc));
  if (m.tpDst !== undefined) parts.push(field('tp_dst', m.tpDst));
  const actions = [...(f.modActions ?? []), ...f.outPorts.map((p) => `output:${p}`)];
  for (const a of actions) if (!SAFE_VALUE.test(a)) throw new UsageError(`unsafe flow action ${JSON.stringify(a)}`);
  return `${parts.join(',')},actions=${actions.join(',')}`;
}
