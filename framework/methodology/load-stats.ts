/**
 * MLRsearch load classification and conditional throughput (RFC 9971 appendices; the same logic as
 * FD.io CSIT's target_stat.py), written from the published definitions.
 */

/** One trial as the classifier sees it. */
export interface LoadTrial {
  /** Effective duration (s). */
  readonly durationS: number;
  /** Loss ratio (0–1). */
  readonly lossRatio: number;
}

/** What a load is for one goal at one target. */
export type LoadClass = 'lower' | 'upper' | 'undecided';

export interface ClassifyParams {
  /** Goal loss ratio: a trial with a larger loss ratio is high-loss. */
  readonly lossRatio: number;
  /** Goal exceed ratio in [0, 1). */
  readonly exceedRatio: number;
  /** Trials at least this long are full-length (s). */
  readonly trialDurationS: number;
  /** Duration sum that guarantees a decision (s). */
  readonly durationSumS: number;
}

/** Full-length and short trial time sums, split by low/high loss. */
export interface LoadSums {
  readonly fullLo: number;
  readonly fullHi: number;
  readonly shortLo: number;
  readonly shortHi: number;
}

const EPS = 1e-9;

export function sums(trials: readonly LoadTrial[], p: ClassifyParams): LoadSums {
  let fullLo = 0;
  let fullHi = 0;
  let shortLo = 0;
  let shortHi = 0;
  for (const t of trials) {
    const hi = t.lossRatio > p.lossRatio;
    const full = t.durationS >= p.trialDurationS - EPS;
    if (full && hi) fullHi += t.durationS;
    else if (full) fullLo += t.durationS;
    else if (hi) shortHi += t.durationS;
    else shortLo += t.durationS;
  }
  return { fullLo, fullHi, shortLo, shortHi };
}

/**
 * Classify a load: short low-loss trials cancel short high-loss ones in the exceed-ratio proportion,
 * then the load is a lower bound when even assuming all missing time high-loss stays within the
 * quota (pessimistic), an upper bound when even assuming all missing time low-loss exceeds it
 * (optimistic fails), and undecided otherwise.
 */
export function classify(trials: readonly LoadTrial[], p: ClassifyParams): LoadClass {
  const s = sums(trials, p);
  const x = p.exceedRatio;
  const excessShort = Math.max(0, s.shortHi - (x > 0 ? (s.shortLo * x) / (1 - x) : 0));
  const effHi = s.fullHi + excessShort;
  const whole = Math.max(s.fullLo + effHi, p.durationSumS);
  const quota = whole * x;
  const optimistic = effHi <= quota + EPS;
  const pessimistic = whole - s.fullLo <= quota + EPS;
  if (optimistic && pessimistic) return 'lower';
  if (!optimistic && !pessimistic) return 'upper';
  return 'undecided';
}

/**
 * The loss ratio the conditional throughput uses: full-length trials sorted by loss ratio, walked until
 * (1 − exceed ratio) of max(duration sum, full-length time) is covered; 1.0 when they run out first.
 */
export function pessimisticLossRatio(trials: readonly LoadTrial[], p: ClassifyParams): number {
  const full = trials.filter((t) => t.durationS >= p.trialDurationS - EPS).sort((a, b) => a.lossRatio - b.lossRatio);
  const fullTime = full.reduce((a, t) => a + t.durationS, 0);
  let remaining = Math.max(p.durationSumS, fullTime) * (1 - p.exceedRatio);
  let ratio = 1;
  for (const t of full) {
    ratio = t.lossRatio;
    remaining -= t.durationS;
    if (remaining <= EPS) return ratio;
  }
  return 1;
}

/** Conditional throughput at a load (fps): load × (1 − pessimistic loss ratio). */
export function conditionalThroughput(loadFps: number, trials: readonly LoadTrial[], p: ClassifyParams): number {
  return loadFps * (1 - pessimisticLossRatio(trials, p));
}
