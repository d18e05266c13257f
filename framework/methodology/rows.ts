import type { TrialResult } from '../api/trafficgen.js';
import type { ResultRow } from './types.js';
import type { TrialRecord } from './context.js';

/** Mbit/s of L2 frames (incl. FCS) at a frame rate, as VSPERF reports *_mbps. */
export function fpsToMbps(fps: number, frameSize: number): number {
  return (fps * frameSize * 8) / 1e6;
}

/** The throughput/continuous columns VSPERF fills from one measured trial (per direction rates). */
export function rateColumns(r: TrialResult, frameSize: number, lineRateFps: number): ResultRow {
  const row: ResultRow = {
    tx_rate_fps: round(r.achievedTxFps),
    throughput_rx_fps: round(r.rxFps),
    tx_rate_mbps: round(fpsToMbps(r.achievedTxFps, frameSize)),
    throughput_rx_mbps: round(fpsToMbps(r.rxFps, frameSize)),
    tx_rate_percent: round((r.achievedTxFps / lineRateFps) * 100),
    throughput_rx_percent: round((r.rxFps / lineRateFps) * 100),
    frame_loss_percent: round(r.lossPct, 6),
  };
  if (r.latency && r.latency.samples > 0) {
    row.min_latency_ns = round(r.latency.minNs);
    row.avg_latency_ns = round(r.latency.avgNs);
    row.max_latency_ns = round(r.latency.maxNs);
    const p = r.latency.percentilesNs;
    const map: Record<string, string> = {
      p50: 'p50_latency_ns',
      p90: 'p90_latency_ns',
      p99: 'p99_latency_ns',
      'p99.9': 'p99_9_latency_ns',
      'p99.99': 'p99_99_latency_ns',
    };
    for (const [k, col] of Object.entries(map)) if (p[k] !== undefined) row[col] = round(p[k]!);
  }
  return row;
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Search bookkeeping columns for the trials a runner recorded from index `from` on. */
export function searchColumns(trials: readonly TrialRecord[], status: string): ResultRow {
  const row: ResultRow = {
    trials: trials.length,
    trial_time_s: round(trials.reduce((a, t) => a + (t.durationS ?? t.result.durationS), 0)),
    search_status: status,
  };
  if (trials.some((t) => t.result.simulated)) row.simulated = true;
  return row;
}

/**
 * Mean of repeated rows (TRAFFICGEN_RFC2544_TESTS / TRAFFICGEN_RFC2889_TRIALS repetitions, averaged
 * as RFC 2544 asks): numeric columns averaged, others taken from the first row; bookkeeping summed.
 */
export function meanRows(rows: readonly ResultRow[]): ResultRow {
  if (rows.length === 1) return rows[0]!;
  const out: ResultRow = { ...rows[0]! };
  const summed = new Set(['trials', 'trial_time_s']);
  for (const k of Object.keys(out)) {
    const vals = rows.map((r) => r[k]);
    if (vals.every((v) => typeof v === 'number')) {
      const s = (vals as number[]).reduce((a, v) => a + v, 0);
      out[k] = summed.has(k) ? round(s) : round(s / vals.length);
    }
  }
  const statuses = [...new Set(rows.map((r) => r.search_status).filter((s) => s !== undefined))];
  if (statuses.length > 1) out.search_status = statuses.join('; ');
  out.tests = rows.length;
  return out;
}
