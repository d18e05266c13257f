/** One migration's record and receiver entry, and the testcase's result rows (per migration, min/median/max). Pure. */
import type { ResultRow } from '../../framework/methodology/types.js';
import type { TrialResult } from '../../framework/api/trafficgen.js';
import type { MigrationFigures } from './migrate.js';
import type { MigrationOptions } from './options.js';
import type { ReceiverFigures } from './receiver.js';
import { checkTargets, round, type MigrationRecord, type Stat, type Targets } from './summary.js';
import { combine, type Verdict } from '../../framework/fidelity/verdict.js';

export function targetsOf(opts: MigrationOptions): Targets {
  return { totalMs: opts.targetTotalMs, downtimeMs: opts.targetDowntimeMs };
}

/** Lost frames as time at the offered rate (ms). */
export function outageFromLoss(lostFrames: number, rateFps: number, directions: number): number {
  return (lostFrames / (rateFps * directions)) * 1000;
}

/** QEMU's figures, the receiver's and the traffic's loss of one migration, judged against the targets. */
export function migrationRecord(
  at: { readonly index: number; readonly direction: string; readonly hostPair?: string; readonly fabricRelearnMs?: number },
  fig: MigrationFigures,
  traffic: TrialResult,
  rx: ReceiverFigures,
  opts: MigrationOptions,
  directions: number,
): MigrationRecord {
  const seqGapMs = traffic.maxGapMs;
  const outage = rx.outageMs;
  const rec = {
    index: at.index,
    direction: at.direction,
    ...(at.hostPair ? { hostPair: at.hostPair } : {}),
    streamMbps: fig.mbps,
    ...(at.fabricRelearnMs !== undefined ? { fabricRelearnMs: round(at.fabricRelearnMs) } : {}),
    totalMs: fig.totalMs,
    setupMs: fig.setupMs,
    downtimeMs: fig.downtimeMs,
    stopResumeMs: round(fig.stopResumeMs),
    ...(outage !== undefined ? { dataplaneOutageMs: round(outage) } : {}),
    ...(seqGapMs !== undefined ? { seqGapMs: round(seqGapMs) } : {}),
    ...(rx.rxGapMs !== undefined ? { rxGapMs: round(rx.rxGapMs) } : {}),
    ...(rx.silenceStartVsStopMs !== undefined ? { silenceStartVsStopMs: round(rx.silenceStartVsStopMs) } : {}),
    ...(rx.resumeToTrafficMs !== undefined ? { resumeToTrafficMs: round(rx.resumeToTrafficMs) } : {}),
    ...(rx.maxLatencyMs !== undefined ? { migrationMaxLatencyMs: round(rx.maxLatencyMs) } : {}),
    ...(rx.delayedFrames !== undefined ? { delayedFrames: rx.delayedFrames } : {}),
    outageKind: rx.outageKind,
    lostFrames: traffic.lostFrames,
    outageFromLossMs: round(outageFromLoss(traffic.lostFrames, opts.rateFps, directions)),
    ramTransferredBytes: fig.ramTransferredBytes,
    wallMs: round(fig.wallMs),
    ...(fig.ramDiff ? { ramDiffPages: fig.ramDiff.pages } : {}),
  };
  const failed = checkTargets(rec, targetsOf(opts));
  return { ...rec, pass: failed.length === 0, failed };
}

/** The receiver's view of one migration, ms since its start, and the window on the host clock for an outside observer. */
export function receiverEntry(fig: MigrationFigures, rx: ReceiverFigures, trafficStopMs: number, traffic: TrialResult): Record<string, unknown> {
  const since = (ms: number): number => round(ms - fig.startEpochMs);
  return {
    ...(rx.rxGap ? { rxGaps: [{ startMs: since(rx.rxGap.startMs), endMs: since(rx.rxGap.endMs) }] } : {}),
    ...(rx.bins
      ? { rxTimeline: { startMs: since(rx.bins.startMs), binMs: rx.bins.binMs, rxFrames: rx.bins.rxFrames, maxLatencyMs: rx.bins.maxLatencyMs } }
      : {}),
    resumeMs: since(fig.resumeEpochMs),
    // The window on the host clock, for an observer outside (a capture): start and traffic stop.
    startEpochMs: fig.startEpochMs,
    trafficStopEpochMs: trafficStopMs,
    ...(traffic.info?.runTag !== undefined ? { runTag: traffic.info.runTag } : {}),
  };
}

const COLUMNS: readonly (readonly [string, keyof MigrationRecord])[] = [
  ['migration_total_ms', 'totalMs'],
  ['migration_setup_ms', 'setupMs'],
  ['migration_downtime_ms', 'downtimeMs'],
  ['migration_stop_resume_ms', 'stopResumeMs'],
  ['dataplane_outage_ms', 'dataplaneOutageMs'],
  ['rx_gap_ms', 'rxGapMs'],
  ['silence_start_vs_stop_ms', 'silenceStartVsStopMs'],
  ['resume_to_traffic_ms', 'resumeToTrafficMs'],
  ['migration_max_latency_ms', 'migrationMaxLatencyMs'],
  ['delayed_frames', 'delayedFrames'],
  ['migration_lost_frames', 'lostFrames'],
  ['outage_from_loss_ms', 'outageFromLossMs'],
  ['migration_ram_transferred_bytes', 'ramTransferredBytes'],
  ['guest_clock_offset_before_ms', 'guestClockOffsetBeforeMs'],
  ['guest_clock_offset_after_ms', 'guestClockOffsetAfterMs'],
  ['guest_clock_step_ms', 'guestClockStepMs'],
  ['guest_clock_uncertainty_ms', 'guestClockUncertaintyMs'],
  ['migration_stream_mbps', 'streamMbps'],
  ['fabric_relearn_ms', 'fabricRelearnMs'],
];

/** The verdict columns (framework/fidelity): each migration's own, min/median/max the worst of them. */
function verdictCols(v: Verdict | undefined): ResultRow {
  return v ? { validity: v.validity, validity_reasons: v.reasons.join(';') } : {};
}

function row(base: ResultRow, id: string, r: Partial<Record<string, unknown>>, pass: boolean, failed: readonly string[]): ResultRow {
  const out: ResultRow = { ...base, id };
  for (const [col, key] of COLUMNS) {
    const v = r[key];
    if (typeof v === 'number' && Number.isFinite(v)) out[col] = round(v);
  }
  out.migration_pass = pass;
  if (failed.length) out.migration_fail_reason = failed.join('; ');
  return out;
}

/** One row per migration (`migration_<n>`), then `min`, `median` and `max` judged against the targets. */
export function migrationRows(
  records: readonly MigrationRecord[],
  sum: Partial<Record<string, Stat>>,
  opts: MigrationOptions,
  frameSize: number,
  verdicts: readonly Verdict[] = [],
): ResultRow[] {
  const base: ResultRow = {
    type: 'live_migration',
    packet_size: frameSize,
    traffic_type: 'live_migration',
    migration_mode: opts.mode,
    tx_rate_fps: opts.rateFps,
    migration_target_total_ms: opts.targetTotalMs,
    migration_target_downtime_ms: opts.targetDowntimeMs,
  };
  const rows: ResultRow[] = records.map((r, k) => ({
    ...row(base, `migration_${r.index}`, r as unknown as Record<string, unknown>, r.pass, r.failed),
    ...(r.outageKind ? { outage_kind: r.outageKind } : {}),
    ...verdictCols(verdicts[k]),
    ...(r.hostPair ? { migration_host_pair: r.hostPair } : {}),
  }));
  const worst = verdicts.length ? combine(verdicts) : undefined;
  // Peer-to-peer: the summary rows name every host pair they summarize.
  const pairs = [...new Set(records.map((r) => r.hostPair).filter((p): p is string => !!p))];
  for (const which of ['min', 'median', 'max'] as const) {
    const vals = Object.fromEntries(Object.entries(sum).map(([k, s]) => [k, s![which]]));
    const failed = checkTargets(
      {
        totalMs: vals.totalMs ?? 0,
        downtimeMs: vals.downtimeMs ?? 0,
        ...(vals.dataplaneOutageMs !== undefined ? { dataplaneOutageMs: vals.dataplaneOutageMs } : {}),
      },
      targetsOf(opts),
    );
    rows.push({
      ...row(base, which, vals, failed.length === 0, failed),
      ...verdictCols(worst),
      ...(pairs.length ? { migration_host_pair: pairs.join(' ') } : {}),
    });
  }
  return rows;
}
