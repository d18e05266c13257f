/**
 * Topology.addMigrationPorts on a bridge: a second vhost-user port per guest NIC (ofports after the
 * highest one in use) for the destination QEMU, and the bridge's flows extended so traffic reaches and
 * leaves those ports too (follow-flows.ts). The guest's ports thereby move with the guest: OVS delivers
 * to whichever QEMU runs it, with no flow change at switch-over.
 */
import { ConfigError, UsageError } from '../../framework/errors.js';
import type { Settings } from '../../framework/config/settings.js';
import type { MigrationPorts, VSwitch } from '../../framework/api/deployment.js';
import type { GuestNic } from '../../framework/api/vnf.js';
import { followFlows } from '../follow-flows.js';

/** MIGRATION_PREPARE_PORTS (default true): the destination ports get their first device before the first migration. */
export function prepareMigrationPorts(s: Settings): boolean {
  const v = s.getOr('MIGRATION_PREPARE_PORTS', true);
  if (typeof v === 'boolean') return v;
  if (/^(true|yes|1)$/i.test(String(v))) return true;
  if (/^(false|no|0)$/i.test(String(v))) return false;
  throw new ConfigError('MIGRATION_PREPARE_PORTS', s.source('MIGRATION_PREPARE_PORTS'), `must be true or false, got ${JSON.stringify(v)}`);
}

/** OpenFlow reserves ofports from 0xff00 up (LOCAL, CONTROLLER…). */
const OFPP_MAX = 0xff00;

export async function addMigrationPorts(
  vswitch: VSwitch,
  bridge: string,
  nics: readonly GuestNic[],
  opts: { readonly prepare?: boolean } = {},
): Promise<MigrationPorts> {
  if (nics.some((n) => n.ofport === undefined))
    throw new UsageError(`the deployment did not report the guest's vhost ofports (GuestNic.ofport): no ports for a migration destination`);
  const dst = await addDestinationPorts(vswitch, bridge, nics);
  // MIGRATION_PREPARE_PORTS: the switch's first-device configuration now, before any flow reaches the
  // ports, instead of inside the first switch-over (vhost-prepare.ts).
  const prepared =
    opts.prepare && vswitch.prepareVhostPorts
      ? await vswitch.prepareVhostPorts(
          bridge,
          dst.map((n) => n.portName!),
        )
      : undefined;
  const follow = followFlows(await vswitch.dumpFlows(bridge), portPairs(nics, dst));
  if (vswitch.addFlows)
    await vswitch.addFlows(
      bridge,
      follow.map((flow) => ({ type: 'raw' as const, flow })),
    );
  else for (const flow of follow) await vswitch.addFlow(bridge, { type: 'raw', flow });
  return {
    nics: dst,
    summary:
      `destination ports ${dst.map((n) => `${n.portName}(${n.ofport})`).join(', ')}` +
      (prepared !== undefined
        ? `, prepared by a virtio-user frontend in ${Math.round(prepared)} ms`
        : opts.prepare
          ? ''
          : ' (not prepared: MIGRATION_PREPARE_PORTS=False)') +
      `; ${follow.length} flow(s) now also reach them`,
    ...(prepared !== undefined ? { preparedMs: prepared } : {}),
    remove: async () => {
      for (const n of dst) await vswitch.delPort(bridge, n.portName!);
    },
  };
}

/** One vhost port per source NIC, named after it with an `m` suffix, numbered after the bridge's highest ofport. */
async function addDestinationPorts(vswitch: VSwitch, bridge: string, nics: readonly GuestNic[]): Promise<GuestNic[]> {
  const inUse = (await vswitch.portStats(bridge)).map((p) => p.ofport).filter((x) => Number.isFinite(x) && x < OFPP_MAX);
  let nextOf = Math.max(0, ...inUse) + 1;
  const dst: GuestNic[] = [];
  for (const [k, n] of nics.entries()) {
    const sp = await vswitch.addVhostPort(bridge, `${n.portName ?? `vhu${k}`}m`, nextOf++);
    dst.push({
      socketPath: sp.socketPath!,
      portName: sp.name,
      ofport: sp.ofport,
      ...(n.mac ? { mac: n.mac } : {}),
      ...(sp.switchServes ? { switchServes: true } : {}),
    });
  }
  return dst;
}

/** Source port (ofport number and name, as flows may name either) → destination ofport. */
function portPairs(src: readonly GuestNic[], dst: readonly GuestNic[]): Map<string, number> {
  const pairs = new Map<string, number>();
  src.forEach((n, k) => {
    pairs.set(String(n.ofport), dst[k]!.ofport!);
    if (n.portName) pairs.set(n.portName, dst[k]!.ofport!);
  });
  return pairs;
}
