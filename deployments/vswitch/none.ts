/**
 * `none` (VSPERF's name): no vSwitch. Generator ports are wired straight to each other (phy2phy) or
 * to a guest; with WHITELIST_NICS naming SR-IOV VFs (`0000:05:00.0|vf0`) this is VSPERF's SR-IOV mode.
 * Every switch operation is a CapabilityError: the deployment checks capabilities().bridges first.
 */
import { CapabilityError } from '../../framework/errors.js';
import type { FlowSpec, PhyPort, PortStats, SwitchPort, VSwitch, VSwitchCaps } from '../../framework/api/deployment.js';

export class NoSwitch implements VSwitch {
  readonly name = 'none';
  capabilities(): VSwitchCaps {
    return { bridges: false, vhostUser: false, pmdStats: false };
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async version(): Promise<string> {
    return 'n/a';
  }
  private no(op: string): never {
    throw new CapabilityError('none', op, 'no vSwitch is used (VSWITCH=none); ports are wired straight');
  }
  addBridge(_name: string): Promise<void> {
    return this.no('bridges');
  }
  addPhyPort(_b: string, _n: string, _p: PhyPort, _o: number): Promise<SwitchPort> {
    return this.no('ports');
  }
  addVhostPort(_b: string, _n: string, _o: number): Promise<SwitchPort> {
    return this.no('vhost-user ports');
  }
  delPort(_b: string, _n: string): Promise<void> {
    return this.no('ports');
  }
  addFlow(_b: string, _f: FlowSpec): Promise<void> {
    return this.no('flows');
  }
  delFlows(_b: string): Promise<void> {
    return this.no('flows');
  }
  dumpFlows(_b: string): Promise<string[]> {
    return this.no('flows');
  }
  portStats(_b: string): Promise<PortStats[]> {
    return this.no('port statistics');
  }
}
