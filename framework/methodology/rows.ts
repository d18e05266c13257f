import type { TrialResult } from '../../trafficgen/types.js';
import type { ResultRow } from './types.js';

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
    const map: Record<string, string> = { p50: 'p50_latency_ns', p90: 'p90_latency_ns', p99: 'p99_latency_ns', 'p99.9': 'p99_9_latency_ns', 'p99.99': 'p99_99_latency_ns' };
    for (const [k, col] of Object.entries(map)) if (p[k] !== undefined) row[col] = round(p[k]!);
  }
  return row;
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
