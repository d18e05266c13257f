/** summary.md: the run at a glance, for CI job summaries and chat messages. */
import type { RunResults, TestcaseResult } from '../results/types.js';
import { columnsFor } from '../results/columns.js';
import { formatMarkdown } from '../compare/format.js';
import type { GateReport } from '../compare/gate.js';
import { keyFigure } from './html.js';

const SUMMARY_COLS = [
  'packet_size',
  'goal',
  'throughput_rx_fps',
  'throughput_rx_percent',
  'frame_loss_percent',
  'avg_latency_ns',
  'p99_latency_ns',
  'max_latency_ns',
  'b2b_frames',
  'lower_bound_fps',
  'migration_total_ms',
  'migration_downtime_ms',
  'migration_stop_resume_ms',
  'dataplane_outage_ms',
  'migration_pass',
  'trials',
  'search_status',
];

const esc = (s: unknown): string => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');

function fmt(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(+v.toPrecision(6));
  return esc(v);
}

function rowsTable(tc: TestcaseResult): string {
  const cols = columnsFor(tc.rows).filter((c) => SUMMARY_COLS.includes(c));
  if (!tc.rows.length || !cols.length) return '';
  return (
    [`| ${cols.join(' | ')} |`, `|${cols.map(() => '---:').join('|')}|`, ...tc.rows.map((r) => `| ${cols.map((c) => fmt(r[c])).join(' | ')} |`)].join('\n') +
    '\n'
  );
}

export function renderMarkdown(results: RunResults, opts: { gate?: GateReport; reportFile?: string } = {}): string {
  const icon = (s: string): string => (s === 'passed' ? '✅' : s === 'failed' ? '❌' : '⚠️');
  const lines: string[] = [];
  lines.push(`# vsperf-ts run ${results.runId}: ${icon(results.status)} ${results.status}`, '');
  lines.push(
    `${results.startTime} → ${results.stopTime ?? '…'} on ${results.host?.hostname ?? '?'} (${results.host?.cpus ?? '?'} CPUs, kernel ${results.host?.kernel ?? '?'})`,
  );
  if (results.testcases.some((t) => t.simulated)) lines.push('', '> **Simulated**: some figures were computed by the Simulated generator, not measured.');
  if (opts.reportFile) lines.push('', `Full report with plots: \`${opts.reportFile}\``);
  lines.push('', '| # | testcase | deployment | status | wall (s) | result |', '|---:|---|---|---|---:|---|');
  for (const tc of results.testcases)
    lines.push(`| ${tc.index} | ${esc(tc.name)} | ${esc(tc.deployment)} | ${icon(tc.status)} ${tc.status} | ${fmt(tc.wallS)} | ${esc(keyFigure(tc))} |`);
  if (opts.gate) lines.push('', '## Regression gate', '', formatMarkdown(opts.gate));
  for (const tc of results.testcases) {
    const t = rowsTable(tc);
    if (!t && !tc.error) continue;
    lines.push('', `## ${tc.index}. ${tc.name} (${tc.deployment}, ${tc.trafficType})`, '');
    if (tc.error) lines.push(`**${tc.error.code}**: ${esc(tc.error.message)}`, '');
    if (t) lines.push(t);
  }
  return lines.join('\n') + '\n';
}
