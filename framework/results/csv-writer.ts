import { writeFileAtomic } from './json-writer.js';
import { stringify } from 'csv-stringify/sync';
import type { ResultRow } from '../methodology/types.js';
import { UNKNOWN, columnsFor } from './columns.js';

/** VSPERF's file name: result_<i>_<testcase>_<deployment>.csv. */
export function csvFileName(index: number, testcase: string, deployment: string): string {
  const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_');
  return `result_${index}_${safe(testcase)}_${safe(deployment)}.csv`;
}

export function toCsv(rows: readonly ResultRow[]): string {
  const columns = columnsFor(rows);
  return stringify(
    rows.map((r) => columns.map((c) => (r[c] === undefined || r[c] === '' ? UNKNOWN : String(r[c])))),
    { header: true, columns },
  );
}

export function writeCsv(path: string, rows: readonly ResultRow[]): void {
  writeFileAtomic(path, toCsv(rows));
}
