/** `vsperf report DIR`: (re)write report.html and summary.md of a results directory. */
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { loadResultsDir } from '../../report/results-dir.js';
import { writeReport } from '../../report/index.js';
import { extractMetrics } from '../../compare/metrics.js';
import { compareSets, type GateReport } from '../../compare/gate.js';
import { archivePath, gateOptions } from '../../compare/options.js';
import { addConfOptions, loadSettings, out, parseArgs } from './common.js';

interface Opts {
  gate?: boolean;
  archive?: string;
  html: boolean;
  markdown: boolean;
  confFile: string[];
  loadEnv?: boolean;
}

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs(
    addConfOptions(
      new Command('report')
        .description('Write report.html (self-contained, SVG plots) and summary.md into a results directory')
        .argument('<dir>', 'results_<timestamp>/ directory')
        .option('--gate', 'include the regression gate against the last good archived run')
        .option('--archive <path>', 'results archive for --gate (default: RESULTS_ARCHIVE)')
        .option('--no-html', 'skip report.html')
        .option('--no-markdown', 'skip summary.md'),
    ),
    argv,
  );
  if (!p) return 0;
  const o = p.opts<Opts>();
  const dir = p.args[0]!;
  let gate: GateReport | undefined;
  if (o.gate) {
    const settings = await loadSettings(o);
    const file = archivePath(settings, o.archive);
    if (file && existsSync(file)) {
      const cur = loadResultsDir(dir);
      const set = extractMetrics(cur.results);
      const { ResultsArchive } = await import('../../archive/archive.js');
      const a = ResultsArchive.open(file);
      try {
        const base = a.lastGood({
          excludeRunId: cur.results.runId,
          before: cur.results.startTime,
          simulated: set.simulated,
          testcases: cur.results.testcases.map((t) => t.name),
        });
        if (base) gate = compareSets(base, set, gateOptions(settings));
        else out('report: no good archived run to compare with; writing the report without a gate');
      } finally {
        a.close();
      }
    } else out(`report: no archive ${file ?? '(RESULTS_ARCHIVE is empty)'}; writing the report without a gate`);
  }
  const w = writeReport(dir, { ...(gate ? { gate } : {}), html: o.html, markdown: o.markdown });
  if (o.html) out(w.html);
  if (o.markdown) out(w.markdown);
  return 0;
}
