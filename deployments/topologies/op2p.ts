/**
 * The `op2p` deployment on a started vSwitch: two bridges, the tunnel port, the endpoint addresses on
 * the bridges' LOCAL ports (`ip addr add` where the switch runs: the sandbox's switch namespace), the
 * route and tunnel ARP entries, the flows (op2p-plan.ts says which), and the TRAFFIC the generator
 * needs (op2pTraffic). Everything it creates goes away with the switch (bridges, their taps) or the
 * sandbox namespace.
 */
import { CapabilityError, UsageError } from '../../framework/errors.js';
import { ip } from '../../framework/host/ip.js';
import type { JsonObject, Settings } from '../../framework/config/settings.js';
import type { PhyPort, SwitchPort, VSwitch } from '../../framework/api/deployment.js';
import type { AdoptedPort } from '../steps/vswitch-target.js';
import { nicMacRef, op2pPlan, op2pSettings, op2pTraffic, vanillaIntAddress } from './op2p-plan.js';

export interface Op2pResult {
  readonly bridges: readonly string[];
  /** The switch ports facing generator ports 0 and 1. */
  readonly phy: readonly SwitchPort[];
  /** Both bridges and their ports, for TestSteps (`vswitch` steps act on them, as in VSPERF). */
  readonly stepBridges: readonly { bridge: string; ports: readonly AdoptedPort[] }[];
  readonly trafficOverrides: JsonObject;
  readonly facts: Record<string, string | number | boolean>;
}

/** The settings op2p reads, checked (the plan runs this: --dry-run reports them in one line). */
export function checkOp2pSettings(s: Settings): void {
  const o = op2pSettings(s);
  if (o.vanilla && o.operation === 'decapsulation') vanillaIntAddress(o);
  const bidir = String(s.getOr('TRAFFIC.bidir', 'False'));
  if (/^true$/i.test(bidir))
    throw new UsageError(`deployment op2p sends traffic one way only (${o.operation} from generator port 0 to 1, as in VSPERF): set TRAFFIC bidir to "False"`);
}

/** Checks what op2p needs before anything is built (also a one-line error for a switch without tunnels). */
export function checkOp2p(s: Settings, vswitch: VSwitch): void {
  checkOp2pSettings(s);
  if (!vswitch.addTunnelPort || !vswitch.setTunnelArp || !vswitch.addTunnelRoute || !vswitch.interfaceMac || !vswitch.hostOps)
    throw new CapabilityError(vswitch.name, 'tunnel ports (deployment op2p)', 'use VSWITCH=OvsDpdkVhost');
}

export async function op2pTopology(s: Settings, vswitch: VSwitch, switchPorts: readonly PhyPort[]): Promise<Op2pResult> {
  checkOp2p(s, vswitch);
  const o0 = op2pSettings(s, vswitch.name);
  const layout = op2pPlan(o0);
  if (switchPorts.length < 2) throw new UsageError(`deployment op2p needs 2 physical ports, the testbed has ${switchPorts.length}`);
  for (const b of layout.bridges) await vswitch.addBridge(b.name);
  const ports = new Map<string, AdoptedPort[]>(layout.bridges.map((b) => [b.name, []]));
  const phy: SwitchPort[] = [];
  for (const [i, p] of layout.phy.entries()) {
    const sp = await vswitch.addPhyPort(p.bridge, `dpdk${i}`, switchPorts[i]!, p.ofport);
    phy.push(sp);
    ports.get(p.bridge)!.push({ ...sp, kind: 'phy', phyIndex: i });
  }
  const t = layout.tunnel;
  ports.get(t.bridge)!.push({ ...(await vswitch.addTunnelPort!(t.bridge, t.name, t.type, t.remoteIp, t.ofport, t.options)), kind: 'tunnel' });
  // Where the switch runs: its host (maybe another one) and namespace.
  const host = vswitch.hostOps!();
  const netns = vswitch.toolNetns?.();
  // The endpoint addresses live on the bridges' LOCAL ports (taps of the userspace datapath); OVS
  // learns them, and the connected routes, from the kernel of the namespace it runs in.
  for (const b of layout.bridges) {
    await ip(host, netns, ['addr', 'add', b.address, 'dev', b.name]);
    await ip(host, netns, ['link', 'set', 'dev', b.name, 'up']);
  }
  // `#PARAM(NICS[i]['mac'])` settings name the MAC of the switch's i-th physical port, known only now.
  const nicMac = async (m: string): Promise<string> => {
    const i = nicMacRef(m);
    if (i === undefined) return m;
    if (!phy[i]) throw new UsageError(`#PARAM(NICS[${i}]['mac']): the testbed has ${phy.length} physical ports`);
    return vswitch.interfaceMac!(phy[i]!.name);
  };
  const o = { ...o0, port1: { ...o0.port1, mac: await nicMac(o0.port1.mac) }, port2: { ...o0.port2, mac: await nicMac(o0.port2.mac) } };
  const plan = op2pPlan(o);
  for (const r of plan.routes) await vswitch.addTunnelRoute!(r.network, r.bridge);
  for (const n of plan.neighbours) await vswitch.setTunnelArp!(n.bridge, n.ip, n.mac);
  for (const f of plan.flows) await vswitch.addFlow(f.bridge, f.flow);
  // Read after all ports are in: the userspace datapath picks a bridge's MAC from its ports.
  const extMac = await vswitch.interfaceMac!(o.extBridge);
  const flows: string[] = [];
  for (const b of plan.bridges) for (const f of await vswitch.dumpFlows(b.name)) flows.push(`${b.name}: ${f}`);
  return {
    bridges: plan.bridges.map((b) => b.name),
    phy,
    stepBridges: [...ports].map(([bridge, p]) => ({ bridge, ports: p })),
    trafficOverrides: op2pTraffic(o, extMac),
    facts: {
      tunnel_type: o.type,
      tunnel_operation: o.operation,
      bridge: o.intBridge,
      tunnel_external_bridge: o.extBridge,
      tunnel_external_bridge_mac: extMac,
      tunnel_port: `${t.name} on ${t.bridge} (remote_ip ${t.remoteIp}${Object.entries(t.options)
        .map(([k, v]) => `, ${k} ${v}`)
        .join('')})`,
      tunnel_endpoints: plan.bridges.map((b) => `${b.name} ${b.address}`).join(', '),
      flows_installed: plan.flows.length,
      flows: flows.join(' | '),
    },
  };
}
