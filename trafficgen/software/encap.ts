/**
 * Outer headers of an encapsulated stream (VSPERF overlay decapsulation: the generator sends tunnelled
 * frames, the switch decapsulates): Ethernet + IPv4 + UDP + VXLAN (RFC 7348) or GENEVE (RFC 8926), or
 * IPv4 + GRE (RFC 2784, Transparent Ethernet Bridging). The engine copies these bytes before each
 * frame and fills in the outer IPv4 total length, its checksum and the outer UDP length; the stream's
 * frame size stays the inner frame's (the engine is given the outer size). Pure: no I/O.
 */
import { UsageError } from '../../framework/errors.js';
import { tunnelHeaderBytes, type TunnelSpec, type TunnelType } from '../../framework/api/trafficgen.js';

export type { TunnelType };

/** A stream's outer headers (TunnelSpec.outer) with the tunnel type; UDP ports default to VXLAN 4789, GENEVE 6081. */
export interface Encapsulation extends NonNullable<TunnelSpec['outer']> {
  readonly type: TunnelType;
}

/** Bytes the outer headers add to each frame. */
export const encapLength = tunnelHeaderBytes;

function mac(s: string, what: string): number[] {
  if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(s)) throw new UsageError(`tunnel ${what} ${JSON.stringify(s)} is not a MAC address`);
  return s.split(':').map((x) => parseInt(x, 16));
}

function ipv4(s: string, what: string): number[] {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  const b = m ? m.slice(1).map(Number) : [];
  if (!m || b.some((x) => x > 255)) throw new UsageError(`tunnel ${what} ${JSON.stringify(s)} is not an IPv4 address`);
  return b;
}

const u16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];

/** The outer header bytes as the engine's `encap=` hex string. */
export function encapHeader(e: Encapsulation): string {
  const vni = e.vni ?? 0;
  if (!Number.isInteger(vni) || vni < 0 || vni > 0xffffff) throw new UsageError(`tunnel VNI ${vni} is not a 24-bit number`);
  const eth = [...mac(e.dstMac, 'dstmac'), ...mac(e.srcMac, 'srcmac'), 0x08, 0x00];
  const proto = e.type === 'gre' ? 47 : 17;
  // Lengths and checksum are zero here: the engine sets them per frame.
  const ip = [0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, proto, 0, 0, ...ipv4(e.srcIp, 'srcip'), ...ipv4(e.dstIp, 'dstip')];
  let tunnel: number[];
  if (e.type === 'gre') tunnel = [0, 0, ...u16(0x6558)];
  else {
    const dport = e.dstPort ?? (e.type === 'vxlan' ? 4789 : 6081);
    const sport = e.srcPort ?? dport;
    const udp = [...u16(sport), ...u16(dport), 0, 0, 0, 0];
    const vniBytes = [(vni >> 16) & 0xff, (vni >> 8) & 0xff, vni & 0xff];
    tunnel = e.type === 'vxlan' ? [...udp, 0x08, 0, 0, 0, ...vniBytes, 0] : [...udp, 0, 0, ...u16(0x6558), ...vniBytes, 0];
  }
  return Buffer.from([...eth, ...ip, ...tunnel]).toString('hex');
}
