/**
 * The `vswitch` step object: VSPERF's IVswitch operations (add_switch, add_phy_port, add_vport,
 * add_connection, add_flow, …) on a running vSwitch, with VSPERF's port naming (dpdk<n> for the n-th
 * physical port, dpdkvhostuserclient<n> for vhost ports; OvsVanilla names a physical port by its
 * netdev) and VSPERF's `validate_*` checks, made against what the switch itself reports
 * (`ovs-vsctl show`, `ovs-ofctl dump-flows`), never against our own bookkeeping.
 */
import { CapabilityError, VsperfError } from '../../framework/errors.js';
import type { Logger } from '../../framework/log/logger.js';
import { pyRepr, pyStr, type PyValue } from '../../framework/steps/pyvalue.js';
import { IVSWITCH_METHODS } from '../../framework/steps/steps.js';
import type { StepTarget } from '../../framework/steps/types.js';
import type { PhyPort, SwitchPort, VSwitch } from '../../framework/api/deployment.js';
import { TUNNEL_TYPES, type TunnelType } from '../../framework/api/trafficgen.js';
import { isIpv4WithPrefix, isMac } from '../../framework/util/net-address.js';
import { flowKey, flowPresent, isFlowDict, type FlowDict } from './flow-key.js';

/** A port the steps know: a physical one (its testbed index), a vhost-user one, or a tunnel port (op2p). */
export type AdoptedPort = SwitchPort & { kind: 'phy' | 'vhost' | 'tunnel'; phyIndex?: number; tunnelType?: string };

export interface VswitchStepOptions {
  readonly vswitch: VSwitch;
  /** The testbed's physical ports, in order (add_phy_port takes the next one). */
  readonly phyPorts: readonly PhyPort[];
  /** What the testbed is, for the error when a testcase wants more physical ports than it has. */
  readonly testbedLabel: string;
  readonly vhostServerMode: boolean;
  readonly log: Logger;
}

/** An IPv4 address (network: with /prefix) given to a tunnel step, checked before it reaches ovs-appctl. */
function ipOrNet(v: PyValue, what: string, network: boolean): string {
  const s = pyStr(v);
  if (!isIpv4WithPrefix(s, network))
    throw new VsperfError('E_STEP_PARAM', `${what} ${pyRepr(v)} is not an IPv4 ${network ? 'network (a.b.c.d/n)' : 'address'}`);
  return s;
}

function macParam(v: PyValue): string {
  const s = pyStr(v);
  if (!isMac(s)) throw new VsperfError('E_STEP_PARAM', `mac_addr ${pyRepr(v)} is not a MAC address`);
  return s.toLowerCase();
}

function bridgeParam(v: PyValue, what: string): string {
  const s = pyStr(v);
  if (!/^[\w.-]{1,15}$/.test(s)) throw new VsperfError('E_STEP_PARAM', `${what} ${pyRepr(v)} is not a bridge name`);
  return s;
}

/** add_tunnel_port's params: VSPERF appends them to `ovs-vsctl … set Interface`; here `options:k=v` only. */
export function tunnelOptions(params: PyValue): Record<string, string> {
  if (params === null || params === undefined) return {};
  const list = Array.isArray(params) ? params : [params];
  const out: Record<string, string> = {};
  for (const p of list) {
    const m = /^options:([a-z_][a-z0-9_]*)=([^\s=]+)$/.exec(pyStr(p));
    if (!m)
      throw new VsperfError(
        'E_STEP_PARAM',
        `add_tunnel_port: parameter ${pyRepr(p)} is not an Interface option "options:<name>=<value>" (the only form applied here)`,
      );
    if (m[1] === 'remote_ip') throw new VsperfError('E_STEP_PARAM', 'add_tunnel_port: remote_ip is the second parameter, not an option');
    out[m[1]!] = m[2]!;
  }
  return out;
}

/** The lines of `ovs-vsctl show` under `Interface <name>` (type, options…), undefined when it is absent. */
export function interfaceBlock(show: string, name: string): string | undefined {
  const lines = show.split('\n');
  const at = lines.findIndex((l) => l.trim() === `Interface ${name}` || l.trim() === `Interface "${name}"`);
  if (at < 0) return undefined;
  const indent = lines[at]!.search(/\S/);
  const body: string[] = [];
  for (const l of lines.slice(at + 1)) {
    if (l.trim() === '' || l.search(/\S/) <= indent) break;
    body.push(l);
  }
  return body.join('\n');
}

/** Tunnel operations (VSPERF IVswitch, op2p and ptunp use them); validated here against the switch's tables. */
const TUNNEL_METHODS: readonly string[] = ['add_tunnel_port', 'add_route', 'set_tunnel_arp'];

function unsupported(method: string, why: string): never {
  throw new VsperfError('E_STEP_UNSUPPORTED', `vswitch ${method}: ${why}`);
}

export class VswitchSteps implements StepTarget {
  /** bridge → port name → port (ports added through steps, or by the deployment: adopt()). */
  private readonly bridges = new Map<string, Map<string, AdoptedPort>>();
  /** Name a testcase uses for a bridge (VSWITCH_BRIDGE_NAME) → the bridge's name on this testbed. */
  private readonly aliases = new Map<string, string>();

  constructor(private readonly o: VswitchStepOptions) {}

  /**
   * A bridge the deployment built (pvp, p2p…), so steps act on it as VSPERF's steps act on the
   * deployment's switch. `alias`: the name the testcase knows it by ($VSWITCH_BRIDGE_NAME) when the
   * testbed had to name it otherwise (the sandbox prefixes its names).
   */
  adopt(bridge: string, ports: ReadonlyArray<AdoptedPort>, alias?: string): void {
    this.bridges.set(bridge, new Map(ports.map((p) => [p.name, p])));
    if (alias !== undefined && alias !== bridge) this.aliases.set(alias, bridge);
  }

  /**
   * The bridge parameters as the switch knows them: the first one, except set_tunnel_arp (ip, mac,
   * bridge) whose bridge is last; add_route's destination is a bridge too.
   */
  private realArgs(method: string, args: readonly PyValue[]): readonly PyValue[] {
    if (method === 'add_switch' || args.length === 0) return args;
    const real = (v: PyValue | undefined): PyValue | undefined => (v === undefined ? v : (this.aliases.get(pyStr(v ?? null)) ?? v));
    if (method === 'set_tunnel_arp') return [args[0]!, args[1] ?? null, ...(args.length > 2 ? [real(args[2])!] : [])];
    if (method === 'add_route') return [real(args[0])!, ...args.slice(1, 2), ...(args.length > 2 ? [real(args[2])!] : [])];
    return [real(args[0])!, ...args.slice(1)];
  }

  private get vs(): VSwitch {
    return this.o.vswitch;
  }

  private bridge(name: PyValue): Map<string, AdoptedPort> {
    const b = this.bridges.get(pyStr(name));
    if (!b) throw new VsperfError('E_STEP_BRIDGE', `KeyError: no bridge ${pyStr(name)} was added by an earlier step`);
    return b;
  }

  private allPorts(): Array<AdoptedPort> {
    return [...this.bridges.values()].flatMap((b) => [...b.values()]);
  }

  private nextOfport(b: Map<string, SwitchPort>): number {
    const used = new Set([...b.values()].map((p) => p.ofport));
    let n = 1;
    while (used.has(n)) n++;
    return n;
  }

  private ofportOf(bridge: PyValue, port: PyValue): number {
    const p = this.bridge(bridge).get(pyStr(port));
    if (!p) throw new VsperfError('E_STEP_PORT', `KeyError: port ${pyStr(port)} is not on bridge ${pyStr(bridge)}`);
    return p.ofport;
  }

  /** vhost-user ports added so far, by name (vnf steps attach guests to them). */
  vhostPort(name: string): SwitchPort | undefined {
    return this.allPorts().find((p) => p.kind === 'vhost' && p.name === name);
  }

  /** The bridge and ofport a physical port index landed on (traffic steps, counters). */
  phyPortsInUse(): Array<{ bridge: string; port: SwitchPort; phyIndex: number }> {
    return [...this.bridges.entries()].flatMap(([bridge, b]) =>
      [...b.values()].filter((p) => p.kind === 'phy').map((p) => ({ bridge, port: p, phyIndex: p.phyIndex! })),
    );
  }

  async call(method: string, params: readonly PyValue[]): Promise<PyValue> {
    const [a0, a1, a2] = this.realArgs(method, params);
    switch (method) {
      case 'add_switch': {
        const name = pyStr(a0 ?? null);
        if (!/^[\w.-]{1,15}$/.test(name)) throw new VsperfError('E_STEP_BRIDGE', `bridge name ${JSON.stringify(name)}: 1-15 letters, digits, _ . -`);
        if (a1 !== undefined && a1 !== null) this.o.log.warn(`vswitch add_switch ${name}: extra bridge parameters ${pyStr(a1)} are not applied`);
        await this.vs.addBridge(name);
        this.bridges.set(name, new Map());
        return null;
      }
      case 'del_switch': {
        const name = pyStr(a0 ?? null);
        if (!this.vs.delBridge) unsupported(method, `${this.vs.name} cannot delete bridges`);
        await this.vs.delBridge!(name);
        this.bridges.delete(name);
        return null;
      }
      case 'add_phy_port':
        return this.addPhyPort(a0 ?? null);
      case 'add_vport':
        return this.addVport(a0 ?? null);
      case 'del_port': {
        const b = this.bridge(a0 ?? null);
        await this.vs.delPort(pyStr(a0 ?? null), pyStr(a1 ?? null));
        b.delete(pyStr(a1 ?? null));
        return null;
      }
      case 'add_flow': {
        if (!isFlowDict(a1 ?? null)) throw new VsperfError('E_STEP_FLOW', 'vswitch add_flow takes a flow dictionary');
        this.bridge(a0 ?? null);
        await this.vs.addFlow(pyStr(a0 ?? null), { type: 'raw', flow: flowKey(a1 as FlowDict) });
        return null;
      }
      case 'del_flow': {
        this.bridge(a0 ?? null);
        const flow = isFlowDict(a1 ?? null) ? (a1 as FlowDict) : {};
        if (!this.vs.delFlowsMatching) unsupported(method, `${this.vs.name} cannot delete single flows`);
        const { actions: _a, idle_timeout: _t, ...match } = flow;
        await this.vs.delFlowsMatching!(pyStr(a0 ?? null), flowKey(match));
        return null;
      }
      case 'dump_flows':
      case 'dump_connections': {
        const lines = await this.vs.dumpFlows(pyStr(a0 ?? null));
        for (const l of lines) this.o.log.info(`${pyStr(a0 ?? null)}: ${l}`);
        return lines;
      }
      case 'add_connection': {
        for (const f of this.connectionFlows(a0 ?? null, a1 ?? null, a2 ?? null)) await this.vs.addFlow(pyStr(a0 ?? null), { type: 'raw', flow: flowKey(f) });
        return null;
      }
      case 'del_connection': {
        this.bridge(a0 ?? null);
        const match = a1 !== undefined && a1 !== null ? `in_port=${this.ofportOf(a0 ?? null, a1)}` : '';
        await this.vs.delFlowsMatching!(pyStr(a0 ?? null), match);
        return null;
      }
      case 'get_ports': {
        if (!this.vs.getPorts) unsupported(method, `${this.vs.name} cannot list ports`);
        return (await this.vs.getPorts!(pyStr(a0 ?? null))).map((p) => [p.name, p.ofport]);
      }
      case 'add_tunnel_port':
        return this.addTunnelPort(a0 ?? null, a1 ?? null, a2 ?? 'vxlan', params[3] ?? null);
      case 'add_route': {
        // VSPERF: the switch must know the bridge; the route says where tunnel traffic to `network` leaves.
        this.bridge(a0 ?? null);
        if (!this.vs.addTunnelRoute) unsupported(method, `${this.vs.name} has no tunnel routing table`);
        await this.vs.addTunnelRoute!(ipOrNet(a1 ?? null, 'network', true), bridgeParam(a2 ?? null, 'destination'));
        return null;
      }
      case 'set_tunnel_arp': {
        const bridge = bridgeParam(a2 ?? null, 'switch_name');
        this.bridge(bridge);
        if (!this.vs.setTunnelArp) unsupported(method, `${this.vs.name} has no tunnel neighbour table`);
        await this.vs.setTunnelArp!(bridge, ipOrNet(a0 ?? null, 'ip_addr', false), macParam(a1 ?? null));
        return null;
      }
      case 'restart':
        if (!this.vs.restart) unsupported(method, `${this.vs.name} cannot be restarted inside a testcase`);
        await this.vs.restart!();
        return null;
      case 'run_vppctl':
        return unsupported(method, 'VPP is not available in vsperf-ts (no VppDpdkVhost driver)');
      default:
        return unsupported(method, `not implemented for ${this.vs.name} in vsperf-ts`);
    }
  }

  /** VSPERF's add_connection flow: in_port → output, with the flow template (idle_timeout 0). */
  private connectionFlows(bridge: PyValue, p1: PyValue, p2: PyValue | undefined): FlowDict[] {
    const flow: Record<string, PyValue> = {
      idle_timeout: '0',
      in_port: String(this.ofportOf(bridge, p1)),
      actions: [`output:${this.ofportOf(bridge, p2 ?? null)}`],
    };
    return [flow];
  }

  private async addPhyPort(bridgeName: PyValue): Promise<PyValue> {
    const b = this.bridge(bridgeName);
    const used = new Set(
      this.allPorts()
        .filter((p) => p.kind === 'phy')
        .map((p) => p.phyIndex!),
    );
    const index = [...this.o.phyPorts.keys()].find((i) => !used.has(i));
    if (index === undefined) {
      throw new CapabilityError(
        this.vs.name,
        `a physical port number ${used.size + 1}`,
        `${this.o.testbedLabel} has ${this.o.phyPorts.length} physical port(s) (set WHITELIST_NICS to more NICs)`,
      );
    }
    const phy = this.o.phyPorts[index]!;
    const caps = this.vs.capabilities?.();
    // VSPERF: OvsDpdkVhost names the n-th DPDK port dpdk<n>; OvsVanilla adds the NIC's netdev under its own name.
    const name = caps && !caps.vhostUser && phy.kind === 'veth' ? phy.iface : `dpdk${used.size}`;
    const port = await this.vs.addPhyPort(pyStr(bridgeName), name, phy, this.nextOfport(b));
    b.set(port.name, { ...port, kind: 'phy', phyIndex: index });
    return [port.name, port.ofport];
  }

  /**
   * VSPERF add_tunnel_port(switch_name, remote_ip, tunnel_type='vxlan', params=None): port `<type><n>`,
   * n = tunnel ports of that type on all bridges; `params` are Interface columns, `options:key=value`.
   */
  private async addTunnelPort(bridgeName: PyValue, remoteIp: PyValue, type: PyValue, params: PyValue): Promise<PyValue> {
    const b = this.bridge(bridgeName);
    const t = pyStr(type);
    if (!(TUNNEL_TYPES as readonly string[]).includes(t))
      throw new VsperfError('E_STEP_PARAM', `add_tunnel_port: tunnel_type ${pyRepr(type)} is not one of ${TUNNEL_TYPES.join(', ')}`);
    if (!this.vs.addTunnelPort) unsupported('add_tunnel_port', `${this.vs.name} has no tunnel ports`);
    const options = tunnelOptions(params);
    const n = this.allPorts().filter((p) => p.kind === 'tunnel' && (p.tunnelType ?? p.name.replace(/\d+$/, '')) === t).length;
    const port = await this.vs.addTunnelPort!(
      pyStr(bridgeName),
      `${t}${n}`,
      t as TunnelType,
      ipOrNet(remoteIp, 'remote_ip', false),
      this.nextOfport(b),
      options,
    );
    b.set(port.name, { ...port, kind: 'tunnel', tunnelType: t });
    return [port.name, port.ofport];
  }

  private async addVport(bridgeName: PyValue): Promise<PyValue> {
    const b = this.bridge(bridgeName);
    const kind = this.o.vhostServerMode ? 'dpdkvhostuser' : 'dpdkvhostuserclient';
    const count = this.allPorts().filter((p) => p.kind === 'vhost').length;
    const port = await this.vs.addVhostPort(pyStr(bridgeName), `${kind}${count}`, this.nextOfport(b));
    b.set(port.name, { ...port, kind: 'vhost' });
    return [port.name, port.ofport];
  }

  canValidate(method: string): boolean {
    return IVSWITCH_METHODS.includes(method) || TUNNEL_METHODS.includes(method) || method === 'restart';
  }

  async validate(method: string, result: PyValue, params: readonly PyValue[]): Promise<boolean> {
    const [a0, a1, a2] = this.realArgs(method, params);
    const bridge = pyStr(a0 ?? null);
    const show = async (): Promise<string> => {
      if (!this.vs.show) unsupported(method, `${this.vs.name} cannot show its configuration for validation`);
      return this.vs.show!();
    };
    const re = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    switch (method) {
      case 'add_switch':
        return new RegExp(`Bridge ["']?${re(bridge)}["']?\\s*$`, 'm').test(await show());
      case 'del_switch':
        return !new RegExp(`Bridge ["']?${re(bridge)}["']?\\s*$`, 'm').test(await show());
      case 'add_phy_port':
      case 'add_vport': {
        if (!Array.isArray(result)) return false;
        const name = pyStr(result[0] ?? null);
        const text = await show();
        return new RegExp(`Port ["']?${re(name)}["']?\\s*$`, 'm').test(text) && new RegExp(`Interface ["']?${re(name)}["']?\\s*$`, 'm').test(text);
      }
      case 'del_port':
        return !new RegExp(`Port ["']?${re(pyStr(a1 ?? null))}["']?\\s*$`, 'm').test(await show());
      case 'add_flow':
        return isFlowDict(a1 ?? null) && flowPresent(await this.vs.dumpFlows(bridge), a1 as FlowDict);
      case 'del_flow': {
        if (!isFlowDict(a1 ?? null) || Object.keys(a1 as FlowDict).length === 0) return true;
        return !flowPresent(await this.vs.dumpFlows(bridge), a1 as FlowDict);
      }
      case 'add_connection': {
        const dump = await this.vs.dumpFlows(bridge);
        return this.connectionFlows(a0 ?? null, a1 ?? null, a2).every((f) => flowPresent(dump, f));
      }
      case 'del_connection': {
        if (a1 === undefined || a1 === null) return (await this.vs.dumpFlows(bridge)).length === 0;
        return !flowPresent(await this.vs.dumpFlows(bridge), { in_port: String(this.ofportOf(a0 ?? null, a1)) });
      }
      case 'get_ports':
        return Array.isArray(result);
      // VSPERF's validate_restart says True; here the restarted switch must answer again.
      case 'restart':
        return (await show()).length > 0;
      // VSPERF has no validate_ for these three; here each is checked in the switch's own tables.
      case 'add_tunnel_port': {
        if (!Array.isArray(result)) return false;
        const iface = interfaceBlock(await show(), pyStr(result[0] ?? null));
        return (
          iface !== undefined &&
          new RegExp(`^\\s*type: ${re(pyStr(a2 ?? 'vxlan'))}\\s*$`, 'm').test(iface) &&
          iface.includes(`remote_ip="${pyStr(a1 ?? null)}"`)
        );
      }
      case 'add_route': {
        if (!this.vs.showTunnelRoutes) return false;
        const network = pyStr(a1 ?? null);
        return (await this.vs.showTunnelRoutes()).split('\n').some((l) => l.includes(network) && new RegExp(`\\bdev ${re(pyStr(a2 ?? null))}\\b`).test(l));
      }
      case 'set_tunnel_arp': {
        if (!this.vs.showTunnelArp) return false;
        const [ip, mac] = [pyStr(a0 ?? null), pyStr(a1 ?? null).toLowerCase()];
        return (await this.vs.showTunnelArp())
          .split('\n')
          .some((l) => new RegExp(`^${re(ip)}\\s`).test(l.trim()) && l.toLowerCase().includes(mac) && l.includes(pyStr(a2 ?? null)));
      }
      default:
        return true; // dump_flows, dump_connections: the call itself is the check
    }
  }
}
