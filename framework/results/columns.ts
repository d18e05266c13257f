/**
 * The CSV contract: VSPERF's result keys (core/results/results_constants.py) with units in the names,
 * then the columns vsperf-ts adds. CSV writers emit the known columns in this order, then any other
 * keys of the rows in order of first appearance. Missing values are written as VSPERF does: "Unknown".
 */
export const UNKNOWN = 'Unknown';

export const VSPERF_COLUMNS = [
  'type',
  'id',
  'packet_size',
  'deployment',
  'vswitch',
  'traffic_type',
  'guest_loopback_app',
  'tunnel_type',
  'tx_rate_fps',
  'throughput_rx_fps',
  'tx_rate_mbps',
  'throughput_rx_mbps',
  'tx_rate_percent',
  'throughput_rx_percent',
  'min_latency_ns',
  'max_latency_ns',
  'avg_latency_ns',
  'frame_loss_percent',
  'tx_frames',
  'rx_frames',
  'tx_bytes',
  'rx_bytes',
  'payload_err',
  'seq_err',
  'b2b_rx_fps',
  'b2b_tx_fps',
  'b2b_rx_percent',
  'b2b_tx_percent',
  'b2b_tx_count',
  'b2b_frames',
  'b2b_frame_loss_frames',
  'b2b_frame_loss_percent',
  'stream_count',
  'match_type',
  'pre-installed_flows',
  'forwarding_rate_fps',
  'caching_capacity_addrs',
  'addr_learned_percent',
  'optimal_learning_rate_fps',
  'test_execution_time',
  'start_time',
  'stop_time',
  'capture_tx',
  'capture_rx',
  'imix_genome',
  'imix_avg_framesize',
] as const;

/** Columns vsperf-ts adds after VSPERF's. */
export const EXTRA_COLUMNS = [
  // Latency percentiles from the per-frame histogram.
  'p50_latency_ns',
  'p90_latency_ns',
  'p99_latency_ns',
  'p99_9_latency_ns',
  'p99_99_latency_ns',
  // NDR/PDR multi-goal search: one row per goal.
  'goal',
  'goal_loss_ratio',
  'lower_bound_fps',
  'upper_bound_fps',
  'conditional_throughput_fps',
  // Search bookkeeping.
  'trials',
  'trial_time_s',
  'search_status',
  // Live migration.
  'migration_total_ms',
  'migration_setup_ms',
  'migration_downtime_ms',
  'migration_stop_resume_ms',
  'dataplane_outage_ms',
  'rx_gap_ms',
  'silence_start_vs_stop_ms',
  'resume_to_traffic_ms',
  'migration_max_latency_ms',
  'delayed_frames',
  'outage_kind',
  'migration_lost_frames',
  'migration_ram_transferred_bytes',
  'guest_clock_offset_before_ms',
  'guest_clock_offset_after_ms',
  'guest_clock_step_ms',
  'guest_clock_uncertainty_ms',
  'migration_pass',
  // Measurement fidelity: the verdict from measured conditions (framework/fidelity/verdict.ts).
  'validity',
  'validity_reasons',
  // Provenance: never pass a computed figure off as measured.
  'trafficgen',
  'trafficgen_backend',
  'simulated',
] as const;

export const RESULT_COLUMNS: readonly string[] = [...VSPERF_COLUMNS, ...EXTRA_COLUMNS];

/** Column order for a set of rows: known columns present in any row, then unknown keys. */
export function columnsFor(rows: readonly Record<string, unknown>[]): string[] {
  const present = new Set<string>();
  const extra: string[] = [];
  for (const r of rows) {
    for (const k of Object.keys(r)) {
      if (!present.has(k)) {
        present.add(k);
        if (!RESULT_COLUMNS.includes(k)) extra.push(k);
      }
    }
  }
  return [...RESULT_COLUMNS.filter((c) => present.has(c)), ...extra];
}
