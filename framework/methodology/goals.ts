/**
 * NDR/PDR search goals (RFC 9971 "Search Goal") and the presets `rfc2544`, `tst009`, `csit`, read from
 * the TRAFFICGEN_NDR_PDR setting.
 */
import type { Json, JsonObject, Settings } from '../config/settings.js';
import { ConfigError } from '../errors.js';

export interface SearchGoal {
  /** Name used in the CSV `goal` column ('NDR', 'PDR'…). */
  readonly name: string;
  /** A trial losing more than this ratio is high-loss (0 = no loss allowed). */
  readonly lossRatio: number;
  /** Tolerated share of high-loss time at a lower bound, in [0, 1). */
  readonly exceedRatio: number;
  /** Stop when (upper − lower) / upper ≤ this. */
  readonly relativeWidth: number;
  /** First (shortest) trial duration (s). */
  readonly initialTrialDurationS: number;
  /** Trials at least this long are full-length (s). */
  readonly finalTrialDurationS: number;
  /** Sum of trial durations at one load that guarantees a decision (s). */
  readonly durationSumS: number;
}

export interface MultiGoalOptions {
  readonly goals: readonly SearchGoal[];
  /** Coarser targets before each goal's final one (short trials first). */
  readonly precedingTargets: number;
  /** Growth factor of the step when a missing bound is searched outside the known interval. */
  readonly expansionCoefficient: number;
  /** Lowest load searched (fps per direction); undefined = 0.1 % of the max load. */
  readonly minLoadFps?: number;
  /** Highest load searched (fps per direction); undefined = line rate (capped by the generator). */
  readonly maxLoadFps?: number;
  /** Discarded trial at max load before the search (s); 0 = none. */
  readonly warmupDurationS: number;
  /** Stop when the trial durations sum to more than this (s); 0 = no limit. */
  readonly searchDurationMaxS: number;
  /** Stop after this many trials. */
  readonly maxTrials: number;
  /**
   * Make exactly the trials FD.io CSIT's MLRsearch makes (no short probe before a longer trial at a
   * new load; see multi-goal-search.ts). Default false: the probe saves trial time.
   */
  readonly csitCompatible?: boolean;
}

const goal = (name: string, lossRatio: number, exceedRatio: number, relativeWidth: number, init: number, final: number, sum: number): SearchGoal => ({
  name,
  lossRatio,
  exceedRatio,
  relativeWidth,
  initialTrialDurationS: init,
  finalTrialDurationS: final,
  durationSumS: sum,
});

export const PRESETS: Readonly<Record<string, Omit<MultiGoalOptions, 'minLoadFps' | 'maxLoadFps' | 'warmupDurationS' | 'searchDurationMaxS' | 'maxTrials'>>> = {
  /** RFC 9971 "compliant with RFC 2544": one 60 s zero-loss trial decides a load (exceed ratio 0). PDR added with the same semantics. */
  rfc2544: { goals: [goal('NDR', 0, 0, 0.005, 1, 60, 60), goal('PDR', 0.005, 0, 0.005, 1, 60, 60)], precedingTargets: 2, expansionCoefficient: 2 },
  /** ETSI TST009 binary search with loss verification (max repeats 2): 60 s trials, 120 s sum, exceed ratio 0.5. */
  tst009: { goals: [goal('NDR', 0, 0.5, 0.005, 1, 60, 120), goal('PDR', 0.005, 0.5, 0.005, 1, 60, 120)], precedingTargets: 2, expansionCoefficient: 2 },
  /** FD.io CSIT NDR/PDR: 1 s trials, 21 s sum, exceed ratio 0.5, relative width 0.5 %. */
  csit: { goals: [goal('NDR', 0, 0.5, 0.005, 1, 1, 21), goal('PDR', 0.005, 0.5, 0.005, 1, 1, 21)], precedingTargets: 2, expansionCoefficient: 2 },
};

const GOAL_KEYS: Record<string, keyof SearchGoal> = {
  name: 'name',
  loss_ratio: 'lossRatio',
  exceed_ratio: 'exceedRatio',
  relative_width: 'relativeWidth',
  initial_trial_duration_s: 'initialTrialDurationS',
  final_trial_duration_s: 'finalTrialDurationS',
  duration_sum_s: 'durationSumS',
};

const TOP_KEYS = [
  'preset',
  'goals',
  'min_load_fps',
  'max_load_fps',
  'preceding_targets',
  'expansion_coefficient',
  'warmup_duration_s',
  'search_duration_max_s',
  'max_trials',
  'csit_compatible',
];

/** Check one goal; throws RangeError with the reason. */
export function validateGoal(g: SearchGoal): SearchGoal {
  const why = !g.name
    ? 'name must not be empty'
    : !(g.lossRatio >= 0 && g.lossRatio < 1)
      ? `loss_ratio must be in [0, 1), got ${g.lossRatio}`
      : !(g.exceedRatio >= 0 && g.exceedRatio < 1)
        ? `exceed_ratio must be in [0, 1), got ${g.exceedRatio}`
        : !(g.relativeWidth > 0 && g.relativeWidth < 1)
          ? `relative_width must be in (0, 1), got ${g.relativeWidth}`
          : !(g.initialTrialDurationS > 0)
            ? `initial_trial_duration_s must be > 0, got ${g.initialTrialDurationS}`
            : !(g.finalTrialDurationS >= g.initialTrialDurationS)
              ? `final_trial_duration_s (${g.finalTrialDurationS}) must be ≥ initial_trial_duration_s (${g.initialTrialDurationS})`
              : !(g.durationSumS >= g.finalTrialDurationS)
                ? `duration_sum_s (${g.durationSumS}) must be ≥ final_trial_duration_s (${g.finalTrialDurationS})`
                : undefined;
  if (why) throw new RangeError(`goal ${g.name || '?'}: ${why}`);
  return g;
}

/** TRAFFICGEN_NDR_PDR → options. Goals given in the setting fill missing fields from the preset's goal of the same name (else its first goal). */
export function multiGoalOptions(settings: Settings): MultiGoalOptions {
  const key = 'TRAFFICGEN_NDR_PDR';
  const src = settings.source(key);
  const raw = settings.getOr<Json>(key, {});
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(key, src, `must be an object, got ${JSON.stringify(raw)}`);
  const o = raw as JsonObject;
  for (const k of Object.keys(o)) if (!TOP_KEYS.includes(k)) throw new ConfigError(`${key}.${k}`, src, `unknown key (known: ${TOP_KEYS.join(', ')})`);
  const presetName = String(o.preset ?? 'csit');
  const preset = PRESETS[presetName];
  if (!preset) throw new ConfigError(`${key}.preset`, src, `unknown preset "${presetName}" (known: ${Object.keys(PRESETS).join(', ')})`);
  const numAt = (k: string, fallback: number | undefined, min: number): number | undefined => {
    const v = o[k];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
      throw new ConfigError(`${key}.${k}`, src, `must be a number ≥ ${min}, got ${JSON.stringify(v)}`);
    return v;
  };
  let goals: SearchGoal[] = [...preset.goals];
  if (o.goals !== undefined && o.goals !== null) {
    if (!Array.isArray(o.goals) || o.goals.length === 0) throw new ConfigError(`${key}.goals`, src, 'must be a non-empty list of goal objects');
    goals = o.goals.map((g, i) => {
      if (g === null || typeof g !== 'object' || Array.isArray(g)) throw new ConfigError(`${key}.goals[${i}]`, src, 'must be an object');
      const name = g.name === undefined ? undefined : String(g.name);
      const base = preset.goals.find((p) => p.name === name) ?? preset.goals[0]!;
      const out: Record<string, unknown> = { ...base, name: name ?? `goal${i + 1}` };
      for (const [k, v] of Object.entries(g)) {
        const f = GOAL_KEYS[k];
        if (!f) throw new ConfigError(`${key}.goals[${i}].${k}`, src, `unknown key (known: ${Object.keys(GOAL_KEYS).join(', ')})`);
        if (f === 'name') continue;
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`${key}.goals[${i}].${k}`, src, `must be a number, got ${JSON.stringify(v)}`);
        out[f] = v;
      }
      try {
        return validateGoal(out as unknown as SearchGoal);
      } catch (e) {
        throw new ConfigError(`${key}.goals[${i}]`, src, (e as Error).message);
      }
    });
    const names = new Set(goals.map((g) => g.name));
    if (names.size !== goals.length) throw new ConfigError(`${key}.goals`, src, 'goal names must be unique');
  }
  const csit = o.csit_compatible;
  if (csit !== undefined && csit !== null && typeof csit !== 'boolean')
    throw new ConfigError(`${key}.csit_compatible`, src, `must be true or false, got ${JSON.stringify(csit)}`);
  const minLoadFps = numAt('min_load_fps', undefined, 0);
  const maxLoadFps = numAt('max_load_fps', undefined, 0);
  return {
    goals,
    precedingTargets: Math.round(numAt('preceding_targets', preset.precedingTargets, 0)!),
    expansionCoefficient: numAt('expansion_coefficient', preset.expansionCoefficient, 1.0001)!,
    ...(minLoadFps !== undefined && minLoadFps > 0 ? { minLoadFps } : {}),
    ...(maxLoadFps !== undefined && maxLoadFps > 0 ? { maxLoadFps } : {}),
    warmupDurationS: numAt('warmup_duration_s', 0, 0)!,
    searchDurationMaxS: numAt('search_duration_max_s', 0, 0)!,
    maxTrials: Math.round(numAt('max_trials', 1000, 1)!),
    ...(csit === true ? { csitCompatible: true } : {}),
  };
}
