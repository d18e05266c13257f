/** Per-migration records, min/median/max and pass/fail against the targets. Pure. */

export interface MigrationRecord {
  readonly index: number;
  readonly direction: string;
  /** Peer-to-peer: source→destination host names. */
  readonly hostPair?: string;
  /** Migration stream bandwidth QEMU reports (Mbit/s). */
  readonly streamMbps?: number;
  /** Peer-to-peer: first RARP out of the destination's uplink → first frame for the guest into it (ms). */
  readonly fabricRelearnMs?: number;
  readonly totalMs: number;
  readonly setupMs: number;
  readonly downtimeMs: number;
  readonly stopResumeMs: number;
  /** The longest time the receiver got nothing new: max(rxGapMs, seqGapMs) (ms). */
  readonly dataplaneOutageMs?: number;
  /** Longest gap in the received sequence, as time at the offered rate (ms). */
  readonly seqGapMs?: number;
  /** Longest receive silence inside the migration window, receiver clock (ms). */
  readonly rxGapMs?: number;
  /** The longest silence: its start − STOP and its end − RESUME (ms; receiver.ts). */
  readonly silenceStartVsStopMs?: number;
  readonly resumeToTrafficMs?: number;
  /** Largest one-way latency of a frame received inside the migration window (ms). */
  readonly migrationMaxLatencyMs?: number;
  /** Frames later than 10 × the pre-migration p99 latency. */
  readonly delayedFrames?: number;
  /** loss | delay | both | none. */
  readonly outageKind?: string;
  readonly lostFrames?: number;
  /** lost frames / (rate × directions) (ms): must agree with dataplaneOutageMs when all loss is the outage. */
  readonly outageFromLossMs?: number;
  readonly ramTransferredBytes: number;
  readonly wallMs: number;
  /** MIGRATION_VERIFY_RAM: guest RAM pages that differed between source and destination (0 = identical). */
  readonly ramDiffPages?: number;
  /** Guest clock − host clock on the source before and the destination after (ms; guest-clock.ts). */
  readonly guestClockOffsetBeforeMs?: number;
  readonly guestClockOffsetAfterMs?: number;
  readonly guestClockAfterAtMs?: number;
  /** after − before: how far the migration moved the guest clock (ms), and that figure's uncertainty. */
  readonly guestClockStepMs?: number;
  readonly guestClockUncertaintyMs?: number;
  readonly pass: boolean;
  readonly failed: readonly string[];
}

export interface Targets {
  readonly totalMs: number;
  readonly downtimeMs: number;
}

/** Which targets a migration misses (empty = pass). Downtime target applies to QEMU downtime and data-plane outage. */
export function checkTargets(r: Pick<MigrationRecord, 'totalMs' | 'downtimeMs' | 'dataplaneOutageMs'>, t: Targets): string[] {
  const f: string[] = [];
  if (r.totalMs > t.totalMs) f.push(`total ${round(r.totalMs)} ms > ${t.totalMs} ms`);
  if (r.downtimeMs > t.downtimeMs) f.push(`downtime ${round(r.downtimeMs)} ms > ${t.downtimeMs} ms`);
  if (r.dataplaneOutageMs !== undefined && r.dataplaneOutageMs > t.downtimeMs)
    f.push(`data-plane outage ${round(r.dataplaneOutageMs)} ms > ${t.downtimeMs} ms`);
  return f;
}

export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Stat {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

export function stat(xs: readonly number[]): Stat | undefined {
  if (!xs.length) return undefined;
  return { min: Math.min(...xs), median: median(xs), max: Math.max(...xs) };
}

export type SummaryKey =
  | 'totalMs'
  | 'setupMs'
  | 'downtimeMs'
  | 'stopResumeMs'
  | 'dataplaneOutageMs'
  | 'lostFrames'
  | 'outageFromLossMs'
  | 'ramTransferredBytes'
  | 'rxGapMs'
  | 'silenceStartVsStopMs'
  | 'resumeToTrafficMs'
  | 'migrationMaxLatencyMs'
  | 'delayedFrames'
  | 'guestClockStepMs'
  | 'guestClockUncertaintyMs'
  | 'streamMbps'
  | 'fabricRelearnMs';

export function summarize(records: readonly MigrationRecord[]): Partial<Record<SummaryKey, Stat>> {
  const keys: SummaryKey[] = [
    'totalMs',
    'setupMs',
    'downtimeMs',
    'stopResumeMs',
    'dataplaneOutageMs',
    'lostFrames',
    'outageFromLossMs',
    'ramTransferredBytes',
    'rxGapMs',
    'silenceStartVsStopMs',
    'resumeToTrafficMs',
    'migrationMaxLatencyMs',
    'delayedFrames',
    'guestClockStepMs',
    'guestClockUncertaintyMs',
    'streamMbps',
    'fabricRelearnMs',
  ];
  const out: Partial<Record<SummaryKey, Stat>> = {};
  for (const k of keys) {
    const s = stat(records.map((r) => r[k]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x)));
    if (s) out[k] = s;
  }
  return out;
}

export function round(x: number, d = 3): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}
