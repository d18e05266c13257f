/**
 * vSwitch drivers and deployment topologies. A deployment turns a testcase's `Deployment` name
 * (phy2phy, pvp, pvvp, pvpv, pxp…) into generator ports wired through a vSwitch and guests.
 */
import type { PortSpec } from '../trafficgen/types.js';
import type { DriverContext } from '../framework/registry/types.js';

/** A "physical" port as handed to the vSwitch: a PCI NIC, or a sandbox veth end used via af_packet/af_xdp. */
export type PhyPort =
  | { readonly kind: 'pci'; readonly pci: string; readonly vf?: number }
  | { readonly kind: 'veth'; readonly iface: string; readonly io: 'af_packet' | 'af_xdp' };

export interface SwitchPort {
  readonly name: string;
  /** OpenFlow port number (deterministic: we request it). */
  readonly ofport: number;
  /** vhost-user socket path for vhost ports. */
  readonly socketPath?: string;
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
}

/** VSPERF's flow types, plus a raw OpenFlow string escape hatch. */
export type FlowSpec =
  | { readonly type: 'port'; readonly inPort: number; readonly outPorts: readonly number[] }
  | { readonly type: 'raw'; readonly flow: string };

export interface VSwitch {
  readonly name: string;
  start(signal?: AbortSignal): Promise<void>;
  stop(): Promise<void>;
  version(): Promise<string>;
  addBridge(name: string): Promise<void>;
  addPhyPort(bridge: string, name: string, port: PhyPort, ofport: number): Promise<SwitchPort>;
  addVhostPort(bridge: string, name: string, ofport: number): Promise<SwitchPort>;
  delPort(bridge: string, name: string): Promise<void>;
  addFlow(bridge: string, flow: FlowSpec): Promise<void>;
  delFlows(bridge: string): Promise<void>;
  dumpFlows(bridge: string): Promise<string[]>;
  portStats(bridge: string): Promise<PortStats[]>;
  /** Driver-specific statistics for results (PMD stats, …). */
  extraStats?(): Promise<Record<string, unknown>>;
  /** Clear port/PMD counters before a trial, where the switch supports it. */
  clearStats?(bridge: string): Promise<void>;
}

/** What a deployment hands to the runner once set up. */
export interface Topology {
  /** Generator ports in order: index 0 sends the forward direction, index 1 receives it. */
  readonly generatorPorts: readonly PortSpec[];
  /** The vSwitch in use (absent for `none`/trafficgen mode). */
  readonly vswitch?: VSwitch;
  readonly bridge?: string;
  /** Facts for the results: vswitch name and version, flows, guests, loopback app. */
  readonly facts: Readonly<Record<string, string | number | boolean>>;
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

/** Registered under kind 'deployment'; builds a Deployment for a testcase from its settings. */
export interface DeploymentFactory {
  readonly name: string;
  build(ctx: DriverContext): Promise<Deployment>;
}
