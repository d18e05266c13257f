/**
 * The `ptunp` deployment on a started vSwitch: four bridges, the physical, tunnel and patch ports,
 * the endpoint addresses on the modify bridges' LOCAL ports (`ip addr add` where the switch runs:
 * the sandbox's switch namespace), routes, tunnel ARP entries and flows (ptunp-plan.ts says which).
 * The generator sends plain frames; nothing in TRAFFIC changes. Everything it creates goes away with
 * the switch (bridges, their taps) or the sandbox namespace.
 */
import { CapabilityError, UsageError } from '../../framework/errors.js';
import { ip } from '../../framework/host/ip.js';
import type { Settings } from '../../framework/config/settings.js';
import type { PhyPort, SwitchPort, VSwitch } from '../../framework/api/deployment.js';
import type { AdoptedPort } from '../steps/vswitch-target.js';
import { ptunpPlan, ptunpSettings } from './ptunp-plan.js';

export interface PtunpResult {
  readonly bridges: readonly string[];
  /** The switch ports facing generator ports 0 and 1. */
  readonly phy: readonly SwitchPort[];
  /** All bridges and their ports, for TestSteps (`vswitch` steps act on them, as in VSPERF). */
  readonly stepBridges: readonly { bridge: string; ports: readonly AdoptedPort[] }[];
  readonly facts: Record<string, string | number | boolean>;
}

/** The settings ptunp reads, checked (the plan runs this: --dry-run reports them in one line). */
export function checkPtunpSettings(s: Settings): void {
  ptunpPlan(ptunpSettings(s));
}

/** Checks what ptunp needs before anything is built (also a one-line error for a switch without tunnels). */
export function checkPtunp(s: Settings, vswitch: VSwitch): void {
  checkPtunpSettings(s);
  if (!vswitch.addTunnelPort || !vswitch.setTunnelArp || !vswitch.addTunnelRoute || !vswitch.addPatchPorts || !vswitch.hostOps)
    throw new CapabilityError(vswitch.name, 'tunnel and patch ports (deployment ptunp)', 'use VSWITCH=OvsDpdkVhost or OvsVanilla');
}

export async function ptunpTopology(s: Settings, vswitch: VSwitch, switchPorts: readonly PhyPort[]): Promise<PtunpResult> {
  checkPtunp(s, vswitch);
  const o = ptunpSettings(s);
  const plan = ptunpPlan(o);
  if (switchPorts.length < 2) throw new UsageError(`deployment ptunp needs 2 physical ports, the testbed has ${switchPorts.length}`);
  for (const b of plan.bridges) await vswitch.addBridge(b.name, b.hwaddr ? { hwaddr: b.hwaddr } : undefined);
  const ports = new Map<string, AdoptedPort[]>(plan.bridges.map((b) => [b.name, []]));
  // Where the switch runs: its host (maybe another one) and namespace.
  const host = vswitch.hostOps!();
  const netns = vswitch.toolNetns?.();
  // Tunnel endpoints live on the modify bridges' LOCAL ports (taps of the userspace datapath); OVS
  // learns them, and the connected routes, from the kernel of the namespace it runs in.
  for (const b of plan.bridges) {
    if (b.address) await ip(host, netns, ['addr', 'add', b.address, 'dev', b.name]);
    await ip(host, netns, ['link', 'set', 'dev', b.name, 'up']);
  }
  for (const r of plan.routes) await vswitch.addTunnelRoute!(r.network, r.bridge);
  for (const n of plan.neighbours) await vswitch.setTunnelArp!(n.bridge, n.ip, n.mac);
  const phy: SwitchPort[] = [];
  for (const [i, p] of plan.phy.entries()) {
    const sp = await vswitch.addPhyPort(p.bridge, p.name, switchPorts[i]!, p.ofport);
    phy.push(sp);
    ports.get(p.bridge)!.push({ ...sp, kind: 'phy', phyIndex: i });
  }
  for (const t of plan.tunnels)
    ports.get(t.bridge)!.push({ ...(await vswitch.addTunnelPort!(t.bridge, t.name, 'vxlan', t.remoteIp, t.ofport, t.options)), kind: 'tunnel' });
  const [pa, pb] = await vswitch.addPatchPorts!(plan.patch[0], plan.patch[1]);
  // TestSteps know patch ports as tunnel-like ports: the switch's own, no testbed index.
  ports.get(plan.patch[0].bridge)!.push({ ...pa, kind: 'tunnel' });
  ports.get(plan.patch[1].bridge)!.push({ ...pb, kind: 'tunnel' });
  for (const f of plan.flows) await vswitch.addFlow(f.bridge, f.flow);
  const flows: string[] = [];
  for (const b of plan.bridges) for (const f of await vswitch.dumpFlows(b.name)) flows.push(`${b.name}: ${f}`);
  return {
    bridges: plan.bridges.map((b) => b.name),
    phy,
    stepBridges: [...ports].map(([bridge, p]) => ({ bridge, ports: p })),
    facts: {
      tunnel_type: 'vxlan',
      bridge: o.phyBridges[0],
      tunnel_bridges: plan.bridges.map((b) => b.name).join(', '),
      tunnel_ports: plan.tunnels.map((t) => `${t.name} on ${t.bridge} (remote_ip ${t.remoteIp}, key ${o.vni})`).join(', '),
      tunnel_patch_ports: plan.patch.map((p) => `${p.name} on ${p.bridge}`).join(', '),
      tunnel_endpoints: plan.bridges
        .filter((b) => b.address)
        .map((b) => `${b.name} ${b.address} ${b.hwaddr}`)
        .join(', '),
      flows_installed: plan.flows.length,
      flows: flows.join(' | '),
    },
  };
}
