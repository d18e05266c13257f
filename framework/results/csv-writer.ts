import { writeFileAtomic } from './json-writer.js';
import { stringify } from 'csv-stringify/sync';
import type { ResultRow } from '../methodology/types.js';
import { UNKNOWN, columnsFor } from './columns.js';

/** VSPERF's file name: result_<i>_<testcase>_<deployment>.csv. */
export function csvFileName(index: number, testcase: string, deployment: string): string {
  const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');
  return `result_${index}_${safe(testcase)}_${safe(deployment)}.csv`;
}

/** CSV_FORMAT: "vsperf" writes times as VSPERF does; "iso" keeps ISO 8601 UTC and seconds. */
export type CsvFormat = 'vsperf' | 'iso';

const pad = (n: number): string => String(n).padStart(2, '0');

/** VSPERF: time.strftime("%H:%M:%S", time.gmtime(seconds)) — whole seconds, the day wraps. */
export function vsperfDuration(seconds: number): string {
  const s = Math.floor(seconds) % 86400;
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/** VSPERF: datetime.fromtimestamp(t).strftime('%Y-%m-%d %H:%M:%S') — the host's local time. */
export function vsperfLocalTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function cell(column: string, v: unknown, format: CsvFormat): string {
  if (v === undefined || v === '') return UNKNOWN;
  if (format === 'vsperf') {
    if (column === 'test_execution_time' && typeof v === 'number') return vsperfDuration(v);
    if ((column === 'start_time' || column === 'stop_time') && typeof v === 'string') return vsperfLocalTime(v);
  }
  return String(v);
}

export function toCsv(rows: readonly ResultRow[], format: CsvFormat = 'vsperf'): string {
  const columns = columnsFor(rows);
  return stringify(
    rows.map((r) => columns.map((c) => cell(c, r[c], format))),
    { header: true, columns },
  );
}

export function writeCsv(path: string, rows: readonly ResultRow[], format: CsvFormat = 'vsperf'): void {
  writeFileAtomic(path, toCsv(rows, format));
}
