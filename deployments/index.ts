/** Deployment factories by VSPERF name (registered in drivers.ts). */
import type { DriverContext } from '../framework/api/driver.js';
import { VsperfDeployment } from './topologies/deployment.js';
import { pxpShape } from './topologies/pxp-plan.js';
import type { DeploymentFactory } from '../framework/api/driver.js';
import type { Json } from '../framework/config/settings.js';

/** `p2p` / `phy2phy`: generator port 0 → switch → generator port 1 (and back). */
export function phy2phyFactory(): DeploymentFactory {
  return { name: 'p2p', build: async (ctx: DriverContext) => new VsperfDeployment('p2p', ctx) };
}

/** `pvp`, `pvvp[N]`, `pvpv[N]`, `pxp`: guests from the VNF driver (setting VNF) on vhost-user ports. */
export function pxpFactory(name: string): DeploymentFactory {
  return {
    name,
    build: async (ctx: DriverContext) => {
      const nicsNr = (ctx.settings.getOr('GUEST_NICS_NR', [2]) as Json[]).map(Number);
      return new VsperfDeployment(name, ctx, pxpShape(name, nicsNr));
    },
  };
}

/** `clean`: the vSwitch runs on the testbed with nothing configured; TestSteps do the rest. */
export function cleanFactory(): DeploymentFactory {
  return { name: 'clean', build: async (ctx: DriverContext) => new VsperfDeployment('clean', ctx) };
}

/** `op2p`: overlay phy → tunnel endpoint → phy (TUNNEL_TYPE, TUNNEL_OPERATION; VSPERF's op2p). */
export function op2pFactory(): DeploymentFactory {
  return { name: 'op2p', build: async (ctx: DriverContext) => new VsperfDeployment('op2p', ctx) };
}

/** `ptunp`: physical → VXLAN encap → modify bridges → decap → physical, all inside the switch (VSPERF's ptunp). */
export function ptunpFactory(): DeploymentFactory {
  return { name: 'ptunp', build: async (ctx: DriverContext) => new VsperfDeployment('ptunp', ctx) };
}
