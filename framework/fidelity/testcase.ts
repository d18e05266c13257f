/**
 * The fidelity side of one testcase: which CPUs matter, a conditions probe for the trials, the
 * testcase-wide conditions (for rows without trials, e.g. live migration) and the verdict columns.
 */
import type { Json, Settings } from '../config/settings.js';
import type { TrialRecord } from '../methodology/context.js';
import type { ResultRow } from '../methodology/types.js';
import { hostConditionsProbe, type ConditionsProbe, type TrialConditions } from './conditions.js';
import { rowVerdict, trialVerdict, validityThresholds, type ValidityThresholds, type Verdict } from './verdict.js';

/** CPUs of a hex mask ("2", "0x6"). */
export function maskCpus(mask: string): number[] {
  const m = mask.trim().toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]+$/.test(m)) return [];
  const out: number[] = [];
  const bits = BigInt(`0x${m}`);
  for (let i = 0; i < 1024 && bits >> BigInt(i) > 0n; i++) if ((bits >> BigInt(i)) & 1n) out.push(i);
  return out;
}

/**
 * CPUs the figures depend on: the generator's pinned cores and the PMD cores. A generator that is not
 * pinned may run anywhere: then every CPU matters (empty list).
 */
export function relevantCpus(s: Settings): number[] {
  const gen = s.getOr<Json>('TRAFFICGEN_SOFTWARE_CORES', []);
  const genCpus = Array.isArray(gen) ? gen.filter((x): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0) : [];
  if (!genCpus.length) return [];
  const pmd = maskCpus(String(s.getOr<Json>('VSWITCH_PMD_CPU_MASK', '')));
  return [...new Set([...genCpus, ...pmd])].sort((a, b) => a - b);
}

export class TestcaseFidelity {
  readonly thresholds: ValidityThresholds;
  readonly probe: ConditionsProbe | undefined;
  private end: (() => TrialConditions) | undefined;
  conditions: TrialConditions | undefined;

  /** Reads VALIDITY_THRESHOLDS at once, so a bad threshold fails before anything runs. */
  constructor(s: Settings, measured: boolean) {
    this.thresholds = validityThresholds(s);
    this.probe = measured ? hostConditionsProbe({ cpus: relevantCpus(s) }) : undefined;
  }

  start(): void {
    this.end = this.probe?.start();
  }

  stop(): void {
    if (this.end) this.conditions = this.end();
    this.end = undefined;
  }

  /** The verdict of the testcase's whole run of traffic (for rows that no trial stands behind). */
  testcaseVerdict(): Verdict | undefined {
    return this.conditions ? trialVerdict({ valid: true, conditions: this.conditions }, this.thresholds) : undefined;
  }

  /** `validity` and `validity_reasons` columns on every row. */
  decorate(rows: readonly ResultRow[], trials: readonly TrialRecord[]): ResultRow[] {
    const tc = this.testcaseVerdict();
    return rows.map((r) => {
      const v = rowVerdict(r, trials, tc);
      return { ...r, validity: v.validity, validity_reasons: v.reasons.join(';') };
    });
  }
}
