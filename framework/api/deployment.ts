/**
 * vSwitch drivers and deployment topologies. A deployment turns a testcase's `Deployment` name
 * (p2p/phy2phy, pvp, pvvp, pvpv, pxp…) into generator ports wired through a vSwitch and guests.
 */
import type { PortSpec } from './trafficgen.js';
import type { GuestNic, Vnf } from './vnf.js';
import type { StepTarget } from '../steps/types.js';
import type { JsonObject } from '../config/settings.js';
import type { HostOps } from '../host/host-ops.js';

/**
 * A "physical" port as handed to the vSwitch: a PCI NIC (or SR-IOV VF), a sandbox veth end used via
 * af_packet/af_xdp, or (sandbox) a vhost-user socket whose server end is the generator's virtio-user
 * device: the switch's vhost path stands in for a NIC, so no kernel cost shows on either end.
 */
export type PhyPort =
  | { readonly kind: 'pci'; readonly pci: string; readonly vf?: number }
  | {
      readonly kind: 'veth';
      readonly iface: string;
      readonly io: 'af_packet' | 'af_xdp';
      /** af_packet: send through the kernel's queue so a capture on the interface sees outgoing frames too. */
      readonly capturable?: boolean;
      /**
       * The largest MTU the switch may give this port while it runs (VSPERF's jumbo testcases set
       * mtu_request in their steps); absent = the standard 1500. OVS-DPDK opens such a port with net_pcap.
       */
      readonly maxMtu?: number;
    }
  | { readonly kind: 'vhost'; readonly socketPath: string };

export interface SwitchPort {
  readonly name: string;
  /** OpenFlow port number (deterministic: we request it). */
  readonly ofport: number;
  /** vhost-user socket path for vhost ports. */
  readonly socketPath?: string;
  /**
   * vhost ports: the switch serves the socket (OVS dpdkvhostuser, VSPERF's
   * VSWITCH_VHOSTUSER_SERVER_MODE) and the guest's QEMU connects to it as a client.
   */
  readonly switchServes?: boolean;
}

export interface PortStats {
  readonly name: string;
  readonly ofport: number;
  readonly rxPackets: number;
  readonly txPackets: number;
  readonly rxDropped: number;
  readonly txDropped: number;
  readonly rxErrors?: number;
  readonly txErrors?: number;
  /**
   * Frames the port's own policy dropped: its ingress policer (counted in rxDropped; in rxPackets too
   * when rxPolicedInRxPackets) and its egress QoS (counted in txDropped). Undefined: the switch does not say.
   */
  readonly rxPolicerDropped?: number;
  readonly txPolicerDropped?: number;
  /**
   * The ingress policer's drops are in rxPackets as well (OVS-DPDK 3.1, measured: dpdk and vhost-user
   * ports both count frames before their policer runs). Undefined: not known for this port.
   */
  readonly rxPolicedInRxPackets?: boolean;
  /**
   * The switch gave no packet or drop counts for the port now (OVS-DPDK: a vhost-user port without its
   * frontend); those read as 0. Its policer counts, when present, are still its own.
   */
  readonly unreported?: boolean;
  readonly rxBytes?: number;
  readonly txBytes?: number;
}

/** Fields a flow can match on (OpenFlow names in comments). Unset fields are wildcards. */
export interface FlowMatch {
  readonly inPort: number;
  /** dl_src / dl_dst (MAC, colon form). */
  readonly dlSrc?: string;
  readonly dlDst?: string;
  /** dl_type (EtherType, e.g. 0x0800). */
  readonly dlType?: number;
  /** nw_src / nw_dst (IPv4). Set dlType 0x0800 with them. */
  readonly nwSrc?: string;
  readonly nwDst?: string;
  /** nw_proto (17 = UDP). */
  readonly nwProto?: number;
  /** tp_src / tp_dst (L4 ports). Set nwProto with them. */
  readonly tpSrc?: number;
  readonly tpDst?: number;
}

/**
 * VSPERF's flow types: `port` (in_port → out), `match` (port plus L2/L3/L4 fields, optional header
 * modification actions before output), and a raw OpenFlow string as an escape hatch.
 */
export type FlowSpec =
  | { readonly type: 'port'; readonly inPort: number; readonly outPorts: readonly number[]; readonly modActions?: readonly string[] }
  | {
      readonly type: 'match';
      readonly match: FlowMatch;
      readonly outPorts: readonly number[];
      readonly modActions?: readonly string[];
      readonly priority?: number;
    }
  | { readonly type: 'raw'; readonly flow: string };

/** What a vSwitch can do; deployments wire topologies accordingly. */
export interface VSwitchCaps {
  /** Real switch with bridges and flows (false for `none`: ports are wired straight). */
  readonly bridges: boolean;
  /** vhost-user ports for guests. */
  readonly vhostUser: boolean;
  /** PMD statistics (DPDK datapath). */
  readonly pmdStats: boolean;
}

export interface VSwitch {
  readonly name: string;
  /** Absent = a full switch ({bridges: true, vhostUser: true, pmdStats: false}). */
  capabilities?(): VSwitchCaps;
  /**
   * Run the switch's datapath in this network namespace (the sandbox puts the switch-side ports
   * there). Called before start(); optional for switches that have no host-side presence.
   */
  useNetns?(netns: string): void;
  /**
   * Ports of this run may be given an MTU up to maxMtu (jumbo frames). Called before start(); a switch
   * that sizes its packet memory at start makes room for buffers of that size. Optional.
   */
  allowMtu?(maxMtu: number): void;
  /**
   * Run every thread of the switch but its busy-polling ones (OVS PMDs) off the CPUs those poll: a
   * thread the kernel runs on a PMD's CPU stalls the PMD meanwhile. Called before start(). Optional.
   */
  keepOffPmdCpus?(): void;
  /** After start() with keepOffPmdCpus: the CPUs the switch's other threads run on (undefined: not confined). */
  readonly nonPmdCpus?: readonly number[] | undefined;
  /** Where the switch's threads may run, one line for the results (after start()); undefined = unknown. */
  threadPlacement?(): string | undefined;
  start(signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  version(): Promise<string>;
  /** `hwaddr`: the bridge's own MAC (OVS other_config:hwaddr; VSPERF's ptunp modify bridges). */
  addBridge(name: string, opts?: { readonly hwaddr?: string }): Promise<void>;
  addPhyPort(bridge: string, name: string, port: PhyPort, ofport: number): Promise<SwitchPort>;
  addVhostPort(bridge: string, name: string, ofport: number): Promise<SwitchPort>;
  delPort(bridge: string, name: string): Promise<void>;
  addFlow(bridge: string, flow: FlowSpec): Promise<void>;
  /** Many flows in one call (pre-installed multistream flows: thousands). Optional for older drivers. */
  addFlows?(bridge: string, flows: readonly FlowSpec[]): Promise<void>;
  delFlows(bridge: string): Promise<void>;
  dumpFlows(bridge: string): Promise<string[]>;
  // ---- operations TestSteps need (VSPERF IVswitch: del_switch, get_ports, del_flow, …); optional ----
  /** Remove a bridge and its ports. */
  delBridge?(name: string): Promise<void>;
  /** Ports on a bridge as the switch reports them (name, OpenFlow port), in ofport order. */
  getPorts?(bridge: string): Promise<SwitchPort[]>;
  /** Delete the flows matching an OpenFlow match text (`in_port=1`, no actions); '' = all. */
  delFlowsMatching?(bridge: string, match: string): Promise<void>;
  /** The switch's own description of its configuration (ovs-vsctl show): validation reads it. */
  show?(): Promise<string>;
  /** Bridges that exist now. */
  listBridges?(): Promise<string[]>;
  /**
   * A tunnel port (VXLAN/GRE/GENEVE) to `remoteIp`; the tunnel's local endpoint is an address on a
   * bridge's LOCAL port, routed by the switch itself (OVS-DPDK: tnl/route).
   */
  addTunnelPort?(
    bridge: string,
    name: string,
    type: 'vxlan' | 'gre' | 'geneve',
    remoteIp: string,
    ofport: number,
    options?: Readonly<Record<string, string>>,
  ): Promise<SwitchPort>;
  /** Two patch ports joining two bridges, each the other's peer (OVS type=patch; VSPERF's add_veth_pair_port). */
  addPatchPorts?(
    a: { readonly bridge: string; readonly name: string; readonly ofport: number },
    b: { readonly bridge: string; readonly name: string; readonly ofport: number },
  ): Promise<[SwitchPort, SwitchPort]>;
  /** Route a network out of a bridge for tunnel traffic (OVS: `ovs-appctl ovs/route/add NETWORK BRIDGE`). */
  addTunnelRoute?(network: string, bridge: string): Promise<void>;
  /** A neighbour (ARP) entry for tunnel traffic leaving a bridge (OVS: `ovs-appctl tnl/arp/set BRIDGE IP MAC`). */
  setTunnelArp?(bridge: string, ip: string, mac: string): Promise<void>;
  /** The switch's tunnel routing table as it prints it (OVS: `ovs-appctl ovs/route/show`); step validation reads it. */
  showTunnelRoutes?(): Promise<string>;
  /** The switch's tunnel neighbour table as it prints it (OVS: `ovs-appctl tnl/arp/show`). */
  showTunnelArp?(): Promise<string>;
  /** MAC address the switch uses on one of its interfaces (a bridge's LOCAL port, a physical port). */
  interfaceMac?(name: string): Promise<string>;
  /** Run a command of the switch's own tools (ovs-vsctl/ovs-ofctl/ovs-appctl) with its private sockets. */
  toolArgv?(tool: 'ovs-vsctl' | 'ovs-ofctl' | 'ovs-appctl'): string[];
  /**
   * Environment under which the switch's tools, run by a user's TestSteps (`ovs-vsctl show`,
   * `ovs-ofctl dump-flows BRIDGE`), reach this private instance (OVS: OVS_RUNDIR and friends).
   */
  toolEnv?(): Readonly<Record<string, string>>;
  /**
   * After a user's TestSteps shell command (its argv as run) changed the switch with the switch's own
   * tools: wait until what the switch applies later has taken effect (OVS-DPDK: an Interface's
   * mtu_request), so the next step reads the new state, as it would after the switch's own add/set.
   */
  settleAfterTool?(argv: readonly string[], signal?: AbortSignal): Promise<void>;
  /**
   * The network namespace the switch and its ports live in (the sandbox's switch namespace), where
   * TestSteps' shell commands run (VSPERF runs them on the switch's host: `ip addr flush dev
   * $NICS[0]["device"]`); undefined = this host's.
   */
  toolNetns?(): string | undefined;
  /**
   * The host the switch runs on (this one or another): commands for the kernel it uses (an address on a
   * bridge's LOCAL port) run there, in toolNetns().
   */
  hostOps?(): HostOps;
  /**
   * VSPERF's `vswitch restart`: stop and start the switch daemon keeping its configuration database
   * (bridges, ports, other_config); flows are gone afterwards, as in VSPERF.
   */
  restart?(signal?: AbortSignal): Promise<void>;
  /** Directory of the switch's sockets and pid files (VSPERF's TOOLS['ovs_var_tmp']). */
  readonly runDir?: string;
  /** The switch daemon's log file (VSPERF's steps read it: 01b's `_OVSDPDK_VSWITCH_LOG`). */
  logFile?(): string;
  portStats(bridge: string): Promise<PortStats[]>;
  /** Driver-specific statistics for results (PMD stats, …). */
  extraStats?(): Promise<Record<string, unknown>>;
  /** Resolves when the named ports' links are up (vhost-user: the guest's driver is up); returns those still down at the timeout. */
  waitLinksUp?(bridge: string, names: readonly string[], timeoutMs: number): Promise<string[]>;
  /**
   * Vhost-user ports that never had a device, brought into the state a device's arrival leaves them in,
   * while nothing is measured (OVS-DPDK configures a port's mempool and reassigns PMD rx queues only on
   * its first device: a live migration's fresh destination port paid that inside the switch-over).
   * Returns the time it took (ms). Optional: a switch without such a first-device cost leaves it out.
   */
  prepareVhostPorts?(bridge: string, names: readonly string[], timeoutMs?: number): Promise<number>;
  /** Bring counters the switch updates lazily (OVS: tunnel ports, by its revalidators) up to date before portStats. */
  syncStats?(): Promise<void>;
  /** Clear port/PMD counters before a trial, where the switch supports it. */
  clearStats?(bridge: string): Promise<void>;
  /**
   * Aborted (reason: a DriverError with the daemon's log tail) when a switch process dies while in use.
   * The runner can combine it with its own signal to stop a trial early.
   */
  readonly health?: AbortSignal;
}

/** Frames one generator port's veth carried over a trial (deltas of its two ends' kernel counters). */
export interface WireDelta {
  /** Crossed from the generator's end to the switch's. */
  readonly toSwitch: number;
  /** Taken by the generator's end but not delivered to the switch's (veth tx_dropped). */
  readonly droppedToSwitch: number;
  /** Dropped by the switch's end on receive (an AF_XDP port: its XDP socket's ring was full). */
  readonly switchDropped: number;
  /** Crossed from the switch's end to the generator's. */
  readonly toGenerator: number;
}

/** Switch-side counters of one trial, as returned by Topology.afterTrial. */
export interface SwitchCounters {
  readonly vswitch: string;
  /** Per-port deltas over the trial (rx = frames the switch received on that port). */
  readonly ports: readonly PortStats[];
  /**
   * Generator port i ↔ switch port: `rxFromGenerator` = frames the switch got from generator port i,
   * `txToGenerator` = frames the switch sent to generator port i. Absent for `none`.
   */
  readonly generatorPorts?: readonly {
    readonly index: number;
    readonly port: string;
    readonly rxFromGenerator: number;
    readonly txToGenerator: number;
    /** The wire between them as the kernel counted it over the trial (veth sandbox): a third observer. */
    readonly wire?: WireDelta;
  }[];
  /** Driver-specific (PMD stats…). */
  readonly extra?: Record<string, unknown>;
}

/**
 * The destination side of a live migration on this host (Topology.addMigrationPorts): one switch port
 * per guest NIC for the destination QEMU, wired so the switch delivers to the guest on either set of
 * ports (the idle set's link is down) with no change needed at switch-over.
 */
export interface MigrationPorts {
  /** The destination QEMU's NICs, in the guest's NIC order (vhost-user socket, port name, ofport, MAC). */
  readonly nics: readonly GuestNic[];
  /** One line for the log: which ports, and how the switch reaches them. */
  readonly summary: string;
  /** Set when the switch prepared the ports for their first device (VSwitch.prepareVhostPorts): how long it took (ms). */
  readonly preparedMs?: number;
  /** Remove these ports again (the guest runs on the deployment's own ports). */
  remove(): Promise<void>;
}

/** What a deployment hands to the runner once set up. */
export interface Topology {
  /** Generator ports in order: index 0 sends the forward direction, index 1 receives it. */
  readonly generatorPorts: readonly PortSpec[];
  /** The vSwitch in use (absent for `none`/trafficgen mode). */
  readonly vswitch?: VSwitch;
  readonly bridge?: string;
  /** Guests started by the deployment, in VM index order (pvp/pvvp/pvpv/pxp). */
  readonly guests?: readonly Vnf[];
  /** Facts for the results: vswitch name and version, flows, guests, loopback app. */
  readonly facts: Readonly<Record<string, string | number | boolean>>;
  /**
   * TRAFFIC values the deployment needs the generator to use (pvpv: one stream per guest NIC pair,
   * VSPERF sets multistream and stream_type the same way). The runner merges them into TRAFFIC.
   */
  readonly trafficOverrides?: Readonly<JsonObject>;
  /** Aborted when a switch or guest process dies mid-testcase (reason: DriverError with log tail). */
  readonly health?: AbortSignal;
  /**
   * VSPERF's NICS: one entry per physical port the switch can be given, in order, with VSPERF's keys
   * (`pci`, `type`, `mac`, `driver`, `device`: the kernel netdev, '' when the NIC has none). TestSteps
   * read it as `$NICS[0]["device"]`.
   */
  readonly nics?: readonly JsonObject[];
  /**
   * TestSteps objects this deployment provides (`vswitch`, `vnf`, `vnf1`, `VNF0`…); a string says why
   * the object is not available here, undefined = not this deployment's object.
   */
  stepObject?(object: string): StepTarget | string | undefined;
  /**
   * Live migration: add ports for a second QEMU of the guest whose NICs are `nics` (the deployment's
   * GuestNic entries, with port names and ofports) and make traffic reach them as it reaches `nics`, so
   * the guest's ports move from the source QEMU to the destination without a flow change. Absent = the
   * deployment cannot move a guest's ports (no vSwitch with a bridge and vhost-user ports).
   */
  addMigrationPorts?(nics: readonly GuestNic[]): Promise<MigrationPorts>;
  /** Called before each trial (e.g. clear counters). */
  beforeTrial?(): Promise<void>;
  /** Called after each trial: switch-side counters to cross-check the generator's counts. */
  afterTrial?(): Promise<Record<string, unknown>>;
}

export interface Deployment {
  readonly name: string;
  setup(signal: AbortSignal): Promise<Topology>;
  /** Releases what setup created (also covered by the cleanup stack). Idempotent. */
  teardown(): Promise<void>;
}
