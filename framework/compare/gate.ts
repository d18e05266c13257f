/**
 * The regression gate: baseline vs. current metric sets, per-metric thresholds, noise-aware when either
 * side has repeats. Pure: no I/O, so every verdict rule is unit-tested.
 *
 * A series regresses when its degradation (in the metric's bad direction) exceeds every limit that is
 * set for it: `pct` (percent of the baseline mean), `abs` (metric units), and the noise band
 * `noiseSigma × standard error of the difference of means` when repeats give a spread.
 */
import { ConfigError } from '../errors.js';
import type { Json, JsonObject } from '../config/settings.js';
import { isPlainObject } from '../config/settings.js';
import { compareSeries, metricInfo, toSeries, mean, stdev, type Better, type MetricSet, type Series } from './metrics.js';

export interface Threshold {
  readonly better: Better;
  /** Allowed degradation, percent of the baseline mean. */
  readonly pct?: number;
  /** Allowed degradation in the metric's unit (a floor for metrics near zero, e.g. loss %). */
  readonly abs?: number;
}

export interface GateOptions {
  readonly thresholds: Readonly<Record<string, Threshold>>;
  /** Width of the noise band in standard errors (0 = ignore repeats). */
  readonly noiseSigma: number;
  /** A series (or a testcase) in the baseline but not in the results is a failure. */
  readonly failOnMissing: boolean;
}

export type Verdict = 'regression' | 'improved' | 'ok' | 'within-noise' | 'missing' | 'failed' | 'new' | 'not-run';

export interface Change {
  readonly testcase: string;
  readonly deployment: string;
  readonly frameSize: number;
  readonly goal: string;
  readonly metric: string;
  readonly unit: string;
  readonly baseline?: { mean: number; stdev: number; n: number };
  readonly current?: { mean: number; stdev: number; n: number };
  /** (current − baseline) / |baseline| × 100. */
  readonly changePct?: number;
  /** Degradation band the change had to exceed (metric units): max of pct-, abs- and noise-limits. */
  readonly limitAbs?: number;
  readonly noiseAbs?: number;
  readonly verdict: Verdict;
  readonly note?: string;
}

export interface GateReport {
  readonly baseline: { label: string; runId: string; startTime: string; simulated: boolean };
  readonly current: { label: string; runId: string; startTime: string; simulated: boolean };
  readonly changes: Change[];
  readonly regressions: number;
  readonly improvements: number;
  readonly warnings: string[];
  readonly passed: boolean;
}

export const DEFAULT_GATE: GateOptions = {
  thresholds: {
    throughput_rx_fps: { better: 'higher', pct: 5 },
    frame_loss_percent: { better: 'lower', pct: 10, abs: 0.01 },
    avg_latency_ns: { better: 'lower', pct: 25, abs: 2000 },
    p99_latency_ns: { better: 'lower', pct: 50, abs: 5000 },
    b2b_frames: { better: 'higher', pct: 10 },
    lower_bound_fps: { better: 'higher', pct: 5 },
    forwarding_rate_fps: { better: 'higher', pct: 5 },
    migration_downtime_ms: { better: 'lower', pct: 50, abs: 20 },
    dataplane_outage_ms: { better: 'lower', pct: 50, abs: 20 },
    migration_total_ms: { better: 'lower', pct: 50, abs: 500 },
  },
  noiseSigma: 3,
  failOnMissing: true,
};

/** Thresholds from a COMPARE_THRESHOLDS settings value; errors name the metric and the source. */
export function parseThresholds(v: Json, source: string): Record<string, Threshold> {
  if (!isPlainObject(v)) throw new ConfigError('COMPARE_THRESHOLDS', source, 'must be an object of metric → {pct, abs, better}');
  const out: Record<string, Threshold> = {};
  for (const [metric, raw] of Object.entries(v)) {
    const key = `COMPARE_THRESHOLDS.${metric}`;
    // false / null switch off a threshold a lower layer set (objects merge key by key).
    if (raw === false || raw === null) continue;
    if (typeof raw === 'number') {
      if (!(raw >= 0)) throw new ConfigError(key, source, `must be a percentage ≥ 0, got ${raw}`);
      out[metric] = { better: defaultBetter(metric, key, source), pct: raw };
      continue;
    }
    if (!isPlainObject(raw)) throw new ConfigError(key, source, 'must be a number (percent), {pct, abs, better}, or false to switch it off');
    const t = raw as JsonObject;
    for (const k of Object.keys(t))
      if (!['pct', 'abs', 'better'].includes(k)) throw new ConfigError(`${key}.${k}`, source, 'unknown field (expected pct, abs, better)');
    const better = t.better === undefined ? defaultBetter(metric, key, source) : t.better;
    if (better !== 'higher' && better !== 'lower') throw new ConfigError(`${key}.better`, source, `must be "higher" or "lower", got ${JSON.stringify(better)}`);
    const th: { better: Better; pct?: number; abs?: number } = { better };
    for (const f of ['pct', 'abs'] as const) {
      if (t[f] === undefined) continue;
      const n = t[f];
      if (typeof n !== 'number' || !(n >= 0)) throw new ConfigError(`${key}.${f}`, source, `must be a number ≥ 0, got ${JSON.stringify(n)}`);
      th[f] = n;
    }
    if (th.pct === undefined && th.abs === undefined) throw new ConfigError(key, source, 'needs pct or abs');
    out[metric] = th;
  }
  return out;
}

function defaultBetter(metric: string, key: string, source: string): Better {
  const b = metricInfo(metric).better;
  if (b === 'none') throw new ConfigError(key, source, `metric ${metric} has no known good direction; set "better": "higher" | "lower"`);
  return b;
}

function stats(values: readonly number[]): { mean: number; stdev: number; n: number } {
  return { mean: mean(values), stdev: stdev(values), n: values.length };
}

/** Noise band (metric units) for a difference of means, or 0 without repeats. */
export function noiseBand(b: { stdev: number; n: number }, c: { stdev: number; n: number }, sigma: number): number {
  if (sigma <= 0) return 0;
  // With repeats on one side only, that side's spread stands in for the other's.
  const sb = b.n >= 2 ? b.stdev : c.stdev;
  const sc = c.n >= 2 ? c.stdev : b.stdev;
  if (b.n < 2 && c.n < 2) return 0;
  return sigma * Math.sqrt((sb * sb) / b.n + (sc * sc) / c.n);
}

export function compareSets(baseline: MetricSet, current: MetricSet, opts: GateOptions = DEFAULT_GATE): GateReport {
  const warnings: string[] = [];
  if (baseline.simulated !== current.simulated) {
    warnings.push(
      `comparing ${baseline.simulated ? 'simulated' : 'measured'} baseline with ${current.simulated ? 'simulated' : 'measured'} results: figures are not comparable`,
    );
  }
  for (const [side, set] of [
    ['baseline', baseline],
    ['results', current],
  ] as const) {
    if (set.invalidRows?.length)
      warnings.push(
        `${set.invalidRows.length} ${side} row(s) with validity=invalid ignored: ${set.invalidRows
          .map((k) =>
            k
              .split('|')
              .filter((x) => x !== '' && x !== '0')
              .join(' '),
          )
          .join(', ')}`,
      );
  }
  const invalidNow = new Set(current.invalidRows ?? []);
  const gated = (s: Series): boolean => s.metric in opts.thresholds;
  const bSeries = [...toSeries(baseline.samples).values()].filter(gated);
  const cSeries = toSeries(current.samples);
  const curTc = new Map(current.testcases.map((t) => [`${t.name}|${t.deployment}`, t]));
  const changes: Change[] = [];
  for (const b of bSeries) {
    const th = opts.thresholds[b.metric]!;
    const unit = metricInfo(b.metric).unit;
    const ident = { testcase: b.testcase, deployment: b.deployment, frameSize: b.frameSize, goal: b.goal, metric: b.metric, unit };
    const bs = stats(b.values);
    const c = cSeries.get(b.key);
    if (!c && invalidNow.has([b.testcase, b.deployment, b.frameSize, b.goal].join('|'))) {
      changes.push({ ...ident, baseline: bs, verdict: 'not-run', note: 'current row is invalid (validity verdict): not compared' });
      continue;
    }
    if (!c) {
      const tc = curTc.get(`${b.testcase}|${b.deployment}`);
      if (!tc) changes.push({ ...ident, baseline: bs, verdict: opts.failOnMissing ? 'missing' : 'not-run', note: 'testcase not in results' });
      else if (tc.status === 'failed') changes.push({ ...ident, baseline: bs, verdict: 'failed', ...(tc.error ? { note: tc.error } : {}) });
      else changes.push({ ...ident, baseline: bs, verdict: opts.failOnMissing ? 'missing' : 'not-run', note: 'series not in results' });
      continue;
    }
    const cs = stats(c.values);
    const diff = cs.mean - bs.mean;
    const changePct = bs.mean !== 0 ? (diff / Math.abs(bs.mean)) * 100 : diff === 0 ? 0 : Number.POSITIVE_INFINITY * Math.sign(diff);
    const worse = th.better === 'higher' ? -diff : diff; // > 0: degradation
    const noiseAbs = noiseBand(bs, cs, opts.noiseSigma);
    const pctAbs = th.pct !== undefined ? (th.pct / 100) * Math.abs(bs.mean) : 0;
    const limitAbs = Math.max(pctAbs, th.abs ?? 0);
    const exceeds = (d: number): boolean => d > 0 && d > limitAbs;
    let verdict: Verdict = 'ok';
    if (exceeds(worse)) verdict = worse > noiseAbs ? 'regression' : 'within-noise';
    else if (exceeds(-worse)) verdict = -worse > noiseAbs ? 'improved' : 'within-noise';
    changes.push({ ...ident, baseline: bs, current: cs, changePct, limitAbs: Math.max(limitAbs, noiseAbs), noiseAbs, verdict });
  }
  const bKeys = new Set(bSeries.map((s) => s.key));
  for (const c of cSeries.values()) {
    if (!gated(c) || bKeys.has(c.key)) continue;
    changes.push({
      testcase: c.testcase,
      deployment: c.deployment,
      frameSize: c.frameSize,
      goal: c.goal,
      metric: c.metric,
      unit: metricInfo(c.metric).unit,
      current: stats(c.values),
      verdict: 'new',
      note: 'no baseline',
    });
  }
  // Testcases that failed now but produced no gated series in the baseline still fail the gate.
  const bTc = new Set(baseline.testcases.map((t) => `${t.name}|${t.deployment}`));
  for (const t of current.testcases) {
    if (t.status === 'failed' && !changes.some((ch) => ch.testcase === t.name && ch.deployment === t.deployment && ch.verdict === 'failed')) {
      changes.push({
        testcase: t.name,
        deployment: t.deployment,
        frameSize: 0,
        goal: '',
        metric: 'status',
        unit: '',
        verdict: bTc.has(`${t.name}|${t.deployment}`) || opts.failOnMissing ? 'failed' : 'new',
        ...(t.error ? { note: t.error } : {}),
      });
    }
  }
  changes.sort(compareSeries);
  const bad = (v: Verdict): boolean => v === 'regression' || v === 'failed' || v === 'missing';
  const regressions = changes.filter((c) => bad(c.verdict)).length;
  return {
    baseline: { label: baseline.label, runId: baseline.runId, startTime: baseline.startTime, simulated: baseline.simulated },
    current: { label: current.label, runId: current.runId, startTime: current.startTime, simulated: current.simulated },
    changes,
    regressions,
    improvements: changes.filter((c) => c.verdict === 'improved').length,
    warnings,
    passed: regressions === 0,
  };
}
