/**
 * traffic_type → methodology. Entries import lazily so start-up stays fast; a new traffic type is one
 * line here (and a module that exports a Methodology), or, for one that lives with its drivers
 * (live_migration in vnfs/), an `addTrafficType` call from the composition root (drivers.ts).
 */
import { UsageError } from '../errors.js';
import { suggest } from '../util/suggest.js';
import type { Methodology } from './context.js';
import { truthy } from './traffic-spec.js';
import { imixAverage } from '../api/trafficgen.js';
import type { JsonObject, Settings } from '../config/settings.js';

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
};

/** Registers a traffic type implemented outside the framework. Idempotent for the same name. */
export function addTrafficType(name: string, load: () => Promise<Methodology>): void {
  TABLE[name] = load;
}

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

/**
 * Rough traffic time (s) of a traffic type for one frame size, from the settings it will run with
 * (VSPERF binary search: 12 trials when the first fails; multi-goal: about 1.5 × the duration sums of
 * each goal's targets, shared between goals). For progress displays and suite estimates only.
 */
export async function estimateTrafficS(trafficType: string, settings: Settings): Promise<number> {
  const n = (k: string, d: number): number => {
    const v = settings.getOr(k, d);
    return typeof v === 'number' && Number.isFinite(v) ? v : d;
  };
  const dur = n('TRAFFICGEN_DURATION', 30);
  const learning = truthy(settings.getOr('TRAFFICGEN_TREX_LEARNING_MODE', false)) ? n('TRAFFICGEN_TREX_LEARNING_DURATION', 5) : 0;
  const tests = n('TRAFFICGEN_RFC2544_TESTS', 1);
  const search = 12 * dur + (truthy(settings.getOr('TRAFFICGEN_TREX_VERIFICATION_MODE', false)) ? n('TRAFFICGEN_TREX_VERIFICATION_DURATION', 60) : 0);
  switch (trafficType) {
    case 'rfc2544_throughput':
      return learning + tests * search;
    case 'rfc2544_continuous':
      return learning + dur;
    case 'burst':
      return learning + 1;
    case 'rfc2544_back2back':
      return learning + tests * 2 * dur;
    case 'rfc2544_latency': {
      const loads = settings.getOr('TRAFFICGEN_LATENCY_LOAD_PCT', [100]);
      const nLoads = Array.isArray(loads) ? loads.length : 1;
      return learning + search + nLoads * n('TRAFFICGEN_LATENCY_TRIALS', 1) * n('TRAFFICGEN_LATENCY_DURATION', 120);
    }
    case 'rfc2889_forwarding':
      return learning + n('TRAFFICGEN_RFC2889_TRIALS', 1) * (search + n('TRAFFICGEN_RFC2889_FWD_STEPS', 10) * dur);
    case 'rfc2889_caching':
      return n('TRAFFICGEN_RFC2889_TRIALS', 1) * 17 * 2 * (n('TRAFFICGEN_RFC2889_MAX_ADDRS', 65536) / 2 / n('TRAFFICGEN_RFC2889_AC_LR', 1000));
    case 'rfc2889_learning':
      return n('TRAFFICGEN_RFC2889_TRIALS', 1) * 12 * 2 * (n('TRAFFICGEN_RFC2889_LR_ADDRS', 1000) / n('TRAFFICGEN_RFC2889_MIN_LR', 1488));
    case 'ndr_pdr': {
      const { multiGoalOptions } = await import('./goals.js');
      const { targetChain } = await import('./multi-goal-search.js');
      const o = multiGoalOptions(settings);
      const perGoal = o.goals.map((g) => targetChain(g, o.precedingTargets).reduce((a, t) => a + t.durationSumS, 0));
      return learning + 1.5 * Math.max(...perGoal) + 0.5 * perGoal.reduce((a, x) => a + x, 0) - 0.5 * Math.max(...perGoal);
    }
    default:
      return learning + 8 * dur;
  }
}
