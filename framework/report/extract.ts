/**
 * What the report plots, pulled out of one testcase result: per-frame-size figures, the search
 * trajectory, the latency histogram of the trial that gave the result, and migration timelines.
 * Tolerant of missing fields: a plot whose data is absent is simply not drawn.
 */
import type { TestcaseResult } from '../results/types.js';
import type { TrialRecord } from '../methodology/context.js';
import type { LatencyStats } from '../api/trafficgen.js';
import { num } from '../compare/metrics.js';

export function lossLimitPct(tc: TestcaseResult): number {
  return num((tc.settings as Record<string, unknown> | undefined)?.TRAFFICGEN_LOSSRATE) ?? 0;
}

export function frameSizesOf(tc: TestcaseResult): number[] {
  const s = new Set<number>();
  for (const r of tc.rows) {
    const v = num(r.packet_size);
    if (v !== undefined) s.add(v);
  }
  for (const t of tc.trials) s.add(t.frameSize);
  return [...s].sort((a, b) => a - b);
}

export interface PerSize {
  readonly sizes: number[];
  /** column → goal ('' if none) → per size: values (repeats) */
  readonly values: Map<string, Map<string, (number[] | undefined)[]>>;
}

/** Values of the given columns per frame size (and goal), repeats kept. */
export function perFrameSize(tc: TestcaseResult, columns: readonly string[]): PerSize {
  const sizes = [...new Set(tc.rows.map((r) => num(r.packet_size)).filter((v): v is number => v !== undefined))].sort((a, b) => a - b);
  const values = new Map<string, Map<string, (number[] | undefined)[]>>();
  for (const col of columns) {
    const byGoal = new Map<string, (number[] | undefined)[]>();
    for (const r of tc.rows) {
      const size = num(r.packet_size);
      const v = num(r[col]);
      if (size === undefined || v === undefined) continue;
      const goal = typeof r.goal === 'string' ? r.goal : '';
      let arr = byGoal.get(goal);
      if (!arr) byGoal.set(goal, (arr = sizes.map(() => undefined)));
      const i = sizes.indexOf(size);
      (arr[i] ??= []).push(v);
    }
    if (byGoal.size) values.set(col, byGoal);
  }
  return { sizes, values };
}

export type TrialClass = 'pass' | 'fail' | 'invalid';

export function classifyTrial(t: TrialRecord, lossLimit: number): TrialClass {
  if (!t.valid) return 'invalid';
  return t.result.lossPct <= lossLimit + 1e-12 ? 'pass' : 'fail';
}

/**
 * The trial whose latency stands for a frame size: the highest-rate passing valid trial with a
 * histogram (the search result), else the last trial with one.
 */
export function resultTrial(tc: TestcaseResult, size: number): TrialRecord | undefined {
  const lim = lossLimitPct(tc);
  const withHist = tc.trials.filter((t) => t.frameSize === size && (t.result.latency?.histogram?.counts.length ?? 0) > 0);
  const passing = withHist.filter((t) => classifyTrial(t, lim) === 'pass');
  if (passing.length) return passing.reduce((a, b) => (b.rateFps > a.rateFps ? b : a));
  return withHist[withHist.length - 1];
}

export function latencyOf(t: TrialRecord): LatencyStats | undefined {
  return t.result.latency;
}

export interface TimelineEvent {
  readonly side: string;
  readonly event: string;
  readonly tMs: number;
  readonly detail: string;
}

export interface MigrationTimeline {
  readonly events: TimelineEvent[];
  readonly gaps: { startMs: number; endMs: number; lostFrames?: number }[];
  /** Received frames (and the largest latency, ms) per bin, bins of binMs starting at startMs. */
  readonly rx?: { binMs: number; frames: number[]; startMs?: number; maxLatencyMs?: number[] };
  readonly figures: Record<string, number>;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/**
 * Migration timelines from `details`: `details.migrations[]` (or a single `details.migration`), each
 * with `events[]` ({side, event, tMs | timeMs | qemuTsUs, data}), `gaps[]` ({startMs, endMs}) and
 * `rxTimeline` ({binMs, rxFrames | counts}). Absolute QEMU timestamps are made relative to the first.
 */
export function migrationTimelines(tc: TestcaseResult): MigrationTimeline[] {
  const d = obj(tc.details);
  if (!d) return [];
  let list: unknown[] = Array.isArray(d.migrations) ? d.migrations : d.migration !== undefined ? [d.migration] : [];
  // vnfs/migration shape: details.migration = {timelines: TimelineEntry[][], records: [{totalMs, downtimeMs,
  // stopResumeMs, dataplaneOutageMs…}]}: one timeline per migration, the outage placed at the source STOP
  // (the generator reports the longest gap's length, not where it started).
  const mig = obj(d.migration);
  if (mig && Array.isArray(mig.timelines)) {
    const records = Array.isArray(mig.records) ? mig.records.map(obj) : [];
    const receivers = Array.isArray(mig.receivers) ? mig.receivers.map(obj) : [];
    list = mig.timelines.map((events, i) => {
      const rec = records[i] ?? {};
      const rcv = receivers[i];
      // The receiver's clock gives the real silence and the 1 ms bins (ms since the migration start).
      if (rcv) {
        return {
          events,
          gaps: (Array.isArray(rcv.rxGaps) ? rcv.rxGaps : []).map((g) => ({
            ...obj(g),
            ...(num(rec.lostFrames) !== undefined ? { lostFrames: num(rec.lostFrames) } : {}),
          })),
          ...(rcv.rxTimeline ? { rxTimeline: rcv.rxTimeline } : {}),
          totalMs: num(rec.totalMs),
          downtimeMs: num(rec.downtimeMs),
          stopResumeMs: num(rec.stopResumeMs),
          outageMs: num(rec.dataplaneOutageMs),
          rxGapMs: num(rec.rxGapMs),
          maxLatencyMs: num(rec.migrationMaxLatencyMs),
          // How far the migration moved the guest clock against the host's (guest-clock verdict).
          guestClockStepMs: num(rec.guestClockStepMs),
        };
      }
      const stop = (Array.isArray(events) ? events : []).map(obj).find((e) => e?.event === 'STOP' && e.side !== 'dst');
      const outage = num(rec.dataplaneOutageMs);
      const stopMs = stop ? num(stop.tMs) : undefined;
      return {
        events,
        ...(outage !== undefined && stopMs !== undefined
          ? { gaps: [{ startMs: stopMs, endMs: stopMs + outage, ...(num(rec.lostFrames) !== undefined ? { lostFrames: num(rec.lostFrames) } : {}) }] }
          : {}),
        totalMs: num(rec.totalMs),
        downtimeMs: num(rec.downtimeMs),
        stopResumeMs: num(rec.stopResumeMs),
        outageMs: outage,
      };
    });
  }
  const out: MigrationTimeline[] = [];
  for (const m of list.map(obj)) {
    if (!m) continue;
    const rawEvents = (Array.isArray(m.events) ? m.events : []).map(obj).filter((e): e is Record<string, unknown> => !!e);
    const absUs = rawEvents.map((e) => num(e.qemuTsUs)).filter((x): x is number => x !== undefined);
    const baseUs = num(m.startQemuTsUs) ?? (absUs.length ? Math.min(...absUs) : 0);
    const events: TimelineEvent[] = [];
    for (const e of rawEvents) {
      const t = num(e.tMs) ?? num(e.timeMs) ?? (num(e.qemuTsUs) !== undefined ? (num(e.qemuTsUs)! - baseUs) / 1000 + (num(m.startMs) ?? 0) : undefined);
      if (t === undefined) continue;
      const data = obj(e.data);
      const detail = data
        ? Object.entries(data)
            .map(([k, v]) => `${k}=${String(v)}`)
            .join(' ')
        : '';
      events.push({ side: String(e.side ?? ''), event: String(e.event ?? e.name ?? '?'), tMs: t, detail });
    }
    events.sort((a, b) => a.tMs - b.tMs);
    const gaps = (Array.isArray(m.gaps) ? m.gaps : [])
      .map(obj)
      .filter((g): g is Record<string, unknown> => !!g)
      .map((g) => ({ startMs: num(g.startMs), endMs: num(g.endMs), lostFrames: num(g.lostFrames) }))
      .filter((g): g is { startMs: number; endMs: number; lostFrames: number | undefined } => g.startMs !== undefined && g.endMs !== undefined)
      .map((g) => (g.lostFrames !== undefined ? { startMs: g.startMs, endMs: g.endMs, lostFrames: g.lostFrames } : { startMs: g.startMs, endMs: g.endMs }));
    const rt = obj(m.rxTimeline);
    const frames = rt ? ((Array.isArray(rt.rxFrames) ? rt.rxFrames : Array.isArray(rt.counts) ? rt.counts : []) as unknown[]).map((x) => num(x) ?? 0) : [];
    const binMs = rt ? num(rt.binMs) : undefined;
    const latency = rt && Array.isArray(rt.maxLatencyMs) ? (rt.maxLatencyMs as unknown[]).map((x) => num(x) ?? 0) : undefined;
    const startMs = rt ? (num(rt.startMs) ?? 0) : 0;
    const figures: Record<string, number> = {};
    for (const [k, v] of Object.entries(m)) {
      const n = num(v);
      if (n !== undefined && typeof v === 'number') figures[k] = n;
    }
    out.push({ events, gaps, ...(binMs && frames.length ? { rx: { binMs, frames, startMs, ...(latency ? { maxLatencyMs: latency } : {}) } } : {}), figures });
  }
  return out.filter((m) => m.events.length || m.gaps.length || m.rx);
}
