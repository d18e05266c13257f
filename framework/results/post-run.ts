/**
 * After every run (called by the runner): the regression gate against the last good archived run,
 * report.html + summary.md, the archive append, and the InfluxDB export, each as configured in
 * conf/05_reporting.json. Every step is tried even when an earlier one fails; failures are logged and
 * then thrown together as one PostRunError (results.json and the CSV files are never touched here).
 */
import { dirname, isAbsolute, join } from 'node:path';
import { VsperfError, errorMessage } from '../errors.js';
import type { Json, Settings } from '../config/settings.js';
import type { Logger } from '../log/logger.js';
import { loadResultsDir, resultsLabel } from '../report/results-dir.js';
import { writeReport } from '../report/index.js';
import { extractMetrics } from '../compare/metrics.js';
import { compareSets, type GateReport } from '../compare/gate.js';
import { archivePath, gateOptions } from '../compare/options.js';

export class PostRunError extends VsperfError {
  readonly failures: readonly { step: string; error: unknown }[];
  constructor(failures: readonly { step: string; error: unknown }[]) {
    super('E_POSTRUN', `after the run: ${failures.map((f) => `${f.step}: ${errorMessage(f.error)}`).join('; ')}`, {
      kind: 'environment',
      hint: 'results.json and the CSV files were written; re-run `vsperf report DIR` once the cause is fixed',
      cause: failures[0]?.error,
    });
    this.failures = failures;
  }
}

export async function afterRun(resultsDir: string, settings: Settings, log: Logger): Promise<void> {
  const failures: { step: string; error: unknown }[] = [];
  const step = async (name: string, fn: () => Promise<void> | void): Promise<void> => {
    try {
      await fn();
    } catch (e) {
      log.error(`${name} failed: ${errorMessage(e)}`);
      failures.push({ step: name, error: e });
    }
  };
  const loaded = loadResultsDir(resultsDir);
  const { results } = loaded;
  const metrics = extractMetrics(results, resultsLabel(loaded));
  // Next to the run's results, also when the run was given its directory rather than RESULTS_PATH.
  const archiveFile = archivePath(settings, undefined, dirname(resultsDir));
  let gate: GateReport | undefined;

  if (archiveFile) {
    await step('archive', async () => {
      const { ResultsArchive } = await import('../archive/archive.js');
      const a = ResultsArchive.open(archiveFile);
      try {
        if (settings.getOr<Json>('REPORT_GATE_LAST_GOOD', true) === true && results.status !== 'aborted') {
          const base = a.lastGood({
            excludeRunId: results.runId,
            before: results.startTime,
            simulated: metrics.simulated,
            testcases: results.testcases.map((t) => t.name),
          });
          if (base) {
            gate = compareSets(base, metrics, gateOptions(settings));
            log.info(`regression gate vs ${base.runId}: ${gate.passed ? 'pass' : `${gate.regressions} regression(s)`}`);
          } else log.info('regression gate: no good archived run to compare with yet');
        }
        const n = a.append(results, loaded.dir, resultsLabel(loaded));
        if (gate) a.setGate(results.runId, gate.passed ? 'pass' : 'regression');
        log.info(`archived ${n} figures of run ${results.runId} in ${a.path}`);
      } finally {
        a.close();
      }
    });
  }

  const html = settings.getOr<Json>('REPORT_HTML', true) !== false;
  const markdown = settings.getOr<Json>('REPORT_MARKDOWN', true) !== false;
  if (html || markdown) {
    await step('report', () => {
      const w = writeReport(loaded.dir, { ...(gate ? { gate } : {}), html, markdown });
      log.info(`report: ${html ? w.html : ''}${html && markdown ? ', ' : ''}${markdown ? w.markdown : ''}`);
    });
  }

  const url = String(settings.getOr('INFLUXDB_URL', ''));
  const fileSetting = String(settings.getOr('INFLUXDB_FILE', ''));
  if (url || fileSetting) {
    await step('influxdb export', async () => {
      const { exportRun } = await import('../export/influx.js');
      const file = fileSetting ? (isAbsolute(fileSetting) ? fileSetting : join(loaded.dir, fileSetting)) : undefined;
      const user = String(settings.getOr('INFLUXDB_USER', ''));
      const r = await exportRun(results, {
        prefix: String(settings.getOr('INFLUXDB_MEASUREMENT_PREFIX', 'vsperf')),
        trials: settings.getOr<Json>('INFLUXDB_TRIALS', true) !== false,
        ...(file ? { file } : {}),
        ...(url
          ? {
              target: {
                url,
                db: String(settings.getOr('INFLUXDB_DB', 'vsperf')),
                ...(user ? { user, password: String(settings.getOr('INFLUXDB_PASSWORD', '')) } : {}),
                timeoutMs: Number(settings.getOr('INFLUXDB_TIMEOUT_S', 10)) * 1000,
              },
            }
          : {}),
      });
      log.info(`influxdb: ${r.lines} points${r.file ? ` → ${r.file}` : ''}${r.url ? ` → ${r.url}` : ''}`);
    });
  }
  if (failures.length) throw new PostRunError(failures);
}
