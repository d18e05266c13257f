/**
 * `vsperf compare BASELINE RESULTS` and `vsperf compare --baseline last-good RESULTS`: the regression
 * gate. Prints a table of changes; exit 0 = no regression, 1 = regression (or failed/missing results),
 * 2 = usage/config error, 3 = environment (archive unreadable…).
 */
import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import { UsageError } from '../../errors.js';
import { loadResultsDir, resultsLabel } from '../../report/results-dir.js';
import { extractMetrics, type MetricSet } from '../../compare/metrics.js';
import { compareSets, parseThresholds, type GateOptions, type GateReport } from '../../compare/gate.js';
import { formatMarkdown, formatText } from '../../compare/format.js';
import { archivePath, gateOptions } from '../../compare/options.js';
import { addConfOptions, loadSettings, out, parseArgs } from './common.js';

interface Opts {
  baseline?: string;
  archive?: string;
  threshold: string[];
  noiseSigma?: string;
  all?: boolean;
  format: 'text' | 'markdown' | 'json';
  record: boolean;
  confFile: string[];
  loadEnv?: boolean;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function program(): Command {
  const p = new Command('compare')
    .description(
      'Regression gate: compare RESULTS against a baseline results directory or the last good archived run.\nExit codes: 0 no regression, 1 regression, 2 usage/config error, 3 environment error.',
    )
    .usage('[options] [BASELINE_DIR] RESULTS_DIR')
    .argument('<dirs...>', 'BASELINE_DIR RESULTS_DIR, or RESULTS_DIR alone with --baseline')
    .option('--baseline <dir|last-good|run:ID>', 'baseline: a results directory, the newest good run in the archive (last-good), or an archived run id')
    .option('--archive <path>', 'results archive (default: RESULTS_ARCHIVE under RESULTS_PATH)')
    .option('--threshold <metric=spec>', 'override a threshold: METRIC=PCT or METRIC=higher|lower:PCT[:ABS]; repeatable', collect, [])
    .option('--noise-sigma <n>', 'noise band in standard errors when repeats exist (COMPARE_NOISE_SIGMA)')
    .option('--all', 'list unchanged series too')
    .addOption(new Option('--format <fmt>', 'output format').choices(['text', 'markdown', 'json']).default('text'))
    .option('--no-record', 'do not record the verdict in the archive');
  return addConfOptions(p);
}

/** METRIC=PCT or METRIC=higher|lower:PCT[:ABS] */
function thresholdFlags(flags: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of flags) {
    const m = /^([A-Za-z0-9_]+)=(?:(higher|lower):)?([0-9.]+)(?::([0-9.]+))?$/.exec(f);
    if (!m) throw new UsageError(`--threshold ${f}: expected METRIC=PCT or METRIC=higher|lower:PCT[:ABS]`);
    out[m[1]!] = { ...(m[2] ? { better: m[2] } : {}), pct: Number(m[3]), ...(m[4] ? { abs: Number(m[4]) } : {}) };
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs(program(), argv);
  if (!p) return 0;
  const o = p.opts<Opts>();
  const dirs = p.args;
  let baselineSpec = o.baseline;
  let resultsPath: string;
  if (dirs.length === 2) {
    if (baselineSpec) throw new UsageError('give the baseline either as --baseline or as the first directory, not both');
    baselineSpec = dirs[0]!;
    resultsPath = dirs[1]!;
  } else if (dirs.length === 1) {
    if (!baselineSpec) throw new UsageError('missing baseline: vsperf compare BASELINE_DIR RESULTS_DIR, or --baseline last-good RESULTS_DIR');
    resultsPath = dirs[0]!;
  } else throw new UsageError(`expected at most two directories, got ${dirs.length}`);

  const settings = await loadSettings(o);
  let gate: GateOptions = gateOptions(settings);
  if (o.threshold.length) gate = { ...gate, thresholds: { ...gate.thresholds, ...parseThresholds(thresholdFlags(o.threshold) as never, '--threshold') } };
  if (o.noiseSigma !== undefined) {
    const n = Number(o.noiseSigma);
    if (!(n >= 0)) throw new UsageError(`--noise-sigma ${o.noiseSigma}: must be a number ≥ 0`);
    gate = { ...gate, noiseSigma: n };
  }
  const current = loadResultsDir(resultsPath);
  const currentSet = extractMetrics(current.results, resultsLabel(current));
  const archiveFile = archivePath(settings, o.archive);

  let baseline: MetricSet;
  if (baselineSpec === 'last-good' || baselineSpec.startsWith('run:')) {
    if (!archiveFile) throw new UsageError(`--baseline ${baselineSpec} needs the results archive`, { hint: 'set RESULTS_ARCHIVE or pass --archive' });
    if (!existsSync(archiveFile))
      throw new UsageError(`results archive ${archiveFile} does not exist`, {
        hint: 'runs are archived after each `vsperf` run; pass --archive PATH if it lives elsewhere',
      });
    const { ResultsArchive } = await import('../../archive/archive.js');
    const a = ResultsArchive.open(archiveFile);
    try {
      const found =
        baselineSpec === 'last-good'
          ? a.lastGood({
              excludeRunId: current.results.runId,
              before: current.results.startTime,
              simulated: currentSet.simulated,
              testcases: current.results.testcases.map((t) => t.name),
            })
          : a.metricSet(baselineSpec.slice(4));
      if (!found)
        throw new UsageError(
          baselineSpec === 'last-good'
            ? `no good run before ${current.results.startTime} in ${archiveFile} to compare with`
            : `run ${baselineSpec.slice(4)} is not in ${archiveFile}`,
          {
            hint: 'vsperf trend lists the archived runs',
          },
        );
      baseline = found;
    } finally {
      a.close();
    }
  } else {
    const b = loadResultsDir(baselineSpec);
    baseline = extractMetrics(b.results, resultsLabel(b));
  }

  const report: GateReport = compareSets(baseline, currentSet, gate);
  if (o.format === 'json') out(JSON.stringify(report, null, 2));
  else if (o.format === 'markdown') out(formatMarkdown(report));
  else out(formatText(report, { all: !!o.all }));

  if (o.record && archiveFile && existsSync(archiveFile)) {
    const { ResultsArchive } = await import('../../archive/archive.js');
    const a = ResultsArchive.open(archiveFile);
    try {
      a.setGate(current.results.runId, report.passed ? 'pass' : 'regression');
    } finally {
      a.close();
    }
  }
  return report.passed ? 0 : 1;
}
