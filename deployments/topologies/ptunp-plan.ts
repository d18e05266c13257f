/**
 * VSPERF's `ptunp` deployment (phy → VXLAN tunnel endpoint → phy, encap and decap inside the switch),
 * as data: four bridges, their ports, the endpoint addresses, routes, tunnel ARP entries and flows.
 * Pure; the I/O is in ptunp.ts. Layout as VSPERF's core/vswitch_controller_ptunp.py sets it up
 * (conf/integration/02_vswitch.conf names and addresses), one direction (the other is its mirror):
 *
 *   gen 0 → dpdk0 (br-phy1) → vxlan0 (remote 10.0.0.2): OVS pushes the outer headers (src 10.0.0.1 and
 *   br-mod1's MAC, dst 10.0.0.2 and the ARP entry's MAC) and routes them out of br-mod1, entering its
 *   table at LOCAL → a flow rewrites the outer addresses so the packet looks as if 20.0.0.2 sent it
 *   to br-mod2 (20.0.0.1) → patch port → br-mod2 → LOCAL, where OVS sees a tunnel packet for its own
 *   endpoint and pops the outer headers → vxlan1 on br-phy2 (remote 20.0.0.2) → dpdk1 → gen 1.
 *
 * VSPERF's "veth pair" (add_veth_pair_port) is an OVS patch-port pair; so is this one. The generator
 * sends plain frames (testcase.py sets tunnel traffic only for a "Tunnel Operation", which ptunp
 * testcases do not have): the tunnel exists only inside the switch.
 */
import { ConfigError, UsageError } from '../../framework/errors.js';
import type { Settings } from '../../framework/config/settings.js';
import type { FlowSpec } from '../../framework/api/deployment.js';
import { isIpv4WithPrefix, isMac } from '../../framework/util/net-address.js';
import { tunnelType } from './op2p-plan.js';

export interface PtunpSettings {
  readonly phyBridges: readonly [string, string];
  readonly modBridges: readonly [string, string];
  /** other_config:hwaddr of the modify bridges (TUNNEL_MODIFY_BRIDGE_MAC1/2), lower case. */
  readonly modMacs: readonly [string, string];
  /** address/prefix on the modify bridges' LOCAL ports (TUNNEL_MODIFY_BRIDGE_IP1/2). */
  readonly modIps: readonly [string, string];
  readonly vni: string;
}

export interface PtunpPort {
  readonly bridge: string;
  readonly name: string;
  readonly ofport: number;
}

export interface PtunpPlan {
  /** In VSPERF's order; `hwaddr` and `address` only on the modify bridges. */
  readonly bridges: readonly { readonly name: string; readonly hwaddr?: string; readonly address?: string }[];
  /** Generator-facing ports: [0] faces generator port 0. */
  readonly phy: readonly [PtunpPort, PtunpPort];
  readonly tunnels: readonly (PtunpPort & { readonly remoteIp: string; readonly options: Readonly<Record<string, string>> })[];
  /** The patch-port pair joining the modify bridges (VSPERF's add_veth_pair_port). */
  readonly patch: readonly [PtunpPort, PtunpPort];
  /** `ovs-appctl ovs/route/add <network> <bridge>`. */
  readonly routes: readonly { readonly network: string; readonly bridge: string }[];
  /** `ovs-appctl tnl/arp/set <bridge> <ip> <mac>`. */
  readonly neighbours: readonly { readonly bridge: string; readonly ip: string; readonly mac: string }[];
  readonly flows: readonly { readonly bridge: string; readonly flow: FlowSpec }[];
}

/** VSPERF's values (conf/integration/02_vswitch.conf), for runs without that file. */
const DEFAULTS: Readonly<Record<string, string>> = {
  TUNNEL_EXTERNAL_BRIDGE1: 'br-phy1',
  TUNNEL_EXTERNAL_BRIDGE2: 'br-phy2',
  TUNNEL_MODIFY_BRIDGE1: 'br-mod1',
  TUNNEL_MODIFY_BRIDGE2: 'br-mod2',
  TUNNEL_MODIFY_BRIDGE_MAC1: '00:00:10:00:00:01',
  TUNNEL_MODIFY_BRIDGE_MAC2: '00:00:20:00:00:01',
  TUNNEL_MODIFY_BRIDGE_IP1: '10.0.0.1/24',
  TUNNEL_MODIFY_BRIDGE_IP2: '20.0.0.1/24',
};

const get = (s: Settings, key: string): string => String(s.getOr(key, DEFAULTS[key] ?? ''));

function bridgeName(s: Settings, key: string): string {
  const v = get(s, key);
  // The bridge's LOCAL port is a netdev of that name: Linux allows 15 characters.
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(v))
    throw new ConfigError(key, s.source(key), `must be a bridge (interface) name of 1-15 letters, digits, _.-, got ${JSON.stringify(v)}`);
  return v;
}

function unicastMac(s: Settings, key: string): string {
  const v = get(s, key).toLowerCase();
  // The remote endpoint's MAC is this one plus 1 (VSPERF): ff:ff:ff:ff:ff:ff has no successor.
  if (!isMac(v) || parseInt(v.slice(0, 2), 16) & 1 || v === 'ff:ff:ff:ff:ff:ff')
    throw new ConfigError(key, s.source(key), `must be a unicast MAC address (aa:bb:cc:dd:ee:ff), got ${JSON.stringify(v)}`);
  return v;
}

const ipNum = (ip: string): number => ip.split('.').reduce((n, x) => n * 256 + Number(x), 0);
const ipStr = (n: number): string => [24, 16, 8, 0].map((b) => (n >>> b) & 255).join('.');
const maskOf = (len: number): number => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);

/** VSPERF's remote endpoint: the modify bridge's address plus one (IPNetwork(ip).ip + 1). */
export function remoteIp(address: string): string {
  return ipStr((ipNum(address.split('/')[0]!) + 1) >>> 0);
}

/** VSPERF's remote endpoint MAC: the modify bridge's MAC plus one (EUI(int(mac) + 1)). */
export function remoteMac(mac: string): string {
  const n = BigInt('0x' + mac.replace(/:/g, '')) + 1n;
  return n.toString(16).padStart(12, '0').match(/../g)!.join(':');
}

/** The network of an address/prefix (10.0.0.1/24 → 10.0.0.0/24). */
export function networkOf(address: string): string {
  const [ip, len] = address.split('/');
  return `${ipStr((ipNum(ip!) & maskOf(Number(len))) >>> 0)}/${len}`;
}

function modIp(s: Settings, key: string): string {
  const v = get(s, key);
  if (!isIpv4WithPrefix(v, true))
    throw new ConfigError(key, s.source(key), `must be an IPv4 address with a prefix length (a.b.c.d/n), got ${JSON.stringify(v)}`);
  // The remote endpoint (address + 1) must be on the bridge's subnet, or OVS has no route to it.
  const len = Number(v.split('/')[1]);
  const mask = maskOf(len);
  const remote = ipNum(remoteIp(v));
  if (len > 30 || (remote & mask) >>> 0 !== (ipNum(v.split('/')[0]!) & mask) >>> 0 || (remote | ~mask) >>> 0 === remote)
    throw new ConfigError(
      key,
      s.source(key),
      `the remote tunnel endpoint is this address plus one (as in VSPERF): ${remoteIp(v)} must be a host address on ${networkOf(v)}; got ${JSON.stringify(v)}`,
    );
  return v;
}

/** The ptunp settings with VSPERF's defaults, checked. */
export function ptunpSettings(s: Settings): PtunpSettings {
  const type = tunnelType(s);
  if (type !== 'vxlan')
    throw new UsageError(`deployment ptunp builds VXLAN tunnels only (as VSPERF), got TUNNEL_TYPE ${type}`, {
      hint: 'set TUNNEL_TYPE vxlan, or use deployment op2p',
    });
  const vni = String(s.getOr('VXLAN_VNI', '99'));
  if (!/^\d+$/.test(vni) || Number(vni) > 0xffffff)
    throw new ConfigError('VXLAN_VNI', s.source('VXLAN_VNI'), `must be a number 0-16777215, got ${JSON.stringify(vni)}`);
  const o: PtunpSettings = {
    phyBridges: [bridgeName(s, 'TUNNEL_EXTERNAL_BRIDGE1'), bridgeName(s, 'TUNNEL_EXTERNAL_BRIDGE2')],
    modBridges: [bridgeName(s, 'TUNNEL_MODIFY_BRIDGE1'), bridgeName(s, 'TUNNEL_MODIFY_BRIDGE2')],
    modMacs: [unicastMac(s, 'TUNNEL_MODIFY_BRIDGE_MAC1'), unicastMac(s, 'TUNNEL_MODIFY_BRIDGE_MAC2')],
    modIps: [modIp(s, 'TUNNEL_MODIFY_BRIDGE_IP1'), modIp(s, 'TUNNEL_MODIFY_BRIDGE_IP2')],
    vni,
  };
  const names = [...o.phyBridges, ...o.modBridges];
  if (new Set(names).size !== 4) throw new UsageError(`deployment ptunp needs four different bridges, got ${names.join(', ')}`);
  // Each endpoint pair is told apart by its subnet: the encapsulated packet leaves by the route to it.
  const [n1, n2] = o.modIps.map(networkOf);
  const [l1, l2] = o.modIps.map((a) => Number(a.split('/')[1]));
  const shorter = maskOf(Math.min(l1!, l2!));
  if ((ipNum(n1!.split('/')[0]!) & shorter) >>> 0 === (ipNum(n2!.split('/')[0]!) & shorter) >>> 0)
    throw new UsageError(`deployment ptunp: TUNNEL_MODIFY_BRIDGE_IP1 ${o.modIps[0]} and TUNNEL_MODIFY_BRIDGE_IP2 ${o.modIps[1]} must be on different subnets`);
  if (o.modMacs[0] === o.modMacs[1] || remoteMac(o.modMacs[0]) === o.modMacs[1] || remoteMac(o.modMacs[1]) === o.modMacs[0])
    throw new UsageError(
      `deployment ptunp: TUNNEL_MODIFY_BRIDGE_MAC1 ${o.modMacs[0]} and TUNNEL_MODIFY_BRIDGE_MAC2 ${o.modMacs[1]} and their successors (the remote endpoints) must all differ`,
    );
  return o;
}

/** OpenFlow numbers as OVS hands them out in VSPERF's order: per bridge, the phy port, then the tunnel. */
export const PTUNP_OFPORT = { phy: 1, tunnel: 2, patch: 1 } as const;

/** Bridges, ports, addresses, routes, neighbours and flows of ptunp. */
export function ptunpPlan(o: PtunpSettings): PtunpPlan {
  const [phy1, phy2] = o.phyBridges;
  const [mod1, mod2] = o.modBridges;
  const local = o.modIps.map((a) => a.split('/')[0]!);
  const remote = o.modIps.map(remoteIp);
  const rmac = o.modMacs.map(remoteMac);
  // VSPERF's names: vxlan<n> and <bridge>-<peer>-<n> by the count of such ports so far.
  const patch: [PtunpPort, PtunpPort] = [
    { bridge: mod1, name: `${mod1}-${mod2}-0`, ofport: PTUNP_OFPORT.patch },
    { bridge: mod2, name: `${mod2}-${mod1}-0`, ofport: PTUNP_OFPORT.patch },
  ];
  // The rewrite on modify bridge i makes the packet look as if the other side's remote endpoint sent
  // it to the other bridge's own endpoint, so the other bridge's LOCAL port pops it.
  const rewrite = (j: number): string =>
    `in_port=LOCAL,ip,actions=mod_dl_src:${rmac[j]},mod_dl_dst:${o.modMacs[j]},mod_nw_src:${remote[j]},mod_nw_dst:${local[j]},output:${PTUNP_OFPORT.patch}`;
  const t = PTUNP_OFPORT;
  return {
    bridges: [
      { name: phy1 },
      { name: phy2 },
      { name: mod1, hwaddr: o.modMacs[0], address: o.modIps[0] },
      { name: mod2, hwaddr: o.modMacs[1], address: o.modIps[1] },
    ],
    phy: [
      { bridge: phy1, name: 'dpdk0', ofport: t.phy },
      { bridge: phy2, name: 'dpdk1', ofport: t.phy },
    ],
    tunnels: [
      { bridge: phy1, name: 'vxlan0', ofport: t.tunnel, remoteIp: remote[0]!, options: { key: o.vni } },
      { bridge: phy2, name: 'vxlan1', ofport: t.tunnel, remoteIp: remote[1]!, options: { key: o.vni } },
    ],
    patch,
    // VSPERF: add_route(bridge_phy, br_mod_ip, bridge_mod); OVS keeps the route's network.
    routes: [
      { network: networkOf(o.modIps[0]), bridge: mod1 },
      { network: networkOf(o.modIps[1]), bridge: mod2 },
    ],
    neighbours: [
      { bridge: phy1, ip: local[0]!, mac: o.modMacs[0] },
      { bridge: phy2, ip: local[1]!, mac: o.modMacs[1] },
      { bridge: mod1, ip: remote[0]!, mac: rmac[0]! },
      { bridge: mod2, ip: remote[1]!, mac: rmac[1]! },
    ],
    flows: [
      { bridge: phy1, flow: { type: 'port', inPort: t.phy, outPorts: [t.tunnel] } },
      { bridge: phy1, flow: { type: 'port', inPort: t.tunnel, outPorts: [t.phy] } },
      { bridge: phy2, flow: { type: 'port', inPort: t.phy, outPorts: [t.tunnel] } },
      { bridge: phy2, flow: { type: 'port', inPort: t.tunnel, outPorts: [t.phy] } },
      { bridge: mod1, flow: { type: 'raw', flow: `in_port=${t.patch},actions=output:LOCAL` } },
      { bridge: mod1, flow: { type: 'raw', flow: rewrite(1) } },
      { bridge: mod2, flow: { type: 'raw', flow: `in_port=${t.patch},actions=output:LOCAL` } },
      { bridge: mod2, flow: { type: 'raw', flow: rewrite(0) } },
    ],
  };
}
