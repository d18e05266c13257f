/**
 * traffic_type → methodology. Entries import lazily so start-up stays fast; a new traffic type is one
 * line here (and a module that exports a Methodology).
 */
import { UsageError } from '../errors.js';
import { suggest } from '../util/suggest.js';
import type { Methodology } from './context.js';
import { truthy } from './traffic-spec.js';
import { imixAverage } from '../../trafficgen/types.js';
import type { JsonObject } from '../config/settings.js';

const TABLE: Record<string, () => Promise<Methodology>> = {
  rfc2544_throughput: async () => (await import('./throughput.js')).throughput,
  rfc2544_continuous: async () => (await import('./continuous.js')).continuous,
  rfc2544_back2back: async () => (await import('./back2back.js')).back2back,
  rfc2544_latency: async () => (await import('./latency.js')).latency,
  burst: async () => (await import('./burst.js')).burst,
  ndr_pdr: async () => (await import('./ndr-pdr.js')).ndrPdr,
  rfc2889_forwarding: async () => (await import('./rfc2889.js')).forwarding,
  rfc2889_caching: async () => (await import('./rfc2889.js')).caching,
  rfc2889_learning: async () => (await import('./rfc2889.js')).learning,
  live_migration: async () => (await import('../../vnfs/migration/methodology.js')).liveMigration,
};

export function trafficTypes(): string[] {
  return Object.keys(TABLE).sort();
}

export async function getMethodology(trafficType: string): Promise<Methodology> {
  const load = TABLE[trafficType];
  if (!load) {
    const s = suggest(trafficType, Object.keys(TABLE));
    throw new UsageError(`unknown traffic_type "${trafficType}"${s ? `; did you mean "${s}"?` : ''}`, { hint: `known: ${trafficTypes().join(', ')}` });
  }
  return withImixColumns(await load());
}

/** VSPERF's imix_genome / imix_avg_framesize columns on every row when TRAFFIC.imix is enabled. */
function withImixColumns(m: Methodology): Methodology {
  return async (ctx) => {
    const out = await m(ctx);
    const imix = ctx.settings.getOr<JsonObject>('TRAFFIC.imix', {});
    if (!truthy(imix.enabled)) return out;
    const genome = String(imix.genome ?? 'aaaaaaaddddg');
    const avg = Math.round(imixAverage(genome) * 1000) / 1000;
    return { ...out, rows: out.rows.map((r) => ({ ...r, imix_genome: genome, imix_avg_framesize: avg })) };
  };
}
