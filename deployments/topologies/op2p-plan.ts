/**
 * VSPERF's `op2p` deployment (overlay phy → tunnel endpoint → phy), as data: which bridge gets which
 * port, the tunnel port, the endpoint addresses on the bridges' LOCAL ports, the route and neighbour
 * entries OVS's userspace tunnelling needs, the flows, and the stream the generator sends. Pure; the
 * I/O is in op2p.ts. Layout as VSPERF's core/vswitch_controller_op2p.py sets it up:
 *
 * encapsulation: gen 0 → phy0 (integration bridge) → tunnel port (remote VTEP_IP2): OVS pushes the
 *   outer headers, routes VTEP_IP2_SUBNET out of the external bridge (source TUNNEL_EXTERNAL_BRIDGE_IP,
 *   destination MAC from the tunnel ARP entry TRAFFICGEN_PORT2_MAC) → NORMAL → phy1 → gen 1.
 * decapsulation: gen 0 sends tunnelled frames (outer dst = the external bridge's address and MAC) →
 *   phy0 → integration bridge → its LOCAL port, where OVS recognises a tunnel packet and pops the
 *   outer headers → tunnel port on the external bridge (remote TRAFFICGEN_PORT1_IP) → phy1 → gen 1.
 * decapsulation, OvsVanilla (VSPERF's _setup_decap_vanilla, the other way round): gen 0 → phy0 on the
 *   external bridge → flow to its LOCAL port (address TUNNEL_EXTERNAL_BRIDGE_IP), where the outer
 *   headers are popped → tunnel port on the integration bridge (address TUNNEL_INT_BRIDGE_IP; remote
 *   TRAFFICGEN_PORT1_IP) → NORMAL → phy1 → gen 1. VSPERF's kernel datapath pops in the host's UDP
 *   stack; this OvsVanilla runs the userspace datapath, which pops at the LOCAL port, so the same
 *   layout works. VSPERF's `arp -s TRAFFICGEN_PORT2_IP` (a kernel neighbour for the kernel datapath)
 *   has no reader here; tnl/arp/set is the userspace datapath's equivalent and is set.
 */
import { ConfigError, UsageError } from '../../framework/errors.js';
import type { Settings, JsonObject } from '../../framework/config/settings.js';
import type { FlowSpec } from '../../framework/api/deployment.js';
import { TUNNEL_TYPES, type TunnelSpec, type TunnelType } from '../../framework/api/trafficgen.js';
import { isIpv4WithPrefix, isMac } from '../../framework/util/net-address.js';

export const TUNNEL_OPERATIONS = ['encapsulation', 'decapsulation'] as const;
export type TunnelOperation = (typeof TUNNEL_OPERATIONS)[number];

/**
 * OpenFlow port numbers as VSPERF's op2p gets them (per bridge, in the order it adds ports): each phy
 * port is 1 on its bridge, the tunnel port 2 on its own (VSPERF's vxlan_multi_IP_mask_ovs steps say
 * `output:2` for the tunnel).
 */
export const OP2P_OFPORT = { phy: 1, tunnel: 2 } as const;

export interface Op2pSettings {
  readonly operation: TunnelOperation;
  readonly type: TunnelType;
  readonly intBridge: string;
  readonly extBridge: string;
  /** address/prefix on the integration bridge's LOCAL port (VTEP_IP1). */
  readonly intIp: string;
  /** address/prefix on the external bridge's LOCAL port (TUNNEL_EXTERNAL_BRIDGE_IP). */
  readonly extIp: string;
  readonly vtepIp2: string;
  /** OvsVanilla decapsulation: VSPERF's layout for the plain switch (see above), with TUNNEL_INT_BRIDGE_IP. */
  readonly vanilla: boolean;
  readonly intBridgeIp: string;
  readonly vtepSubnet: string;
  readonly vni: string;
  readonly port1: { readonly mac: string; readonly ip: string };
  readonly port2: { readonly mac: string; readonly ip: string };
  /** VSPERF's <TYPE>_FRAME_L2/L3/L4: the frames the generator sends in decapsulation tests. */
  readonly frame: { readonly l2: JsonObject; readonly l3: JsonObject; readonly l4: JsonObject };
}

export interface Op2pPlan {
  readonly bridges: readonly { readonly name: string; readonly address: string }[];
  /** Generator-facing ports: phy0 on `bridge` … */
  readonly phy: readonly { readonly bridge: string; readonly ofport: number }[];
  readonly tunnel: {
    readonly bridge: string;
    readonly name: string;
    readonly type: TunnelType;
    readonly remoteIp: string;
    readonly ofport: number;
    readonly options: Readonly<Record<string, string>>;
  };
  /** `ovs-appctl ovs/route/add <network> <bridge>` (encapsulation: where the outer packet leaves). */
  readonly routes: readonly { readonly network: string; readonly bridge: string }[];
  /** `ovs-appctl tnl/arp/set <bridge> <ip> <mac>`. */
  readonly neighbours: readonly { readonly bridge: string; readonly ip: string; readonly mac: string }[];
  readonly flows: readonly { readonly bridge: string; readonly flow: FlowSpec }[];
}

/** VSPERF's values (conf/integration/02_vswitch.conf, 03_traffic.conf), for runs without those files. */
const DEFAULTS: Readonly<Record<string, string>> = {
  VTEP_IP1: '192.168.0.1/24',
  VTEP_IP2: '192.168.240.10',
  VTEP_IP2_SUBNET: '192.168.240.0/24',
  TUNNEL_EXTERNAL_BRIDGE_IP: '192.168.240.1/24',
  // VSPERF uses it without defining it; its user guide sets 192.168.1.1.
  TUNNEL_INT_BRIDGE_IP: '192.168.1.1',
  TRAFFICGEN_PORT1_MAC: '02:00:00:00:00:01',
  TRAFFICGEN_PORT2_MAC: '02:00:00:00:00:02',
  TRAFFICGEN_PORT1_IP: '1.1.1.1',
  TRAFFICGEN_PORT2_IP: '90.90.90.90',
};

/** prefix: true = a.b.c.d/n required, false = none allowed, 'optional' = either. */
function ipv4(s: Settings, key: string, prefix: boolean | 'optional'): string {
  const v = String(s.getOr(key, DEFAULTS[key] ?? ''));
  if (!isIpv4WithPrefix(v, prefix))
    throw new ConfigError(
      key,
      s.source(key),
      `must be an IPv4 address${prefix === true ? ' with a prefix length (a.b.c.d/n)' : prefix === 'optional' ? ', optionally with a prefix length (a.b.c.d or a.b.c.d/n)' : ''}, got ${JSON.stringify(v)}`,
    );
  return v;
}

/** VSPERF's `#PARAM(NICS[i]['mac'])`: the MAC of the testbed's i-th NIC (vxlan_multi_IP_mask_ovs). */
const NIC_MAC = /^#PARAM\(NICS\[(\d)\]\[["']mac["']\]\)$/;

/** NIC index of a `#PARAM(NICS[i]['mac'])` value, else undefined. */
export function nicMacRef(v: string): number | undefined {
  const m = NIC_MAC.exec(v);
  return m ? Number(m[1]) : undefined;
}

function mac(s: Settings, key: string): string {
  const v = String(s.getOr(key, DEFAULTS[key] ?? ''));
  if (nicMacRef(v) !== undefined) return v;
  if (!isMac(v)) throw new ConfigError(key, s.source(key), `must be a MAC address or #PARAM(NICS[i]['mac']), got ${JSON.stringify(v)}`);
  return v.toLowerCase();
}

function bridgeName(s: Settings, key: string, fallback: string): string {
  const v = String(s.getOr(key, fallback));
  // The bridge's LOCAL port is a netdev of that name: Linux allows 15 characters.
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(v))
    throw new ConfigError(key, s.source(key), `must be a bridge (interface) name of 1-15 letters, digits, _.-, got ${JSON.stringify(v)}`);
  return v;
}

/** TUNNEL_TYPE, one of vxlan, gre, geneve (VSPERF's values). */
export function tunnelType(s: Settings): TunnelType {
  const v = String(s.getOr('TUNNEL_TYPE', 'vxlan'));
  if (!(TUNNEL_TYPES as readonly string[]).includes(v))
    throw new ConfigError('TUNNEL_TYPE', s.source('TUNNEL_TYPE'), `must be one of ${TUNNEL_TYPES.join(', ')}, got ${JSON.stringify(v)}`);
  return v as TunnelType;
}

/** TUNNEL_OPERATION (testcase key "Tunnel Operation"); op2p without one decapsulates, as in VSPERF. */
export function tunnelOperation(s: Settings): TunnelOperation {
  const v = String(s.getOr('TUNNEL_OPERATION', 'decapsulation'));
  if (!(TUNNEL_OPERATIONS as readonly string[]).includes(v))
    throw new ConfigError('TUNNEL_OPERATION', s.source('TUNNEL_OPERATION'), `must be encapsulation or decapsulation, got ${JSON.stringify(v)}`);
  return v as TunnelOperation;
}

function frameDict(s: Settings, type: TunnelType, layer: 'L2' | 'L3' | 'L4'): JsonObject {
  const key = `${type.toUpperCase()}_FRAME_${layer}`;
  const v = s.getOr(key, {});
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(key, s.source(key), 'must be a dict');
  return v as JsonObject;
}

/** The op2p settings with VSPERF's defaults (conf/integration/02_vswitch.conf, 03_traffic.conf), checked. */
export function op2pSettings(s: Settings, vswitch = String(s.getOr('VSWITCH', 'OvsDpdkVhost'))): Op2pSettings {
  const type = tunnelType(s);
  const vni = String(s.getOr('VXLAN_VNI', '99'));
  if (!/^\d+$/.test(vni) || Number(vni) > 0xffffff)
    throw new ConfigError('VXLAN_VNI', s.source('VXLAN_VNI'), `must be a number 0-16777215, got ${JSON.stringify(vni)}`);
  return {
    operation: tunnelOperation(s),
    type,
    intBridge: bridgeName(s, 'TUNNEL_INTEGRATION_BRIDGE', 'vsperf-br0'),
    extBridge: bridgeName(s, 'TUNNEL_EXTERNAL_BRIDGE', 'vsperf-br-ext'),
    intIp: ipv4(s, 'VTEP_IP1', true),
    extIp: ipv4(s, 'TUNNEL_EXTERNAL_BRIDGE_IP', true),
    vtepIp2: ipv4(s, 'VTEP_IP2', false),
    // As VSPERF decides it: by the switch's name.
    vanilla: vswitch.endsWith('Vanilla'),
    intBridgeIp: ipv4(s, 'TUNNEL_INT_BRIDGE_IP', 'optional'),
    vtepSubnet: ipv4(s, 'VTEP_IP2_SUBNET', true),
    vni,
    port1: { mac: mac(s, 'TRAFFICGEN_PORT1_MAC'), ip: ipv4(s, 'TRAFFICGEN_PORT1_IP', false) },
    port2: { mac: mac(s, 'TRAFFICGEN_PORT2_MAC'), ip: ipv4(s, 'TRAFFICGEN_PORT2_IP', false) },
    frame: { l2: frameDict(s, type, 'L2'), l3: frameDict(s, type, 'L3'), l4: frameDict(s, type, 'L4') },
  };
}

const ipNum = (ip: string): number => ip.split('.').reduce((n, x) => n * 256 + Number(x), 0);

/**
 * The integration bridge's address in OvsVanilla decapsulation. VSPERF adds the route VTEP_IP2_SUBNET
 * out of that bridge, and OVS (ovs/route/add) takes a route's source from the bridge's addresses in the
 * route's subnet, refusing the route without one ("Error while inserting route"). VSPERF's user guide
 * sets TUNNEL_INT_BRIDGE_IP 192.168.1.1 and VTEP_IP2_SUBNET 192.168.1.0/24 but `ip addr add` without a
 * prefix makes it a /32: an address given without a prefix inside VTEP_IP2_SUBNET takes the subnet's.
 * One outside it is a UsageError at plan time, not OVS's error once the switch is built.
 */
export function vanillaIntAddress(o: Pick<Op2pSettings, 'intBridgeIp' | 'vtepSubnet'>): string {
  const [ip, len] = o.intBridgeIp.split('/');
  const [net, netLen] = o.vtepSubnet.split('/');
  const prefix = Number(len ?? netLen);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  // OVS's test: the route's network address, masked with the address's prefix, is the address's subnet.
  if ((ipNum(net!) & mask) >>> 0 !== (ipNum(ip!) & mask) >>> 0)
    throw new UsageError(
      `op2p decapsulation on OvsVanilla: TUNNEL_INT_BRIDGE_IP ${o.intBridgeIp} must be an address in VTEP_IP2_SUBNET ${o.vtepSubnet} (OVS takes the route's source address from the integration bridge; VSPERF's user guide: TUNNEL_INT_BRIDGE_IP 192.168.1.1, VTEP_IP2_SUBNET 192.168.1.0/24)`,
    );
  return `${ip}/${prefix}`;
}

/** Bridges, ports, addresses, route, neighbours and flows of op2p for one operation. */
export function op2pPlan(o: Op2pSettings): Op2pPlan {
  if (o.intBridge === o.extBridge) throw new UsageError(`op2p needs two bridges: TUNNEL_INTEGRATION_BRIDGE and TUNNEL_EXTERNAL_BRIDGE are both ${o.intBridge}`);
  const bridges = [
    { name: o.intBridge, address: o.intIp },
    { name: o.extBridge, address: o.extIp },
  ];
  const phy = [
    { bridge: o.intBridge, ofport: OP2P_OFPORT.phy },
    { bridge: o.extBridge, ofport: OP2P_OFPORT.phy },
  ];
  const name = `${o.type}0`;
  const ofport = OP2P_OFPORT.tunnel;
  if (o.operation === 'encapsulation') {
    return {
      bridges,
      phy,
      tunnel: { bridge: o.intBridge, name, type: o.type, remoteIp: o.vtepIp2, ofport, options: {} },
      routes: [{ network: o.vtepSubnet, bridge: o.extBridge }],
      neighbours: [{ bridge: o.extBridge, ip: o.vtepIp2, mac: o.port2.mac }],
      flows: [
        { bridge: o.intBridge, flow: { type: 'port', inPort: OP2P_OFPORT.phy, outPorts: [ofport] } },
        // MAC learning on the external bridge (VSPERF: actions NORMAL).
        { bridge: o.extBridge, flow: { type: 'raw', flow: 'actions=NORMAL' } },
      ],
    };
  }
  const options: Record<string, string> = o.type === 'vxlan' ? { key: o.vni } : {};
  if (o.vanilla) {
    const intAddress = vanillaIntAddress(o);
    return {
      bridges: [
        { name: o.intBridge, address: intAddress },
        { name: o.extBridge, address: o.extIp },
      ],
      // VSPERF adds the external bridge's physical port first: it faces generator port 0.
      phy: [
        { bridge: o.extBridge, ofport: OP2P_OFPORT.phy },
        { bridge: o.intBridge, ofport: OP2P_OFPORT.phy },
      ],
      tunnel: { bridge: o.intBridge, name, type: o.type, remoteIp: o.port1.ip, ofport, options },
      routes: [{ network: o.vtepSubnet, bridge: o.intBridge }],
      neighbours: [{ bridge: o.extBridge, ip: o.port2.ip, mac: o.port2.mac }],
      flows: [
        { bridge: o.extBridge, flow: { type: 'raw', flow: `in_port=${OP2P_OFPORT.phy},actions=LOCAL` } },
        // VSPERF's integration bridge is standalone (implicit NORMAL); ours are fail-mode secure.
        { bridge: o.intBridge, flow: { type: 'raw', flow: 'actions=NORMAL' } },
      ],
    };
  }
  return {
    bridges,
    phy,
    tunnel: { bridge: o.extBridge, name, type: o.type, remoteIp: o.port1.ip, ofport, options },
    routes: [],
    neighbours: [{ bridge: o.intBridge, ip: o.port1.ip, mac: o.port1.mac }],
    flows: [
      { bridge: o.extBridge, flow: { type: 'port', inPort: ofport, outPorts: [OP2P_OFPORT.phy] } },
      // VSPERF's integration bridge is a standalone one (implicit NORMAL flow): the tunnelled frames
      // reach its LOCAL port, where OVS pops the outer headers. Ours are fail-mode secure: say it.
      { bridge: o.intBridge, flow: { type: 'raw', flow: 'actions=NORMAL' } },
    ],
  };
}

const num = (v: unknown, fallback: number): number => (v === undefined || v === null || v === '' ? fallback : Number(v));

/**
 * What the generator sends, as TRAFFIC values (VSPERF testcase.py for a "Tunnel Operation"): the
 * addresses TRAFFICGEN_PORT1/2_MAC/IP, and for decapsulation the inner frame of <TYPE>_FRAME_L4 in
 * `l2/l3/l4` and the outer headers of <TYPE>_FRAME_L2/L3/L4 in `tunnel.outer`, with the outer
 * destination MAC the external bridge's own (VSPERF: the MAC of the NIC on that bridge).
 */
export function op2pTraffic(o: Op2pSettings, extBridgeMac: string): JsonObject {
  if (o.operation === 'encapsulation') {
    return {
      l2: { srcmac: o.port1.mac, dstmac: o.port2.mac },
      l3: { srcip: o.port1.ip, dstip: o.port2.ip },
      tunnel: { type: o.type, operation: o.operation },
    };
  }
  const { l2, l3, l4 } = o.frame;
  const outer: TunnelSpec['outer'] = {
    srcMac: String(l2.srcmac ?? o.port1.mac),
    dstMac: extBridgeMac,
    srcIp: String(l3.srcip ?? o.port1.ip),
    dstIp: String(l3.dstip ?? o.extIp.split('/')[0]),
    ...(o.type === 'gre' ? {} : { srcPort: num(l4.srcport, o.type === 'vxlan' ? 4789 : 6081), dstPort: num(l4.dstport, o.type === 'vxlan' ? 4789 : 6081) }),
    ...(o.type === 'gre' ? {} : { vni: num(o.type === 'vxlan' ? l4.vni : l4.geneve_vni, o.type === 'vxlan' ? Number(o.vni) : 0) }),
  };
  return {
    l2: { srcmac: String(l4.inner_srcmac ?? '01:02:03:04:05:06'), dstmac: String(l4.inner_dstmac ?? '06:05:04:03:02:01') },
    l3: { srcip: String(l4.inner_srcip ?? '192.168.0.10'), dstip: String(l4.inner_dstip ?? '192.168.240.9') },
    l4: { srcport: num(l4.inner_srcport, 3000), dstport: num(l4.inner_dstport, 3001) },
    tunnel: { type: o.type, operation: o.operation, outer: outer as unknown as JsonObject },
  };
}
