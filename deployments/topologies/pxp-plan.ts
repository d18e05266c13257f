/**
 * Pure planning of VSPERF's PXP deployments (core/vswitch_controller_pxp.py): how many guests, how
 * many NICs each, which vhost ports and which flows. Physical ports are ofport 1 and 2; vhost ports
 * follow from 3 in guest/NIC order.
 */
import { UsageError } from '../../framework/errors.js';
import { connectionFlows, ipAdd, macAdd, type ConnectionTraffic } from '../flows.js';
import type { FlowSpec } from '../../framework/api/deployment.js';

export type PxpTopology = 'serial' | 'parallel';

export interface PxpShape {
  readonly topology: PxpTopology;
  readonly vms: number;
}

/**
 * Deployment name → shape: `pvp` (1 guest), `pvvp[N]` (N guests in series, default 2), `pvpv[N]`
 * (N in parallel, default 2), `pxp` (series, one guest per GUEST_NICS_NR entry).
 */
export function pxpShape(deployment: string, guestNicsNr: readonly number[]): PxpShape {
  const d = deployment.toLowerCase();
  if (d === 'pvp') return { topology: 'serial', vms: 1 };
  if (d === 'pxp') return { topology: 'serial', vms: Math.max(1, guestNicsNr.length) };
  const m = /^(pvvp|pvpv)(\d*)$/.exec(d);
  if (!m) throw new UsageError(`unknown PXP deployment "${deployment}"`, { hint: 'pvp, pvvp[N], pvpv[N] or pxp' });
  const vms = m[2] ? Number(m[2]) : 2;
  if (vms < 1 || vms > 64) throw new UsageError(`deployment "${deployment}": number of guests must be 1..64`);
  return { topology: m[1] === 'pvpv' ? 'parallel' : 'serial', vms };
}

/** VSPERF: each guest gets 1 NIC or an even number of NICs (GUEST_NICS_NR, last entry repeats). */
export function guestNicCounts(vms: number, guestNicsNr: readonly number[]): number[] {
  const list = guestNicsNr.length ? guestNicsNr : [2];
  return Array.from({ length: vms }, (_, i) => {
    const n = Number(list[Math.min(i, list.length - 1)]);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`GUEST_NICS_NR[${i}] must be a positive integer, got ${JSON.stringify(list[i])}`);
    return n > 1 ? Math.floor(n / 2) * 2 : 1;
  });
}

export interface PxpPlan {
  /** vhost ofports per guest, in NIC order. */
  readonly vmPorts: number[][];
  readonly flows: FlowSpec[];
  /** TRAFFIC values the generator must use (parallel: one stream per NIC pair). */
  readonly trafficOverrides?: Record<string, string | number>;
}

export function pxpPlan(shape: PxpShape, nicCounts: readonly number[], traffic: ConnectionTraffic, phy1 = 1, phy2 = 2): PxpPlan {
  const vmPorts: number[][] = [];
  let next = Math.max(phy1, phy2) + 1;
  for (const n of nicCounts) vmPorts.push(Array.from({ length: n }, () => next++));
  const flows: FlowSpec[] = [];
  const conn = (a: number, b: number, t?: ConnectionTraffic): void => void flows.push(...connectionFlows(a, b, t));
  if (shape.topology === 'serial') {
    const first = vmPorts[0]!;
    const last = vmPorts[vmPorts.length - 1]!;
    conn(phy1, first[0]!, traffic);
    conn(first[0]!, phy1);
    conn(last[last.length - 1]!, phy2);
    conn(phy2, last[last.length - 1]!, traffic);
    for (const [i, ports] of vmPorts.entries()) {
      // NIC pairs inside one guest are chained: 1→2, 3→4, …
      for (let x = 0; x < ports.length / 2 - 1; x++) {
        conn(ports[2 * x + 1]!, ports[2 * x + 2]!);
        conn(ports[2 * x + 2]!, ports[2 * x + 1]!);
      }
      const nextVm = vmPorts[i + 1];
      if (nextVm) {
        conn(ports[ports.length - 1]!, nextVm[0]!);
        conn(nextVm[0]!, ports[ports.length - 1]!);
      }
    }
    return { vmPorts, flows };
  }
  // Parallel: every NIC pair gets its own stream, dispatched by the stream-type field (+ stream index).
  let stream = 0;
  for (const ports of vmPorts) {
    const pairs: [number, number][] =
      ports.length > 1 ? Array.from({ length: ports.length / 2 }, (_, x) => [ports[2 * x]!, ports[2 * x + 1]!]) : [[ports[0]!, ports[0]!]];
    for (const [a, b] of pairs) {
      const t: ConnectionTraffic = {
        ...traffic,
        preInstalledFlows: true,
        multistream: 1,
        ...(traffic.streamType === 'L2' ? { dstMac: macAdd(traffic.dstMac, stream) } : {}),
        ...(traffic.streamType === 'L3' ? { dstIp: ipAdd(traffic.dstIp, stream) } : {}),
        ...(traffic.streamType === 'L4' ? { dstPort: (traffic.dstPort + stream) % 65536 } : {}),
      };
      conn(phy1, a, t);
      conn(b, phy2);
      conn(phy2, b, t);
      conn(a, phy1);
      stream++;
    }
  }
  return { vmPorts, flows, trafficOverrides: { multistream: stream, stream_type: traffic.streamType } };
}
