/**
 * Figures of merit pulled out of results rows, one sample per (testcase, deployment, frame size, goal,
 * metric) and repeat. The regression gate, the archive, the trend table and the InfluxDB exporter all
 * speak this one shape, so a baseline can come from a results directory or from the archive.
 */
import type { RunResults } from '../results/types.js';

export type Better = 'higher' | 'lower' | 'none';

export interface MetricInfo {
  readonly better: Better;
  readonly unit: string;
  readonly label: string;
}

/** Result columns that are measurements (not settings or labels), with which direction is good. */
export const METRICS: Readonly<Record<string, MetricInfo>> = {
  throughput_rx_fps: { better: 'higher', unit: 'fps', label: 'throughput' },
  throughput_rx_mbps: { better: 'higher', unit: 'Mbit/s', label: 'throughput' },
  throughput_rx_percent: { better: 'higher', unit: '% line', label: 'throughput' },
  tx_rate_fps: { better: 'none', unit: 'fps', label: 'tx rate' },
  frame_loss_percent: { better: 'lower', unit: '%', label: 'frame loss' },
  min_latency_ns: { better: 'lower', unit: 'ns', label: 'min latency' },
  avg_latency_ns: { better: 'lower', unit: 'ns', label: 'avg latency' },
  max_latency_ns: { better: 'lower', unit: 'ns', label: 'max latency' },
  p50_latency_ns: { better: 'lower', unit: 'ns', label: 'p50 latency' },
  p90_latency_ns: { better: 'lower', unit: 'ns', label: 'p90 latency' },
  p99_latency_ns: { better: 'lower', unit: 'ns', label: 'p99 latency' },
  p99_9_latency_ns: { better: 'lower', unit: 'ns', label: 'p99.9 latency' },
  p99_99_latency_ns: { better: 'lower', unit: 'ns', label: 'p99.99 latency' },
  b2b_frames: { better: 'higher', unit: 'frames', label: 'back-to-back burst' },
  b2b_frame_loss_percent: { better: 'lower', unit: '%', label: 'b2b loss' },
  forwarding_rate_fps: { better: 'higher', unit: 'fps', label: 'forwarding rate' },
  caching_capacity_addrs: { better: 'higher', unit: 'addrs', label: 'caching capacity' },
  addr_learned_percent: { better: 'higher', unit: '%', label: 'addresses learned' },
  optimal_learning_rate_fps: { better: 'higher', unit: 'fps', label: 'learning rate' },
  lower_bound_fps: { better: 'higher', unit: 'fps', label: 'lower bound' },
  upper_bound_fps: { better: 'higher', unit: 'fps', label: 'upper bound' },
  conditional_throughput_fps: { better: 'higher', unit: 'fps', label: 'conditional throughput' },
  trial_time_s: { better: 'none', unit: 's', label: 'trial time' },
  trials: { better: 'none', unit: 'trials', label: 'trials' },
  migration_total_ms: { better: 'lower', unit: 'ms', label: 'migration total' },
  migration_setup_ms: { better: 'lower', unit: 'ms', label: 'migration setup' },
  migration_downtime_ms: { better: 'lower', unit: 'ms', label: 'QEMU downtime' },
  migration_stop_resume_ms: { better: 'lower', unit: 'ms', label: 'STOP→RESUME' },
  dataplane_outage_ms: { better: 'lower', unit: 'ms', label: 'data-plane outage' },
  rx_gap_ms: { better: 'lower', unit: 'ms', label: 'receive silence in migration' },
  silence_start_vs_stop_ms: { better: 'none', unit: 'ms', label: 'silence start vs STOP' },
  resume_to_traffic_ms: { better: 'lower', unit: 'ms', label: 'RESUME to traffic back' },
  migration_max_latency_ms: { better: 'lower', unit: 'ms', label: 'max latency in migration' },
  delayed_frames: { better: 'lower', unit: 'frames', label: 'frames delayed in migration' },
  migration_lost_frames: { better: 'lower', unit: 'frames', label: 'frames lost in migration' },
  migration_ram_transferred_bytes: { better: 'none', unit: 'B', label: 'RAM transferred' },
};

export function metricInfo(metric: string): MetricInfo {
  return METRICS[metric] ?? { better: 'none', unit: '', label: metric };
}

export interface MetricSample {
  readonly testcase: string;
  readonly deployment: string;
  /** packet_size of the row, or 0 when the row has none. */
  readonly frameSize: number;
  /** NDR/PDR goal name, '' for single-result rows. */
  readonly goal: string;
  readonly metric: string;
  readonly value: number;
  /** 0, 1, … for repeated rows of the same series within one run. */
  readonly repeat: number;
}

export interface TestcaseStatus {
  readonly name: string;
  readonly deployment: string;
  readonly status: 'passed' | 'failed';
  readonly error?: string;
}

export interface MetricSet {
  readonly runId: string;
  readonly startTime: string;
  readonly label: string;
  readonly simulated: boolean;
  readonly status: string;
  readonly testcases: TestcaseStatus[];
  readonly samples: MetricSample[];
  /** Rows left out because their validity verdict is `invalid` ("testcase|deployment|size|goal"). */
  readonly invalidRows?: string[];
}

/** Series identity of a sample (everything except value and repeat). */
export function seriesKey(s: SeriesId): string {
  return [s.testcase, s.deployment, s.frameSize, s.goal, s.metric].join('|');
}

type SeriesId = Pick<MetricSample, 'testcase' | 'deployment' | 'frameSize' | 'goal' | 'metric'>;

/** Report order of series: testcase, deployment, frame size (numeric), goal, metric. */
export function compareSeries(a: SeriesId, b: SeriesId): number {
  return (
    a.testcase.localeCompare(b.testcase) ||
    a.deployment.localeCompare(b.deployment) ||
    a.frameSize - b.frameSize ||
    a.goal.localeCompare(b.goal) ||
    a.metric.localeCompare(b.metric)
  );
}

const SUMMARY_IDS = new Set(['min', 'median', 'max', 'mean', 'avg']);

export function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '' && v !== 'Unknown') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Every metric sample of a run. Failed testcases contribute no samples (their status says why). */
export function extractMetrics(results: RunResults, label = results.runId): MetricSet {
  const samples: MetricSample[] = [];
  const seen = new Map<string, number>();
  const testcases: TestcaseStatus[] = [];
  const invalidRows: string[] = [];
  for (const tc of results.testcases) {
    testcases.push({ name: tc.name, deployment: tc.deployment, status: tc.status, ...(tc.error ? { error: `${tc.error.code}: ${tc.error.message}` } : {}) });
    if (tc.status !== 'passed') continue;
    for (const row of tc.rows) {
      // Summary rows (live migration's min / median / max over the migrations) are derived from the
      // per-migration rows, which are the samples; counting them again would skew means and spreads.
      if (typeof row.id === 'string' && SUMMARY_IDS.has(row.id)) continue;
      const frameSize = num(row.packet_size) ?? 0;
      const goal = typeof row.goal === 'string' ? row.goal : '';
      // A figure measured in unfit conditions says nothing about the DUT: never gate on it.
      if (row.validity === 'invalid') {
        invalidRows.push([tc.name, tc.deployment, frameSize, goal].join('|'));
        continue;
      }
      for (const [col, raw] of Object.entries(row)) {
        if (!(col in METRICS)) continue;
        const value = typeof raw === 'boolean' ? undefined : num(raw);
        if (value === undefined) continue;
        const base = { testcase: tc.name, deployment: tc.deployment, frameSize, goal, metric: col };
        const key = seriesKey(base);
        const repeat = seen.get(key) ?? 0;
        seen.set(key, repeat + 1);
        samples.push({ ...base, value, repeat });
      }
    }
  }
  return {
    runId: results.runId,
    startTime: results.startTime,
    label,
    simulated: results.testcases.some((t) => t.simulated),
    status: results.status,
    testcases,
    samples,
    ...(invalidRows.length ? { invalidRows } : {}),
  };
}

export interface Series {
  readonly key: string;
  readonly testcase: string;
  readonly deployment: string;
  readonly frameSize: number;
  readonly goal: string;
  readonly metric: string;
  readonly values: number[];
}

/** Group samples into series (values in repeat order). */
export function toSeries(samples: readonly MetricSample[]): Map<string, Series> {
  const out = new Map<string, Series>();
  for (const s of samples) {
    const key = seriesKey(s);
    let e = out.get(key);
    if (!e) {
      e = { key, testcase: s.testcase, deployment: s.deployment, frameSize: s.frameSize, goal: s.goal, metric: s.metric, values: [] };
      out.set(key, e);
    }
    e.values.push(s.value);
  }
  return out;
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n − 1); 0 for fewer than two values. */
export function stdev(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}
