/**
 * The VSPERF deployments on one engine: phy2phy (p2p) and the PXP family (pvp, pvvp, pvpv, pxp).
 *
 * setup: testbed (sandbox veths in a netns of ours, or WHITELIST_NICS incl. SR-IOV VFs) → vSwitch
 * start → bridge (fail-mode secure) → physical ports → vhost ports → explicit flows → guests (only
 * now: with flows in place a guest bridging its NICs cannot form an L2 loop) → facts.
 * teardown releases in reverse; everything is also on the Host's cleanup stack and in its journal.
 */
import { ReleaseStack } from './release-stack.js';
import { randomBytes } from 'node:crypto';
import { ConfigError, DriverError, UsageError } from '../../framework/errors.js';
import type { Json, JsonObject, Settings } from '../../framework/config/settings.js';
import type { DriverContext } from '../../framework/api/driver.js';
import type { PortSpec } from '../../framework/api/trafficgen.js';
import { isPciPassthroughVnf, type GuestNic, type Vnf } from '../../framework/api/vnf.js';
import { connectionFlows, connectionTraffic, parseFrameModification, withFrameMod } from '../flows.js';
import { resolveNics, Sriov } from '../sriov/sriov.js';
import { createSandbox, type Testbed, type WireCounters } from '../testbed/sandbox.js';
import { vsperfNics } from '../testbed/vsperf-nics.js';
import { confineController } from '../testbed/controller-affinity.js';
import { ranges } from '../vswitch/pmd-cores.js';
import type { Deployment, FlowSpec, PhyPort, PortStats, SwitchCounters, Topology, VSwitch, VSwitchCaps, WireDelta } from '../../framework/api/deployment.js';
import { guestNicCounts, pxpPlan, type PxpShape } from './pxp-plan.js';
import { VswitchSteps, type AdoptedPort } from '../steps/vswitch-target.js';
import { deploymentGuestTarget, VnfSteps } from '../steps/vnf-target.js';
import { VhostBaseline } from './vhost-baseline.js';
import { addMigrationPorts, prepareMigrationPorts } from './migration-ports.js';
import { op2pTopology } from './op2p.js';
import { ptunpTopology } from './ptunp.js';

/** A port as the `vswitch` step object keeps it. */
type StepPort = AdoptedPort;

/** OVS-DPDK's largest MTU (a 9728-byte frame): what VSPERF's ovsdpdk_jumbo_mtu_upper_bound_* set. */
const MAX_DPDK_MTU = 9702;

const FULL_CAPS: VSwitchCaps = { bridges: true, vhostUser: true, pmdStats: false };

/**
 * SANDBOX_PORT_TYPE: veth (the kernel's veth path on both ends) or vhost (vhost-user sockets: the switch
 * measures its own cost). auto = vhost when the Software generator runs its dpdk backend and the switch
 * has vhost-user ports, else veth.
 */
export function sandboxPortType(s: Settings, caps: VSwitchCaps, direct: boolean): 'veth' | 'vhost' {
  const v = String(s.getOr('SANDBOX_PORT_TYPE', 'auto'));
  if (!['auto', 'veth', 'vhost'].includes(v))
    throw new ConfigError('SANDBOX_PORT_TYPE', s.source('SANDBOX_PORT_TYPE'), `must be auto, veth or vhost, got ${JSON.stringify(v)}`);
  const dpdkGen = String(s.getOr('TRAFFICGEN', 'Software')) === 'Software' && String(s.getOr('TRAFFICGEN_SOFTWARE_BACKEND', 'auto')) === 'dpdk';
  if (v === 'vhost' || (v === 'auto' && dpdkGen && caps.vhostUser && caps.bridges && !direct)) {
    if (direct || !caps.vhostUser)
      throw new UsageError(
        `SANDBOX_PORT_TYPE=vhost needs a vSwitch with vhost-user ports (${direct ? 'VSWITCH=none wires the generator ports straight' : 'this vSwitch has none'})`,
        { hint: 'use VSWITCH=OvsDpdkVhost, or SANDBOX_PORT_TYPE=veth' },
      );
    return 'vhost';
  }
  return 'veth';
}

function strList(v: Json | undefined): string[] {
  return Array.isArray(v) ? v.map((x) => String(x)) : v === undefined || v === null || v === '' ? [] : [String(v)];
}

/** Any number of signals → one that aborts with the first reason (AbortSignal.any needs Node 20.3). */
function anySignal(signals: readonly AbortSignal[]): AbortSignal {
  const ctl = new AbortController();
  for (const s of signals) {
    if (s.aborted) {
      ctl.abort(s.reason);
      break;
    }
    s.addEventListener('abort', () => ctl.abort(s.reason), { once: true });
  }
  return ctl.signal;
}

/** VSPERF's vhost port kind: dpdkvhostuser when the switch serves the sockets (VSWITCH_VHOSTUSER_SERVER_MODE). */
function vhostKind(s: Settings): 'dpdkvhostuser' | 'dpdkvhostuserclient' {
  return s.has('VSWITCH_VHOSTUSER_SERVER_MODE') && s.boolean('VSWITCH_VHOSTUSER_SERVER_MODE') ? 'dpdkvhostuser' : 'dpdkvhostuserclient';
}

export class VsperfDeployment implements Deployment {
  private vswitch: VSwitch | undefined;
  private guests: Vnf[] = [];
  private baseline: PortStats[] | undefined;
  private wireBaseline: WireCounters[] | undefined;
  /** WHITELIST_NICS entry behind each resolved NIC (for the results). */
  private nicLabels: string[] = [];
  /** The sandbox's "phy" ports are vhost-user: OVS has their counters only while the generator is connected. */
  private vhostPhy = false;
  /** vhost "phy" ports: what a baseline read between trials takes from earlier reads (vhost-baseline.ts). */
  private readonly vhostCarry = new VhostBaseline();
  /** Switch ports facing generator ports 0 and 1 by name, where OpenFlow numbers do not say it (op2p). */
  private phyPortNames: readonly string[] | undefined;
  readonly tag = randomBytes(2).toString('hex');

  private readonly releases: ReleaseStack;
  /** The largest MTU the switch's ports may get in this run (jumbo frames, or a clean deployment's steps); 0 = standard. */
  private maxMtu = 0;

  constructor(
    readonly name: string,
    private readonly ctx: DriverContext,
    /** undefined = phy2phy. */
    private readonly pxp?: PxpShape,
  ) {
    this.releases = new ReleaseStack(name, ctx);
  }

  private get s() {
    return this.ctx.settings;
  }

  private defer(label: string, fn: () => Promise<void>): void {
    this.releases.defer(label, fn);
  }

  private async testbed(caps: VSwitchCaps): Promise<Testbed> {
    const nics = strList(this.s.getOr('WHITELIST_NICS', []));
    const speedMbps = Number(this.s.getOr('TRAFFICGEN_PORT_SPEED_MBPS', 10000));
    if (nics.length === 0) {
      const jumbo = this.s.has('VSWITCH_JUMBO_FRAMES_ENABLED') && this.s.boolean('VSWITCH_JUMBO_FRAMES_ENABLED');
      // Jumbo frames, or a clean deployment (VSPERF's ovsdpdk_jumbo_* steps set mtu_request up to
      // OVS-DPDK's 9702): AF_XDP on a veth cannot carry a frame beyond a page (the kernel refuses
      // an XDP program on a veth with MTU > ~3500). Such a port is not AF_XDP: OVS-DPDK opens it with
      // net_pcap (ovs.ts: net_af_packet has no ring frame size that serves both 1500 and 9000).
      const mtuMayGrow = jumbo || this.name === 'clean';
      if (mtuMayGrow) this.maxMtu = MAX_DPDK_MTU;
      const asked = String(this.s.getOr('SANDBOX_PORT_IO', 'auto'));
      if (asked !== 'auto' && asked !== 'af_xdp' && asked !== 'af_packet')
        throw new ConfigError('SANDBOX_PORT_IO', this.s.source('SANDBOX_PORT_IO'), `must be auto, af_xdp or af_packet, got ${JSON.stringify(asked)}`);
      const io = asked === 'auto' ? (mtuMayGrow ? 'af_packet' : 'af_xdp') : asked;
      const direct = !caps.bridges && !this.pxp;
      const tb = await createSandbox(this.ctx.host, {
        tag: this.tag,
        ports: 2,
        direct,
        io,
        portType: sandboxPortType(this.s, caps, direct),
        // veth "wires" have no line speed; a nominal 1 Gbit/s keeps VSPERF's 0.05 %-point search
        // precision meaningful at software-generator rates (0.05 % of 10 G would be ±7 kfps).
        speedMbps: Number(this.s.getOr('SANDBOX_PORT_SPEED_MBPS', 1000)),
        ...(jumbo ? { mtu: Number(this.s.getOr('VSWITCH_JUMBO_FRAMES_SIZE', 9000)) } : {}),
        ...(mtuMayGrow && io === 'af_packet' ? { maxMtu: MAX_DPDK_MTU } : {}),
        log: this.ctx.log,
      });
      return tb;
    }
    if (nics.length < 2) throw new ConfigError('WHITELIST_NICS', this.s.source('WHITELIST_NICS'), `needs 2 NICs for ${this.name}, got ${nics.length}`);
    const sriov = new Sriov(this.ctx.host, { sysfsRoot: String(this.s.getOr('SRIOV_SYSFS_ROOT', '/sys')), log: this.ctx.log });
    const vlan = Number(this.s.getOr('SRIOV_VF_VLAN', 0));
    const spoof = this.s.getOr('SRIOV_VF_SPOOFCHK', null);
    let resolved;
    try {
      resolved = await resolveNics(sriov, nics.slice(0, 2), {
        // DPDK (and guests) need the devices on vfio-pci; a plain OVS uses kernel netdevs.
        ...(caps.bridges && !caps.vhostUser ? {} : { driver: String(this.s.getOr('SRIOV_VF_DRIVER', 'vfio-pci')) }),
        macs: strList(this.s.getOr('SRIOV_VF_MACS', [])),
        ...(vlan ? { vlan } : {}),
        ...(typeof spoof === 'boolean' ? { spoofchk: spoof } : {}),
        source: this.s.source('WHITELIST_NICS'),
      });
    } catch (e) {
      await sriov.release().catch(() => undefined);
      throw e;
    }
    const gen = this.s.getOr('TRAFFICGEN_PORTS', []) as Json[];
    const generatorPorts: PortSpec[] = [0, 1].map((i) => {
      const g = gen[i];
      if (g && typeof g === 'object' && !Array.isArray(g)) return { speedMbps, ...(g as object) } as PortSpec;
      return { name: g !== undefined && g !== null ? String(g) : `port${i}`, speedMbps };
    });
    this.nicLabels = resolved.map((n) => (n.ref.vf !== undefined ? `${n.pci} (${n.ref.pci}|vf${n.ref.vf})` : n.pci));
    const switchPorts: PhyPort[] = resolved.map((n) => ({ kind: 'pci', pci: n.pci, ...(n.ref.vf !== undefined ? { vf: n.ref.vf } : {}) }));
    return { kind: 'nics', generatorPorts, switchPorts, release: () => sriov.release() };
  }

  setup(signal: AbortSignal): Promise<Topology> {
    return this.releases.guard(() => this.doSetup(signal));
  }

  private async doSetup(signal: AbortSignal): Promise<Topology> {
    const vsName = String(this.s.getOr('VSWITCH', 'OvsDpdkVhost'));
    const vswitch = await this.ctx.create('vswitch', vsName);
    const caps = vswitch.capabilities?.() ?? FULL_CAPS;
    const passthroughVnf = await this.passthroughVnf(vswitch, caps);
    const frameMod = parseFrameModification(this.s.getOr('FRAME_MOD', ''), this.s.source('FRAME_MOD'));
    if (frameMod && !caps.bridges) throw new UsageError(`frame modification "${frameMod}" needs a vSwitch (VSWITCH=none cannot modify frames)`);
    const tb = await this.testbed(caps);
    this.vhostPhy = tb.portType === 'vhost';
    this.defer(`release ${tb.kind} testbed`, () => tb.release());
    signal.throwIfAborted();
    const facts = this.testbedFacts(tb, vswitch);
    const signals: AbortSignal[] = [];
    const topo = caps.bridges
      ? await this.bridgeTopology(vswitch, tb, frameMod, facts, signals, signal)
      : await this.wiredTopology(vswitch, tb, passthroughVnf, facts, signals, signal);
    return { ...topo, nics: await vsperfNics(tb.switchPorts, tb.switchNetns) };
  }

  /** Guests without vhost-user ports: only `none` with a PCI-passthrough VNF (VSPERF: QemuPciPassthrough, pvp only). */
  private async passthroughVnf(vswitch: VSwitch, caps: VSwitchCaps): Promise<Vnf | undefined> {
    if (this.pxp && !caps.vhostUser) {
      const vnfName = String(this.s.getOr('VNF', 'QemuDpdkVhostUser'));
      const vnf = caps.bridges ? undefined : await this.ctx.create('vnf', vnfName);
      if (!isPciPassthroughVnf(vnf)) {
        throw new UsageError(`deployment ${this.name} needs vhost-user ports; vSwitch ${vswitch.name} has none`, {
          hint: caps.bridges
            ? 'use VSWITCH=OvsDpdkVhost'
            : `without a vSwitch the guest gets the NICs by PCI passthrough: --vnf QemuPciPassthrough (VNF ${vnfName} uses vhost-user)`,
        });
      }
      if (this.pxp.vms !== 1)
        throw new UsageError(`PCI passthrough (VNF ${vnfName}) works with deployment pvp only (one guest gets the NICs), not ${this.name}`);
      if (strList(this.s.getOr('WHITELIST_NICS', [])).length === 0) {
        throw new UsageError(
          `PCI passthrough (VNF ${vnfName}) needs WHITELIST_NICS: PCI NICs or SR-IOV VFs ("0000:05:00.0|vf0"); the sandbox's veth ports cannot be given to a guest`,
        );
      }
      return vnf;
    }
    return undefined;
  }

  private testbedFacts(tb: Testbed, vswitch: VSwitch): Record<string, string | number | boolean> {
    return {
      deployment: this.name,
      vswitch: vswitch.name,
      testbed: tb.kind,
      ...(tb.netns ? { testbed_netns: tb.netns } : {}),
      ...(tb.portType === 'vhost'
        ? {
            testbed_port_type: 'vhost-user',
            testbed_note:
              'the "physical" ports are vhost-user sockets to the generator (net_virtio_user), not NICs: the result is the switch\'s vhost-to-vhost forwarding rate',
            switch_counters:
              "OVS drops a vhost-user port's counters when the generator disconnects after each trial: no per-port cross-check (the PMD stats count what the switch received)",
          }
        : tb.kind === 'sandbox'
          ? { testbed_port_type: 'veth' }
          : {}),
    };
  }

  /** A switch with bridges: start it, add the bridge, ports and flows, and start the guests of pvp/pvvp/pvpv/pxp. */
  private async bridgeTopology(
    vswitch: VSwitch,
    tb: Testbed,
    frameMod: ReturnType<typeof parseFrameModification>,
    facts: Record<string, string | number | boolean>,
    signals: AbortSignal[],
    signal: AbortSignal,
  ): Promise<Topology> {
    if (tb.switchNetns) {
      if (!vswitch.useNetns) throw new UsageError(`vSwitch ${vswitch.name} cannot run in the sandbox's switch namespace (no useNetns())`);
      vswitch.useNetns(tb.switchNetns);
      facts.testbed_switch_netns = tb.switchNetns;
    }
    if (this.maxMtu) vswitch.allowMtu?.(this.maxMtu);
    // The vhost sandbox measures the switch's PMD: nothing else of the switch may stall it (its rings overflow).
    if (tb.portType === 'vhost') vswitch.keepOffPmdCpus?.();
    await vswitch.start(signal);
    this.vswitch = vswitch;
    const runDir = (vswitch as { runDir?: unknown }).runDir;
    if (typeof runDir === 'string') facts.vswitch_run_dir = runDir;
    this.defer(`stop ${vswitch.name}`, () => vswitch.stop());
    if (vswitch.health) signals.push(vswitch.health);
    if (tb.portType === 'vhost' && vswitch.nonPmdCpus?.length) {
      const c = await confineController(vswitch.nonPmdCpus, this.ctx.log);
      this.defer('restore the controller CPUs', () => c.restore());
      facts.controller_cpus = `vsperf (pid ${process.pid}) and what it runs: CPU ${ranges(c.cpus)} during the run (was ${ranges(c.before)})`;
    }
    if (this.name === 'clean') return this.cleanTopology(tb, vswitch, facts, signals);
    if (this.name === 'op2p') return this.overlayTopology(tb, vswitch, facts, signals);
    if (this.name === 'ptunp') return this.ptunpTopology(tb, vswitch, facts, signals);
    // The bridge's internal port is a tap netdev: in the sandbox give it our prefix (it lives in the switch netns anyway).
    const bridge = tb.kind === 'sandbox' ? `vsd${this.tag}br0` : String(this.s.getOr('VSWITCH_BRIDGE_NAME', 'vsperf-br0'));
    await vswitch.addBridge(bridge);
    const phy: number[] = [];
    const stepPorts: StepPort[] = [];
    for (const [i, p] of tb.switchPorts.entries()) {
      const sp = await vswitch.addPhyPort(bridge, `dpdk${i}`, p, i + 1);
      phy.push(sp.ofport);
      stepPorts.push({ ...sp, kind: 'phy', phyIndex: i });
    }
    const { flows, guestNics, trafficOverrides } = await this.bridgePlan(vswitch, bridge, phy, frameMod, facts, stepPorts);
    if (vswitch.addFlows) await vswitch.addFlows(bridge, flows);
    else for (const f of flows) await vswitch.addFlow(bridge, f);
    await this.flowFacts(vswitch, bridge, flows, frameMod, facts);
    if (this.pxp) await this.bootGuests(vswitch, bridge, guestNics, signal, signals);
    await tb.waitUp?.(10_000);
    // read once the ports exist (DPDK starts its vhost threads with the first vhost-user port)
    const placed = tb.portType === 'vhost' ? vswitch.threadPlacement?.() : undefined;
    if (placed) facts.vswitch_thread_placement = placed;
    return this.withSteps(this.topology(tb, bridge, facts, signals, trafficOverrides), tb, vswitch, [
      { bridge, ports: stepPorts, alias: String(this.s.getOr('VSWITCH_BRIDGE_NAME', bridge)) },
    ]);
  }

  /** phy2phy: port flows both ways; PXP: the guests' vhost ports (also kept for the steps) and the plan's flows and TRAFFIC overrides. */
  private async bridgePlan(
    vswitch: VSwitch,
    bridge: string,
    phy: readonly number[],
    frameMod: ReturnType<typeof parseFrameModification>,
    facts: Record<string, string | number | boolean>,
    stepPorts: StepPort[],
  ): Promise<{ flows: FlowSpec[]; guestNics: GuestNic[][]; trafficOverrides?: JsonObject }> {
    const traffic = connectionTraffic((this.s.getOr('TRAFFIC', {}) as JsonObject) ?? {}, this.s.source('TRAFFIC'));
    if (!this.pxp) {
      const flows = [
        ...withFrameMod(connectionFlows(phy[0]!, phy[1]!, traffic), frameMod, true),
        ...withFrameMod(connectionFlows(phy[1]!, phy[0]!, traffic), frameMod, false),
      ];
      return { flows, guestNics: [] };
    }
    const nicsNr = (this.s.getOr('GUEST_NICS_NR', [2]) as Json[]).map(Number);
    const plan = pxpPlan(this.pxp, guestNicCounts(this.pxp.vms, nicsNr), traffic, phy[0], phy[1]);
    const guestNics: GuestNic[][] = [];
    let k = 0;
    for (const ports of plan.vmPorts) {
      const nics: GuestNic[] = [];
      for (const of of ports) {
        // VSPERF's names: dpdkvhostuser<n> when the switch serves the sockets, dpdkvhostuserclient<n> otherwise.
        const sp = await vswitch.addVhostPort(bridge, `${vhostKind(this.s)}${k++}`, of);
        stepPorts.push({ ...sp, kind: 'vhost' });
        nics.push({ socketPath: sp.socketPath!, portName: sp.name, ofport: sp.ofport, ...(sp.switchServes ? { switchServes: true } : {}) });
      }
      guestNics.push(nics);
    }
    facts.guests = this.pxp.vms;
    facts.guest_topology = this.pxp.topology;
    const flows = frameMod ? plan.flows.map((f) => withFrameMod([f], frameMod, true)[0]!) : plan.flows;
    return { flows, guestNics, ...(plan.trafficOverrides ? { trafficOverrides: plan.trafficOverrides } : {}) };
  }

  /** Switch version, bridge and the flows as the switch dumps them (first 20), for the results. */
  private async flowFacts(
    vswitch: VSwitch,
    bridge: string,
    flows: readonly FlowSpec[],
    frameMod: ReturnType<typeof parseFrameModification>,
    facts: Record<string, string | number | boolean>,
  ): Promise<void> {
    facts.vswitch_version = await vswitch.version();
    facts.bridge = bridge;
    facts.flows_installed = flows.length;
    const dump = await vswitch.dumpFlows(bridge);
    facts.flows = dump.length > 20 ? `${dump.slice(0, 20).join(' | ')} | … (${dump.length} flows)` : dump.join(' | ');
    if (frameMod) facts.frame_modification = frameMod;
  }

  /** Guests only now, with flows in place (no L2 loop), then their vhost links up. */
  private async bootGuests(vswitch: VSwitch, bridge: string, guestNics: GuestNic[][], signal: AbortSignal, signals: AbortSignal[]): Promise<void> {
    await this.startGuests(
      guestNics.map((nics) => ({ nics })),
      signal,
      signals,
    );
    // A guest that printed its ready marker may still be bringing up virtio: wait for the vhost links.
    const names = guestNics.flat().map((n) => n.portName!);
    const down = vswitch.waitLinksUp ? await vswitch.waitLinksUp(bridge, names, Number(this.s.getOr('VSWITCH_VHOST_LINK_TIMEOUT_S', 30)) * 1000) : [];
    if (down.length) throw new DriverError(vswitch.name, 'setup', `vhost-user ports still down after the guests booted: ${down.join(', ')}`);
  }

  /**
   * VSPERF lets a performance testcase's TestSteps act on the deployment's switch: `vswitch` steps see
   * its bridge (also by the name $VSWITCH_BRIDGE_NAME, when the testbed named it otherwise) and ports;
   * `VNF0`… are its guests.
   */
  private withSteps(
    topo: Topology,
    tb: Testbed,
    vswitch: VSwitch,
    bridges: readonly { bridge: string; ports: readonly StepPort[]; alias?: string }[],
  ): Topology {
    const vsSteps = new VswitchSteps({
      vswitch,
      phyPorts: tb.switchPorts,
      testbedLabel: tb.kind === 'sandbox' ? 'the sandbox testbed' : 'WHITELIST_NICS',
      vhostServerMode: false,
      log: this.ctx.log,
    });
    for (const b of bridges) vsSteps.adopt(b.bridge, b.ports, b.alias);
    const guests = this.guests;
    return {
      ...topo,
      stepObject: (object) => {
        if (object === 'vswitch') return vsSteps;
        const vnf = /^VNF(\d+)$/.exec(object);
        if (vnf)
          return Number(vnf[1]) < guests.length
            ? deploymentGuestTarget(this.ctx, object, Number(vnf[1]), guests[Number(vnf[1])]!)
            : `VNF with index ${vnf[1]} is not running (deployment ${this.name} has ${guests.length} guest(s))`;
        if (/^vnf\w*$/.test(object))
          return `${object}: guests are started by steps in deployment clean only here (deployment ${this.name} starts its own: VNF0…)`;
        return undefined;
      },
    };
  }

  /** VSWITCH=none: ports wired straight (phy2phy), or handed to the guest by PCI passthrough (pvp). */
  private async wiredTopology(
    vswitch: VSwitch,
    tb: Testbed,
    passthroughVnf: Vnf | undefined,
    facts: Record<string, string | number | boolean>,
    signals: AbortSignal[],
    signal: AbortSignal,
  ): Promise<Topology> {
    facts.vswitch_version = await vswitch.version();
    if (passthroughVnf) {
      const pciDevices = tb.switchPorts.map((p) => (p.kind === 'pci' ? p.pci : p.kind === 'veth' ? p.iface : p.socketPath));
      facts.guests = 1;
      facts.guest_topology = 'pci-passthrough';
      facts.pci_passthrough = this.nicLabels.join(', ');
      await this.startGuests([{ nics: [], pciDevices }], signal, signals, passthroughVnf);
    }
    await tb.waitUp?.(10_000);
    return this.topology(tb, undefined, facts, signals);
  }

  /**
   * VSPERF's `clean` deployment: the switch runs with no bridge, ports or flows; the testcase's
   * TestSteps build everything through the `vswitch` and `vnf` step objects.
   */
  private async cleanTopology(tb: Testbed, vswitch: VSwitch, facts: Record<string, string | number | boolean>, signals: AbortSignal[]): Promise<Topology> {
    facts.vswitch_version = await vswitch.version();
    const serverMode = this.s.has('VSWITCH_VHOSTUSER_SERVER_MODE') && this.s.boolean('VSWITCH_VHOSTUSER_SERVER_MODE');
    const vsSteps = new VswitchSteps({
      vswitch,
      phyPorts: tb.switchPorts,
      testbedLabel: tb.kind === 'sandbox' ? 'the sandbox testbed' : 'WHITELIST_NICS',
      vhostServerMode: serverMode,
      log: this.ctx.log,
    });
    const vnfSteps = new VnfSteps({ ctx: this.ctx, vswitch, vhostPort: (n) => vsSteps.vhostPort(n), vhostServerMode: serverMode });
    this.defer('stop guests started by steps', () => vnfSteps.stopAll());
    await tb.waitUp?.(10_000);
    const topo = this.topology(tb, undefined, facts, signals);
    return {
      ...topo,
      vswitch,
      stepObject: (object) => {
        if (object === 'vswitch') return vsSteps;
        if (/^vnf\w*$/.test(object)) return vnfSteps.target(object);
        if (/^VNF\d+$/.test(object)) return `${object}: deployment clean starts no guests (use vnf steps)`;
        return undefined;
      },
    };
  }

  /** VSPERF's op2p: integration and external bridge, tunnel port, endpoint addresses (op2p.ts). */
  private async overlayTopology(tb: Testbed, vswitch: VSwitch, facts: Record<string, string | number | boolean>, signals: AbortSignal[]): Promise<Topology> {
    const o = await op2pTopology(this.s, vswitch, tb.switchPorts);
    Object.assign(facts, o.facts);
    facts.vswitch_version = await vswitch.version();
    this.phyPortNames = o.phy.map((p) => p.name);
    await tb.waitUp?.(10_000);
    const topo = this.topology(tb, o.bridges, facts, signals, o.trafficOverrides);
    return this.withSteps(topo, tb, vswitch, o.stepBridges);
  }

  /** VSPERF's ptunp: VXLAN encap and decap inside the switch, four bridges (ptunp.ts). */
  private async ptunpTopology(tb: Testbed, vswitch: VSwitch, facts: Record<string, string | number | boolean>, signals: AbortSignal[]): Promise<Topology> {
    const o = await ptunpTopology(this.s, vswitch, tb.switchPorts);
    Object.assign(facts, o.facts);
    facts.vswitch_version = await vswitch.version();
    this.phyPortNames = o.phy.map((p) => p.name);
    await tb.waitUp?.(10_000);
    return this.withSteps(this.topology(tb, o.bridges, facts, signals), tb, vswitch, o.stepBridges);
  }

  /** Guests in VM index order: vhost-user NICs, or PCI devices for a passthrough VNF (`first`: already created). */
  private async startGuests(guests: { nics: GuestNic[]; pciDevices?: string[] }[], signal: AbortSignal, signals: AbortSignal[], first?: Vnf): Promise<void> {
    const vnfName = String(this.s.getOr('VNF', 'QemuDpdkVhostUser'));
    const timeouts = (this.s.getOr('GUEST_TIMEOUT', [180]) as Json[]).map(Number);
    for (const [index, g] of guests.entries()) {
      const vnf = index === 0 && first ? first : await this.ctx.create('vnf', vnfName);
      if (!vnf.attach) throw new DriverError(vnfName, 'attach', 'this VNF driver cannot be given vhost-user NICs (no attach())');
      if (!g.pciDevices && isPciPassthroughVnf(vnf)) {
        throw new UsageError(`VNF ${vnfName} passes host PCI devices to the guest and needs --vswitch none (deployment pvp)`, {
          hint: 'use VNF=QemuDpdkVhostUser with a vSwitch',
        });
      }
      vnf.attach({ index, nics: g.nics, ...(g.pciDevices ? { pciDevices: g.pciDevices } : {}) });
      this.guests.push(vnf);
      this.defer(`stop guest ${index}`, () => vnf.stop());
      await vnf.start(signal);
      const h = (vnf as { health?: AbortSignal }).health;
      if (h) signals.push(h);
    }
    for (const [index, vnf] of this.guests.entries()) {
      const t = timeouts[Math.min(index, timeouts.length - 1)] ?? 180;
      await vnf.waitReady(t * 1000, signal);
    }
  }

  /** `bridges`: the first is the topology's bridge; counters are read from all (op2p has two, ptunp four). */
  private topology(
    tb: Testbed,
    bridges: string | readonly string[] | undefined,
    facts: Record<string, string | number | boolean>,
    signals: AbortSignal[],
    trafficOverrides?: JsonObject,
  ): Topology {
    const all = bridges === undefined ? [] : typeof bridges === 'string' ? [bridges] : [...bridges];
    const bridge = all[0];
    const vswitch = this.vswitch;
    const guests = this.guests;
    const health = signals.length ? anySignal(signals) : undefined;
    for (const [i, g] of guests.entries()) for (const [k, v] of Object.entries(g.facts())) facts[`guest${i}_${k}`] = v;
    const topo: Topology = {
      generatorPorts: tb.generatorPorts,
      facts,
      ...(vswitch ? { vswitch } : {}),
      ...(bridge ? { bridge } : {}),
      ...(guests.length ? { guests } : {}),
      ...(trafficOverrides ? { trafficOverrides } : {}),
      ...(health ? { health } : {}),
    };
    if (!vswitch || !bridge) return topo;
    return {
      ...topo,
      ...((vswitch.capabilities?.() ?? FULL_CAPS).vhostUser
        ? { addMigrationPorts: (nics: readonly GuestNic[]) => addMigrationPorts(vswitch, bridge, nics, { prepare: prepareMigrationPorts(this.s) }) }
        : {}),
      beforeTrial: async () => {
        if (health?.aborted) throw health.reason;
        this.baseline = this.vhostPhy ? await this.vhostBaseline(vswitch, all) : await this.portStats(vswitch, all);
        this.wireBaseline = await tb.wireCounters?.();
        await vswitch.clearStats?.(bridge);
      },
      afterTrial: async () => {
        if (health?.aborted) throw health.reason;
        const c = await this.counters(vswitch, all, await tb.wireCounters?.());
        return c as unknown as Record<string, unknown>;
      },
    };
  }

  /** Port counter deltas since beforeTrial, mapped to generator ports (switch phy port i ↔ generator port i). */
  private async counters(vswitch: VSwitch, bridges: readonly string[], wireNow?: readonly WireCounters[]): Promise<SwitchCounters> {
    const now = await this.portStats(vswitch, bridges);
    // Keyed by name too: OpenFlow numbers repeat across op2p's two bridges.
    const key = (p: PortStats): string => `${p.name}#${p.ofport}`;
    const base = new Map((this.baseline ?? []).map((p) => [key(p), p]));
    const ports: PortStats[] = now.map((p) => {
      const b = base.get(key(p));
      return {
        name: p.name,
        ofport: p.ofport,
        rxPackets: p.rxPackets - (b?.rxPackets ?? 0),
        txPackets: p.txPackets - (b?.txPackets ?? 0),
        rxDropped: p.rxDropped - (b?.rxDropped ?? 0),
        txDropped: p.txDropped - (b?.txDropped ?? 0),
        ...(p.rxErrors !== undefined ? { rxErrors: p.rxErrors - (b?.rxErrors ?? 0) } : {}),
        ...(p.txErrors !== undefined ? { txErrors: p.txErrors - (b?.txErrors ?? 0) } : {}),
        ...(p.rxPolicerDropped !== undefined ? { rxPolicerDropped: p.rxPolicerDropped - (b?.rxPolicerDropped ?? 0) } : {}),
        ...(p.txPolicerDropped !== undefined ? { txPolicerDropped: p.txPolicerDropped - (b?.txPolicerDropped ?? 0) } : {}),
        ...(p.rxPolicedInRxPackets !== undefined ? { rxPolicedInRxPackets: p.rxPolicedInRxPackets } : {}),
        ...(p.rxBytes !== undefined ? { rxBytes: p.rxBytes - (b?.rxBytes ?? 0) } : {}),
        ...(p.txBytes !== undefined ? { txBytes: p.txBytes - (b?.txBytes ?? 0) } : {}),
      };
    });
    // Generator port i ↔ the switch's port at OpenFlow number i+1, or (op2p: two bridges, VSPERF's
    // per-bridge numbers) the phy port by name.
    const phyOf = (i: number): PortStats | undefined =>
      this.phyPortNames ? ports.find((x) => x.name === this.phyPortNames![i]) : ports.find((x) => x.ofport === i + 1);
    const mapped = [0, 1].flatMap((index) => {
      const p = phyOf(index);
      const w = wireNow?.find((x) => x.index === index);
      const b = this.wireBaseline?.find((x) => x.index === index);
      const wire: WireDelta | undefined =
        w && b
          ? {
              toSwitch: w.toSwitch - b.toSwitch,
              droppedToSwitch: w.droppedToSwitch - b.droppedToSwitch,
              switchDropped: w.switchDropped - b.switchDropped,
              toGenerator: w.toGenerator - b.toGenerator,
            }
          : undefined;
      return p ? [{ index, port: p.name, rxFromGenerator: p.rxPackets, txToGenerator: p.txPackets, ...(wire ? { wire } : {}) }] : [];
    });
    // A vhost "phy" port's counters live as long as the generator's device is connected (OVS drops them
    // when it disconnects, and starts from 0 with the next trial's): they are the trial's only while every
    // such link is still up, i.e. read before the generator released its ports (the trial runner does).
    const vhostCounted =
      !this.vhostPhy || (!mapped.some((g) => now.find((p) => p.name === g.port)?.unreported) && (await linksUp(vswitch, bridges[0], mapped)));
    const generatorPorts = vhostCounted ? mapped : [];
    if (this.vhostPhy) this.vhostCarry.afterRead(now, this.vhostPhyNames(now), vhostCounted);
    if (this.vhostPhy && !vhostCounted)
      this.ctx.log.warn(
        `no counter check for this trial: the switch's vhost-user ports facing the generator (${this.vhostPhyNames(ports).join(', ') || 'none found'}) were read after the generator let go of them, and OVS keeps no counters for a disconnected port`,
      );
    const extra = vswitch.extraStats ? await vswitch.extraStats() : undefined;
    return { vswitch: vswitch.name, ports, generatorPorts, ...(extra && Object.keys(extra).length ? { extra } : {}) };
  }

  /** The switch's ports facing generator ports 0 and 1. */
  private vhostPhyNames(ports: readonly PortStats[]): string[] {
    return [0, 1].flatMap((i) => {
      const p = this.phyPortNames ? ports.find((x) => x.name === this.phyPortNames![i]) : ports.find((x) => x.ofport === i + 1);
      return p ? [p.name] : [];
    });
  }

  /**
   * The baseline on the vhost sandbox, read once the previous trial's generator device is gone: read while
   * it is still connected, its counts would be the previous trial's, and the next connection counts from 0
   * (what a disconnected port's counts are taken as: vhost-baseline.ts).
   */
  private async vhostBaseline(vswitch: VSwitch, bridges: readonly string[]): Promise<PortStats[]> {
    const names = this.vhostPhyNames(await this.portStats(vswitch, bridges));
    const bridge = bridges[0];
    let up = names;
    if (bridge !== undefined && vswitch.waitLinksUp) {
      const end = Date.now() + VHOST_DISCONNECT_WAIT_MS;
      for (;;) {
        const down = await vswitch.waitLinksUp(bridge, names, 0);
        up = names.filter((n) => !down.includes(n));
        if (!up.length || Date.now() >= end) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    if (up.length)
      this.ctx.log.warn(
        `vhost-user port(s) ${up.join(', ')} still connected ${VHOST_DISCONNECT_WAIT_MS / 1000} s after the last trial: their baseline may be the last trial's`,
      );
    const { ports, txUnknown } = this.vhostCarry.baseline(await this.portStats(vswitch, bridges), names, up);
    if (txUnknown.length)
      this.ctx.log.warn(
        `vhost-user port(s) ${txUnknown.join(', ')}: the last trial was read after the generator let go of them, so their tx drops since are not known; this trial's count them from the last read before (its rx drops and packet counts are its own)`,
      );
    return ports;
  }

  private async portStats(vswitch: VSwitch, bridges: readonly string[]): Promise<PortStats[]> {
    // Only op2p and ptunp have lazily counted (tunnel, patch) ports; others keep their one dump-ports call.
    if (this.name === 'op2p' || this.name === 'ptunp') await vswitch.syncStats?.();
    const out: PortStats[] = [];
    for (const b of bridges) out.push(...(await vswitch.portStats(b)));
    return out;
  }

  teardown(): Promise<void> {
    return this.releases.unwind();
  }
}

/** How long a trial's baseline waits for the last trial's generator device to leave the vhost-user ports. */
const VHOST_DISCONNECT_WAIT_MS = 5000;

/** Both generator-facing ports mapped, no counter negative, and their links up now (one look, no wait). */
async function linksUp(
  vswitch: VSwitch,
  bridge: string | undefined,
  mapped: readonly { port: string; rxFromGenerator: number; txToGenerator: number }[],
): Promise<boolean> {
  if (bridge === undefined || !vswitch.waitLinksUp || mapped.length !== 2) return false;
  if (mapped.some((g) => g.rxFromGenerator < 0 || g.txToGenerator < 0)) return false;
  const down = await vswitch.waitLinksUp(
    bridge,
    mapped.map((g) => g.port),
    0,
  );
  return down.length === 0;
}
