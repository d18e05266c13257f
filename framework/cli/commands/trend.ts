/** `vsperf trend [TESTCASE]`: a metric across archived runs, per testcase / frame size / goal. */
import { stringify } from 'csv-stringify/sync';
import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { UsageError } from '../../errors.js';
import { fmtNum } from '../../compare/format.js';
import { archivePath, gateOptions } from '../../compare/options.js';
import type { TrendSeries } from '../../archive/archive.js';
import { addConfOptions, loadSettings, out, parseArgs } from './common.js';

interface Opts {
  metric?: string;
  last: string;
  archive?: string;
  all?: boolean;
  runs?: boolean;
  format: 'text' | 'json' | 'csv';
  confFile: string[];
  loadEnv?: boolean;
}

const BARS = '▁▂▃▄▅▆▇█';

export function sparkline(values: readonly number[]): string {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return values.map((v) => BARS[hi === lo ? 3 : Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1))]).join('');
}

function table(head: string[], rows: string[][]): string {
  const all = [head, ...rows];
  const w = head.map((_, i) => Math.max(...all.map((r) => [...(r[i] ?? '')].length)));
  const line = (r: string[]): string =>
    r
      .map((v, i) => v + ' '.repeat(w[i]! - [...v].length))
      .join('  ')
      .trimEnd();
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs(
    addConfOptions(
      new Command('trend')
        .description('Trend table from the results archive: each metric across the last runs, per testcase, frame size and goal')
        .argument('[testcase]', 'only this testcase')
        .option('--metric <name>', 'only this result column (default: the gated metrics of COMPARE_THRESHOLDS)')
        .option('--all', 'every archived metric, not only the gated ones')
        .option('--last <n>', 'number of most recent runs', '30')
        .option('--runs', 'list the archived runs instead')
        .option('--archive <path>', 'results archive (default: RESULTS_ARCHIVE under RESULTS_PATH)')
        .addOption(new Option('--format <fmt>', 'output format').choices(['text', 'json', 'csv']).default('text')),
    ),
    argv,
  );
  if (!p) return 0;
  const o = p.opts<Opts>();
  const last = Number(o.last);
  if (!Number.isInteger(last) || last < 1) throw new UsageError(`--last ${o.last}: must be a positive integer`);
  const settings = await loadSettings(o);
  const file = archivePath(settings, o.archive);
  if (!file) throw new UsageError('no results archive configured', { hint: 'set RESULTS_ARCHIVE or pass --archive' });
  if (!existsSync(file))
    throw new UsageError(`results archive ${file} does not exist`, {
      hint: 'runs are archived after each `vsperf` run; pass --archive PATH if it lives elsewhere',
    });
  const { ResultsArchive } = await import('../../archive/archive.js');
  const a = ResultsArchive.open(file, { readonly: true });
  try {
    if (o.runs) {
      const runs = a.runs(last);
      if (o.format === 'json') out(JSON.stringify(runs, null, 2));
      else
        out(
          table(
            ['start', 'run', 'status', 'gate', 'samples', 'results'],
            runs.map((r) => [r.startTime, r.runId, r.status + (r.simulated ? ' (sim)' : ''), r.gate ?? '-', String(r.samples), r.resultsDir]),
          ),
        );
      return 0;
    }
    const testcase = p.args[0];
    let series: TrendSeries[] = a.trend({ ...(testcase ? { testcase } : {}), ...(o.metric ? { metric: o.metric } : {}), lastRuns: last });
    if (!o.metric && !o.all) {
      const gated = new Set(Object.keys(gateOptions(settings).thresholds));
      series = series.filter((s) => gated.has(s.metric));
    }
    if (!series.length) {
      out(`no archived figures${testcase ? ` for ${testcase}` : ''}${o.metric ? ` of ${o.metric}` : ''} in ${file}`);
      return testcase || o.metric ? 1 : 0;
    }
    if (o.format === 'json') {
      out(JSON.stringify(series, null, 2));
      return 0;
    }
    if (o.format === 'csv') {
      // csv-stringify quotes a field holding a comma or quote (a testcase name may).
      const rows = series.flatMap((s) =>
        s.points.map((pt) => [s.testcase, s.deployment, s.frameSize, s.goal, s.metric, pt.runId, pt.startTime, pt.value, pt.n]),
      );
      out(
        stringify(rows, { header: true, columns: ['testcase', 'deployment', 'packet_size', 'goal', 'metric', 'run_id', 'start_time', 'value', 'n'] }).trimEnd(),
      );
      return 0;
    }
    const rows = series.map((s) => {
      const v = s.points.map((pt) => pt.value);
      const first = v[0]!;
      const lastV = v[v.length - 1]!;
      const change = first !== 0 ? `${(((lastV - first) / Math.abs(first)) * 100).toFixed(1)}%` : '-';
      return [
        s.testcase,
        s.frameSize ? String(s.frameSize) : '-',
        s.goal || '-',
        s.metric,
        String(v.length),
        fmtNum(first),
        fmtNum(lastV),
        fmtNum(Math.min(...v)),
        fmtNum(Math.max(...v)),
        change,
        sparkline(v),
      ];
    });
    out(table(['testcase', 'size', 'goal', 'metric', 'runs', 'first', 'last', 'min', 'max', 'first→last', 'trend'], rows));
    return 0;
  } finally {
    a.close();
  }
}
