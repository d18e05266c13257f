/**
 * The local results archive: every run appended to one SQLite file (better-sqlite3 v12), so the gate
 * can find "the last good run" and the trend table can show a metric across nights.
 *
 * Tables: `runs` (one row per run, keyed by runId; appending the same run again replaces it) and
 * `samples` (one row per metric sample, see compare/metrics.ts). WAL mode and a busy timeout let a
 * report or trend reader run while a nightly job appends.
 */
import { makeDirectory } from '../host/paths.js';
import { dirname, resolve } from 'node:path';
import { VsperfError } from '../errors.js';
import type { RunResults } from '../results/types.js';
import { compareSeries, extractMetrics, seriesKey, mean, type MetricSample, type MetricSet, type TestcaseStatus } from '../compare/metrics.js';
import { openDatabase, type Db } from './sqlite.js';

export class ArchiveError extends VsperfError {
  readonly path: string;
  constructor(path: string, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super('E_ARCHIVE', `archive ${path}: ${message}`, { ...opts, kind: 'environment' });
    this.path = path;
  }
}

const SCHEMA_VERSION = 1;

const DDL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  pk INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL UNIQUE,
  label TEXT NOT NULL,
  results_dir TEXT NOT NULL,
  start_time TEXT NOT NULL,
  stop_time TEXT,
  status TEXT NOT NULL,
  gate TEXT,
  hostname TEXT,
  tool_version TEXT,
  simulated INTEGER NOT NULL,
  testcases_json TEXT NOT NULL,
  appended_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_start ON runs(start_time);
CREATE TABLE IF NOT EXISTS samples (
  run_pk INTEGER NOT NULL REFERENCES runs(pk) ON DELETE CASCADE,
  testcase TEXT NOT NULL,
  deployment TEXT NOT NULL,
  frame_size INTEGER NOT NULL,
  goal TEXT NOT NULL,
  metric TEXT NOT NULL,
  repeat INTEGER NOT NULL,
  value REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS samples_run ON samples(run_pk);
CREATE INDEX IF NOT EXISTS samples_series ON samples(testcase, metric);
`;

export interface ArchivedRun {
  readonly runId: string;
  readonly label: string;
  readonly resultsDir: string;
  readonly startTime: string;
  readonly status: string;
  readonly gate: string | null;
  readonly simulated: boolean;
  readonly samples: number;
}

export interface TrendPoint {
  readonly runId: string;
  readonly startTime: string;
  readonly value: number;
  readonly n: number;
}

export interface TrendSeries {
  readonly testcase: string;
  readonly deployment: string;
  readonly frameSize: number;
  readonly goal: string;
  readonly metric: string;
  readonly points: TrendPoint[];
}

interface RunRow {
  pk: number;
  run_id: string;
  label: string;
  results_dir: string;
  start_time: string;
  status: string;
  gate: string | null;
  simulated: number;
  testcases_json: string;
}

export class ResultsArchive {
  private constructor(
    readonly path: string,
    private readonly db: Db,
  ) {}

  /** Open (and create) an archive file. */
  static open(path: string, opts: { readonly?: boolean } = {}): ResultsArchive {
    const abs = resolve(path);
    let db: Db;
    try {
      if (!opts.readonly) makeDirectory('archive directory (RESULTS_ARCHIVE)', dirname(abs));
      db = openDatabase(abs, opts);
    } catch (e) {
      if (e instanceof VsperfError) throw e;
      throw new ArchiveError(abs, `cannot open: ${(e as Error).message}`, {
        ...(opts.readonly ? { hint: 'no run has been archived there yet (set RESULTS_ARCHIVE or pass --archive)' } : {}),
        cause: e,
      });
    }
    const a = new ResultsArchive(abs, db);
    try {
      if (!opts.readonly) {
        db.pragma('journal_mode = WAL');
        db.exec(DDL);
        const v = db.prepare<{ value: string }>('SELECT value FROM meta WHERE key = ?').get('schema_version');
        if (!v) db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION));
        else if (Number(v.value) > SCHEMA_VERSION)
          throw new ArchiveError(abs, `schema version ${v.value} is newer than this vsperf-ts understands (${SCHEMA_VERSION})`);
      }
      db.pragma('foreign_keys = ON');
    } catch (e) {
      db.close();
      if (e instanceof VsperfError) throw e;
      throw new ArchiveError(abs, (e as Error).message, { cause: e });
    }
    return a;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private wrap<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof VsperfError) throw e;
      const code = (e as { code?: string }).code;
      throw new ArchiveError(this.path, `${what} failed: ${(e as Error).message}`, {
        ...(code === 'SQLITE_FULL' ? { hint: 'the disk holding the archive is full' } : {}),
        cause: e,
      });
    }
  }

  /** Append a run (replacing an earlier copy of the same runId). Returns the number of samples stored. */
  append(results: RunResults, resultsDir: string, label?: string): number {
    const set = extractMetrics(results, label ?? results.runId);
    return this.wrap('append', () =>
      this.db.transaction(() => {
        this.db.prepare('DELETE FROM runs WHERE run_id = ?').run(results.runId);
        const info = this.db
          .prepare(
            `INSERT INTO runs (run_id, label, results_dir, start_time, stop_time, status, gate, hostname, tool_version, simulated, testcases_json, appended_at)
             VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)`,
          )
          .run(
            results.runId,
            set.label,
            resolve(resultsDir),
            results.startTime,
            results.stopTime ?? null,
            results.status,
            results.host?.hostname ?? null,
            results.tool?.version ?? null,
            set.simulated ? 1 : 0,
            JSON.stringify(set.testcases),
            new Date().toISOString(),
          );
        const pk = Number(info.lastInsertRowid);
        const ins = this.db.prepare(
          'INSERT INTO samples (run_pk, testcase, deployment, frame_size, goal, metric, repeat, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        );
        for (const s of set.samples) ins.run(pk, s.testcase, s.deployment, s.frameSize, s.goal, s.metric, s.repeat, s.value);
        return set.samples.length;
      })(),
    );
  }

  /** Record the gate's verdict on an archived run ('pass' | 'regression'); a regressed run is never "last good". */
  setGate(runId: string, verdict: 'pass' | 'regression'): boolean {
    return this.wrap('setGate', () => this.db.prepare('UPDATE runs SET gate = ? WHERE run_id = ?').run(verdict, runId).changes > 0);
  }

  runs(limit = 50): ArchivedRun[] {
    return this.wrap('list runs', () =>
      this.db
        .prepare<RunRow & { n: number }>(
          `SELECT r.*, (SELECT COUNT(*) FROM samples s WHERE s.run_pk = r.pk) AS n FROM runs r ORDER BY r.start_time DESC, r.pk DESC LIMIT ?`,
        )
        .all(limit)
        .map((r) => ({
          runId: r.run_id,
          label: r.label,
          resultsDir: r.results_dir,
          startTime: r.start_time,
          status: r.status,
          gate: r.gate,
          simulated: r.simulated === 1,
          samples: r.n,
        })),
    );
  }

  /** A run's metrics as a MetricSet (as if read from its results directory). */
  metricSet(runId: string): MetricSet | undefined {
    return this.wrap('read run', () => {
      const r = this.db.prepare<RunRow>('SELECT * FROM runs WHERE run_id = ?').get(runId);
      return r ? this.toSet(r) : undefined;
    });
  }

  private toSet(r: RunRow): MetricSet {
    const samples = this.db
      .prepare<{ testcase: string; deployment: string; frame_size: number; goal: string; metric: string; repeat: number; value: number }>(
        'SELECT testcase, deployment, frame_size, goal, metric, repeat, value FROM samples WHERE run_pk = ? ORDER BY rowid',
      )
      .all(r.pk)
      .map((s): MetricSample => ({
        testcase: s.testcase,
        deployment: s.deployment,
        frameSize: s.frame_size,
        goal: s.goal,
        metric: s.metric,
        repeat: s.repeat,
        value: s.value,
      }));
    return {
      runId: r.run_id,
      startTime: r.start_time,
      label: `${r.label} (archive)`,
      simulated: r.simulated === 1,
      status: r.status,
      testcases: JSON.parse(r.testcases_json) as TestcaseStatus[],
      samples,
    };
  }

  /**
   * The newest good run before `before` (ISO time; default: any): status passed, not marked as a
   * regression by the gate, not `excludeRunId`, same simulated/measured kind when `simulated` is given,
   * and sharing at least one testcase with `testcases` when given.
   */
  lastGood(opts: { excludeRunId?: string; simulated?: boolean; testcases?: readonly string[]; before?: string } = {}): MetricSet | undefined {
    return this.wrap('find last good run', () => {
      const rows = this.db
        .prepare<RunRow>(
          `SELECT * FROM runs WHERE status = 'passed' AND (gate IS NULL OR gate <> 'regression') AND run_id <> ?
             AND (? IS NULL OR simulated = ?) AND (? IS NULL OR start_time < ?)
           ORDER BY start_time DESC, pk DESC`,
        )
        .all(opts.excludeRunId ?? '', opts.simulated === undefined ? null : 1, opts.simulated ? 1 : 0, opts.before ?? null, opts.before ?? null);
      for (const r of rows) {
        if (opts.testcases?.length) {
          const names = new Set((JSON.parse(r.testcases_json) as TestcaseStatus[]).map((t) => t.name));
          if (!opts.testcases.some((t) => names.has(t))) continue;
        }
        return this.toSet(r);
      }
      return undefined;
    });
  }

  /** Per series, the mean value of each of the last `lastRuns` runs that have it (oldest first). */
  trend(opts: { testcase?: string; metric?: string; lastRuns?: number } = {}): TrendSeries[] {
    return this.wrap('trend', () => {
      const runs = this.db
        .prepare<{ pk: number; run_id: string; start_time: string }>('SELECT pk, run_id, start_time FROM runs ORDER BY start_time DESC, pk DESC LIMIT ?')
        .all(opts.lastRuns ?? 30)
        .reverse();
      if (!runs.length) return [];
      const rows = this.db
        .prepare<{ run_pk: number; testcase: string; deployment: string; frame_size: number; goal: string; metric: string; value: number }>(
          `SELECT run_pk, testcase, deployment, frame_size, goal, metric, value FROM samples
           WHERE run_pk IN (${runs.map(() => '?').join(',')}) AND (? IS NULL OR testcase = ?) AND (? IS NULL OR metric = ?)`,
        )
        .all(...runs.map((r) => r.pk), opts.testcase ?? null, opts.testcase ?? null, opts.metric ?? null, opts.metric ?? null);
      const series = new Map<string, { s: Omit<TrendSeries, 'points'>; perRun: Map<number, number[]> }>();
      for (const r of rows) {
        const ident = { testcase: r.testcase, deployment: r.deployment, frameSize: r.frame_size, goal: r.goal, metric: r.metric };
        const key = seriesKey(ident);
        let e = series.get(key);
        if (!e) series.set(key, (e = { s: ident, perRun: new Map() }));
        const list = e.perRun.get(r.run_pk) ?? [];
        list.push(r.value);
        e.perRun.set(r.run_pk, list);
      }
      const out: TrendSeries[] = [];
      for (const { s, perRun } of series.values()) {
        const points: TrendPoint[] = [];
        for (const run of runs) {
          const v = perRun.get(run.pk);
          if (v) points.push({ runId: run.run_id, startTime: run.start_time, value: mean(v), n: v.length });
        }
        out.push({ ...s, points });
      }
      out.sort(compareSeries);
      return out;
    });
  }
}
