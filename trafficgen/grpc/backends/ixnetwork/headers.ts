/**
 * The packet headers of one traffic direction as IxNetwork stack fields (pure; no I/O).
 *
 * A raw traffic item's config element starts with an `ethernet` stack; `vlan`, `ipv4`/`ipv6` and `udp`
 * are appended from `traffic/protocolTemplate` in that order. Each header value is written to a field
 * of its stack, addressed by `fieldTypeId` (the part of VSPERF's field aliases before the `-N` index):
 *   ethernet.header.destinationAddress / sourceAddress       (VSPERF 3rd_party/ixia/ixnetrfc2544.tcl)
 *   vlan.header.vlanTag.vlanUserPriority / cfi / vlanID      (same file, "vlan-N" stack)
 *   ipv4.header.srcIp / dstIp, ipv6.header.srcIP / dstIP     (tcl; IPv6: restpy …/configelement/stack/ipv6_template.py)
 *   udp.header.srcPort / dstPort                             (same file, "udp-N" stack)
 * Field attribute names and the valueType enum (singleValue | increment | valueList, with startValue,
 * stepValue, countValue, all strings) are restpy's `traffic/trafficItem/configElement/stack/field`.
 *
 * Multistream follows VSPERF's stream_type as the tcl script does (L2: MAC, L3: IP `increment` with
 * countValue = flows, L4: UDP port `increment`), varying the destination field by one per flow, which
 * is what the Software generator's engine does too (trafficgen/software/engine/frame.c apply_flow).
 */
import { isIP } from 'node:net';
import type { StreamSpec } from '../../../../framework/api/trafficgen.js';

export type StackType = 'ethernet' | 'vlan' | 'ipv4' | 'ipv6' | 'udp';

/** The body of a `PATCH …/stack/{s}/field/{f}`. */
export type FieldValue =
  | { readonly valueType: 'singleValue'; readonly singleValue: string; readonly auto: false }
  | { readonly valueType: 'increment'; readonly startValue: string; readonly stepValue: string; readonly countValue: string; readonly auto: false }
  | { readonly valueType: 'valueList'; readonly valueList: readonly string[]; readonly auto: false };

export interface FieldPlan {
  readonly fieldTypeId: string;
  readonly value: FieldValue;
}

export interface StackPlan {
  readonly stackTypeId: StackType;
  readonly fields: readonly FieldPlan[];
}

/** One direction's addresses (the reverse direction swaps them, as the Software generator does). */
export function reverseStream(s: StreamSpec): StreamSpec {
  return {
    ...s,
    l2: { srcMac: s.l2.dstMac, dstMac: s.l2.srcMac },
    l3: { ...s.l3, srcIp: s.l3.dstIp, dstIp: s.l3.srcIp },
    l4: { ...s.l4, srcPort: s.l4.dstPort, dstPort: s.l4.srcPort },
  };
}

/** Largest valueList the backend sends when an increment would wrap (beyond it: refused). */
export const MAX_VALUE_LIST = 4096;

export class HeaderPlanError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'HeaderPlanError';
  }
}

const single = (v: string): FieldValue => ({ valueType: 'singleValue', singleValue: v, auto: false });

// ---------------------------------------------------------------- address arithmetic (bigint)

function macToBig(mac: string): bigint {
  return BigInt(`0x${mac.replace(/:/g, '')}`);
}
function bigToMac(v: bigint): string {
  return v.toString(16).padStart(12, '0').match(/../g)!.join(':');
}
function ipv4ToBig(ip: string): bigint {
  return ip.split('.').reduce((a, o) => (a << 8n) | BigInt(Number(o)), 0n);
}
function bigToIpv4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String(Number((v >> s) & 255n))).join('.');
}
function ipv6ToBig(ip: string): bigint {
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((a, g) => (a << 16n) | BigInt(`0x${g || '0'}`), 0n);
}
function bigToIpv6(v: bigint): string {
  const g: string[] = [];
  for (let i = 7; i >= 0; i--) g.push(((v >> BigInt(i * 16)) & 0xffffn).toString(16));
  return g.join(':');
}

interface Kind {
  readonly bits: number;
  parse(s: string): bigint;
  format(v: bigint): string;
  /** stepValue 1 in the field's own notation. */
  readonly one: string;
}
const MAC: Kind = { bits: 48, parse: macToBig, format: bigToMac, one: '00:00:00:00:00:01' };
const IPV4: Kind = { bits: 32, parse: ipv4ToBig, format: bigToIpv4, one: '0.0.0.1' };
const IPV6: Kind = { bits: 128, parse: ipv6ToBig, format: bigToIpv6, one: '0:0:0:0:0:0:0:1' };
const PORT: Kind = { bits: 16, parse: (s) => BigInt(s), format: (v) => String(v), one: '1' };

/**
 * The destination field of a multistream: `increment` by one per flow; when that would wrap the field,
 * the wrapped values as a `valueList` (the Software engine wraps too); a port range covering every
 * port is one full increment.
 */
function varied(kind: Kind, start: string, flows: number, field: string): FieldValue {
  const size = 1n << BigInt(kind.bits);
  const s = kind.parse(start);
  const n = BigInt(flows);
  if (n >= size) return { valueType: 'increment', startValue: kind.format(0n), stepValue: kind.one, countValue: String(size), auto: false };
  if (s + n - 1n < size) return { valueType: 'increment', startValue: kind.format(s), stepValue: kind.one, countValue: String(flows), auto: false };
  if (flows > MAX_VALUE_LIST)
    throw new HeaderPlanError(field, `${flows} flows from ${start} wrap the field; at most ${MAX_VALUE_LIST} wrapping flows are programmed (start lower)`);
  const list: string[] = [];
  for (let i = 0n; i < n; i++) list.push(kind.format((s + i) % size));
  return { valueType: 'valueList', valueList: list, auto: false };
}

/** The stacks of one direction, in order, with the value of every field the trial sets. */
export function headerPlan(s: StreamSpec): StackPlan[] {
  const flows = s.multistream > 1 ? s.multistream : 1;
  const vary = flows > 1 ? s.streamType : undefined;
  const stacks: StackPlan[] = [
    {
      stackTypeId: 'ethernet',
      fields: [
        {
          fieldTypeId: 'ethernet.header.destinationAddress',
          value: vary === 'L2' ? varied(MAC, s.l2.dstMac, flows, 'l2.dst_mac') : single(s.l2.dstMac.toLowerCase()),
        },
        { fieldTypeId: 'ethernet.header.sourceAddress', value: single(s.l2.srcMac.toLowerCase()) },
      ],
    },
  ];
  if (s.vlan.enabled) {
    stacks.push({
      stackTypeId: 'vlan',
      fields: [
        { fieldTypeId: 'vlan.header.vlanTag.vlanUserPriority', value: single(String(s.vlan.priority)) },
        { fieldTypeId: 'vlan.header.vlanTag.cfi', value: single(String(s.vlan.cfi)) },
        { fieldTypeId: 'vlan.header.vlanTag.vlanID', value: single(String(s.vlan.id)) },
      ],
    });
  }
  if (s.l3.enabled) {
    const v6 = s.l3.version === 6;
    if (isIP(s.l3.srcIp) !== s.l3.version || isIP(s.l3.dstIp) !== s.l3.version)
      throw new HeaderPlanError('l3', `addresses ${s.l3.srcIp} → ${s.l3.dstIp} are not IPv${s.l3.version}`);
    const kind = v6 ? IPV6 : IPV4;
    const norm = (ip: string): string => kind.format(kind.parse(ip));
    const [src, dst] = v6 ? ['ipv6.header.srcIP', 'ipv6.header.dstIP'] : ['ipv4.header.srcIp', 'ipv4.header.dstIp'];
    stacks.push({
      stackTypeId: v6 ? 'ipv6' : 'ipv4',
      fields: [
        { fieldTypeId: src, value: single(norm(s.l3.srcIp)) },
        { fieldTypeId: dst, value: vary === 'L3' ? varied(kind, norm(s.l3.dstIp), flows, 'l3.dst_ip') : single(norm(s.l3.dstIp)) },
      ],
    });
    if (s.l4.enabled) {
      stacks.push({
        stackTypeId: 'udp',
        fields: [
          { fieldTypeId: 'udp.header.srcPort', value: single(String(s.l4.srcPort)) },
          { fieldTypeId: 'udp.header.dstPort', value: vary === 'L4' ? varied(PORT, String(s.l4.dstPort), flows, 'l4.dst_port') : single(String(s.l4.dstPort)) },
        ],
      });
    }
  }
  return stacks;
}

/** One line per header for humans (dry run, logs): "ipv4 srcIp=1.1.1.1 dstIp=90.90.90.90+1×4". */
export function describePlan(stacks: readonly StackPlan[]): string[] {
  return stacks.map((st) => {
    const parts = st.fields.map((f) => {
      const name = f.fieldTypeId.split('.').pop()!;
      const v = f.value;
      if (v.valueType === 'singleValue') return `${name}=${v.singleValue}`;
      if (v.valueType === 'increment') return `${name}=${v.startValue} increment ${v.stepValue} ×${v.countValue}`;
      return `${name}=valueList[${v.valueList.length}] ${v.valueList.slice(0, 2).join(',')}…`;
    });
    return `${st.stackTypeId.padEnd(8)} ${parts.join('  ')}`;
  });
}
