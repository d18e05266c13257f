/** Human output of a gate report: a fixed-width text table, Markdown, or JSON. */
import type { Change, GateReport, Verdict } from './gate.js';

export function fmtNum(x: number | undefined): string {
  if (x === undefined || Number.isNaN(x)) return '-';
  if (!Number.isFinite(x)) return x > 0 ? '+inf' : '-inf';
  const a = Math.abs(x);
  if (a >= 1e9) return `${(x / 1e9).toFixed(3)}G`;
  if (a >= 1e6) return `${(x / 1e6).toFixed(3)}M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(2)}k`;
  if (a >= 100) return x.toFixed(1);
  if (a >= 1) return x.toFixed(3);
  if (a === 0) return '0';
  return x.toPrecision(3);
}

function fmtStat(s: { mean: number; stdev: number; n: number } | undefined): string {
  if (!s) return '-';
  return s.n > 1 ? `${fmtNum(s.mean)}±${fmtNum(s.stdev)} (n=${s.n})` : fmtNum(s.mean);
}

function fmtPct(p: number | undefined): string {
  if (p === undefined) return '-';
  if (!Number.isFinite(p)) return p > 0 ? '+inf%' : '-inf%';
  return `${p >= 0 ? '+' : ''}${p.toFixed(2)}%`;
}

const MARK: Record<Verdict, string> = {
  regression: 'REGRESSION',
  failed: 'FAILED',
  missing: 'MISSING',
  improved: 'improved',
  ok: 'ok',
  'within-noise': 'within noise',
  new: 'new',
  'not-run': 'not run',
};

function cells(c: Change): string[] {
  return [
    c.testcase,
    c.frameSize ? String(c.frameSize) : '-',
    c.goal || '-',
    c.metric,
    fmtStat(c.baseline),
    fmtStat(c.current),
    fmtPct(c.changePct),
    c.limitAbs !== undefined ? `±${fmtNum(c.limitAbs)}` : '-',
    MARK[c.verdict] + (c.note && c.verdict !== 'ok' ? ` (${c.note})` : ''),
  ];
}

const HEAD = ['testcase', 'size', 'goal', 'metric', 'baseline', 'current', 'change', 'allowed', 'verdict'];

export function formatText(r: GateReport, opts: { all?: boolean } = {}): string {
  const rows = r.changes.filter((c) => opts.all || c.verdict !== 'ok').map(cells);
  const lines: string[] = [];
  lines.push(`baseline: ${r.baseline.label} (${r.baseline.runId}, ${r.baseline.startTime})`);
  lines.push(`results:  ${r.current.label} (${r.current.runId}, ${r.current.startTime})`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  if (rows.length) {
    const all = [HEAD, ...rows];
    const w = HEAD.map((_, i) => Math.max(...all.map((x) => x[i]!.length)));
    const line = (x: string[]): string => x.map((v, i) => (i === x.length - 1 ? v : v.padEnd(w[i]!))).join('  ');
    lines.push(line(HEAD), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line));
  }
  const unchanged = r.changes.filter((c) => c.verdict === 'ok').length;
  lines.push(
    `${r.changes.length} series compared: ${r.regressions} regression(s), ${r.improvements} improvement(s), ${unchanged} unchanged${opts.all ? '' : ' (not listed; --all lists them)'}`,
  );
  lines.push(r.passed ? 'PASS: no regression' : 'FAIL: regression against the baseline');
  return lines.join('\n');
}

export function formatMarkdown(r: GateReport): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const lines = [
    `**Baseline** ${esc(r.baseline.label)} (${r.baseline.startTime}) → **results** ${esc(r.current.label)} (${r.current.startTime}): ${r.passed ? '✅ pass' : `❌ ${r.regressions} regression(s)`}`,
    '',
    ...r.warnings.map((w) => `> ⚠ ${esc(w)}`),
    `| ${HEAD.join(' | ')} |`,
    `|${HEAD.map(() => '---').join('|')}|`,
    ...r.changes.map((c) => `| ${cells(c).map(esc).join(' | ')} |`),
  ];
  return lines.join('\n') + '\n';
}
