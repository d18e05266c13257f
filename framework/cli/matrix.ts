/**
 * VSPERF's --matrix: one row per testcase of the run with MATRIX_METRIC (from its first result row)
 * and its change in percent against the first testcase, as a grid table on stdout and an RST table
 * in result_performance_matrix.rst. Pure formatting; the caller writes.
 */
import type { Json } from '../config/settings.js';

export interface MatrixEntry {
  readonly name: string;
  /** The metric of the testcase's first result row, undefined when it failed or has none. */
  readonly value: number | undefined;
  readonly params: string;
}

export interface MatrixTable {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

export function matrixTable(metric: string, entries: readonly MatrixEntry[], cumulative: Json): MatrixTable | undefined {
  const base = entries[0]?.value;
  if (base === undefined || base === 0) return undefined;
  const header = ['ID', 'Name', metric, 'Change [%]', `Parameters, CUMULATIVE_PARAMS = ${cumulative === true ? 'True' : 'False'}`];
  const rows = entries.map((e, i) =>
    e.value === undefined
      ? [String(i), e.name, 'Test Failed', '0.000', e.params]
      : [String(i), e.name, e.value.toFixed(3), (e.value / (base / 100) - 100).toFixed(3), e.params],
  );
  return { header, rows };
}

function widths(t: MatrixTable): number[] {
  return t.header.map((h, c) => Math.max(h.length, ...t.rows.map((r) => r[c]!.length)));
}

const numeric = (s: string): boolean => /^-?\d+(\.\d+)?$/.test(s);

function cell(s: string, w: number): string {
  return numeric(s) ? s.padStart(w) : s.padEnd(w);
}

/** tabulate's "grid" format. */
export function gridTable(t: MatrixTable): string {
  const w = widths(t);
  const line = (ch: string): string => `+${w.map((n) => ch.repeat(n + 2)).join('+')}+`;
  const row = (r: readonly string[]): string => `| ${r.map((x, i) => cell(x, w[i]!)).join(' | ')} |`;
  return [line('-'), row(t.header), line('='), ...t.rows.flatMap((r) => [row(r), line('-')])].join('\n');
}

/** tabulate's "rst" format. */
export function rstTable(t: MatrixTable): string {
  const w = widths(t);
  const rule = w.map((n) => '='.repeat(n)).join('  ');
  const row = (r: readonly string[]): string =>
    r
      .map((x, i) => cell(x, w[i]!))
      .join('  ')
      .trimEnd();
  return [rule, row(t.header), rule, ...t.rows.map(row), rule].join('\n');
}

export function matrixRst(metric: string, t: MatrixTable): string {
  return `Performance Matrix\n------------------\n\nThe following performance matrix was generated with the results of all the\ncurrently run tests. The metric used for comparison is ${metric}.\n\n${rstTable(t)}\n\n`;
}
