/** Factories of the two OVS flavours, as registered in drivers.ts. */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { DriverContext } from '../../framework/api/driver.js';
import { OvsSwitch } from './ovs.js';

/** A private run dir: under the testcase's work dir when the path is short enough for unix sockets. */
export function ovsRunDir(workDir: string): string {
  const local = join(workDir, 'ovs');
  return local.length <= 70 ? local : `/tmp/vsd-ovs-${randomBytes(3).toString('hex')}`;
}

/** VSPERF's OvsDpdkVhost: ovs-vswitchd-dpdk, netdev bridges, dpdk and dpdkvhostuser(client) ports. */
export function createOvsDpdkVhost(ctx: DriverContext): OvsSwitch {
  return new OvsSwitch({
    name: 'OvsDpdkVhost',
    dpdk: true,
    settings: ctx.settings,
    host: ctx.host,
    log: ctx.log.child('ovs-dpdk'),
    runDir: ovsRunDir(ctx.workDir),
  });
}

/** VSPERF's OvsVanilla: plain ovs-vswitchd; userspace (netdev) datapath since no kernel module is loaded here. */
export function createOvsVanilla(ctx: DriverContext): OvsSwitch {
  return new OvsSwitch({ name: 'OvsVanilla', dpdk: false, settings: ctx.settings, host: ctx.host, log: ctx.log.child('ovs'), runDir: ovsRunDir(ctx.workDir) });
}
