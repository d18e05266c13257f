/** Write report.html and summary.md into a results directory (atomically: temp file + rename). */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VsperfError } from '../errors.js';
import type { GateReport } from '../compare/gate.js';
import { loadResultsDir } from './results-dir.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';

export { loadResultsDir, ResultsFormatError } from './results-dir.js';
export { renderHtml } from './html.js';
export { renderMarkdown } from './markdown.js';

/** A report or export file could not be written (full disk, read-only directory…). */
export class OutputError extends VsperfError {
  readonly path: string;
  constructor(path: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException)?.code;
    super('E_OUTPUT', `cannot write ${path}: ${code ?? (cause as Error)?.message ?? String(cause)}`, {
      kind: 'environment',
      cause,
      ...(code === 'ENOSPC' ? { hint: 'the file system holding the results is full; free space or set RESULTS_PATH elsewhere' } : code === 'EACCES' || code === 'EROFS' ? { hint: 'the results directory is not writable' } : {}),
    });
    this.path = path;
  }
}

/** Write a file atomically; on failure nothing partial is left and OutputError names the file. */
export function writeFileAtomic(path: string, data: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new OutputError(path, e);
  }
}

export interface WrittenReport {
  readonly html: string;
  readonly markdown: string;
}

export function writeReport(resultsDir: string, opts: { gate?: GateReport; html?: boolean; markdown?: boolean } = {}): WrittenReport {
  const { dir, results } = loadResultsDir(resultsDir);
  const html = join(dir, 'report.html');
  const markdown = join(dir, 'summary.md');
  if (opts.html !== false) writeFileAtomic(html, renderHtml(results, opts.gate ? { gate: opts.gate } : {}));
  if (opts.markdown !== false) writeFileAtomic(markdown, renderMarkdown(results, { ...(opts.gate ? { gate: opts.gate } : {}), reportFile: 'report.html' }));
  return { html, markdown };
}
