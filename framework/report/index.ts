/** Write report.html and summary.md into a results directory (atomically: temp file + rename). */
import { join } from 'node:path';
import { writeFileAtomic } from '../results/json-writer.js';
import type { GateReport } from '../compare/gate.js';
import { loadResultsDir } from './results-dir.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';

export { loadResultsDir, ResultsFormatError } from './results-dir.js';
export { renderHtml } from './html.js';
export { renderMarkdown } from './markdown.js';
export { OutputError } from '../errors.js';
export { writeFileAtomic } from '../results/json-writer.js';

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
