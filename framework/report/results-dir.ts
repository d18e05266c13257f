/**
 * Reading a results directory (`results_<timestamp>/`): results.json is the one input of the report,
 * the regression gate, the archive and the exporters. A missing or malformed file is one clear error.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { UsageError, VsperfError } from '../errors.js';
import type { RunResults } from '../results/types.js';

/** results.json is missing, unreadable or not a vsperf-ts results document. */
export class ResultsFormatError extends VsperfError {
  readonly path: string;
  constructor(path: string, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super('E_RESULTS', `${path}: ${message}`, { ...opts, kind: 'usage' });
    this.path = path;
  }
}

export interface ResultsDir {
  /** Absolute path of the directory. */
  readonly dir: string;
  readonly results: RunResults;
  /** CSV files present (result_<i>_<testcase>_<deployment>.csv), sorted. */
  readonly csvFiles: string[];
}

export const RESULTS_SCHEMA = 'vsperf-ts/results/v1';

/** Load and sanity-check a results directory (or a results.json path). */
export function loadResultsDir(path: string): ResultsDir {
  const abs = resolve(path);
  let dir = abs;
  let file = join(abs, 'results.json');
  try {
    if (statSync(abs).isFile()) {
      file = abs;
      dir = resolve(abs, '..');
    }
  } catch (e) {
    throw new UsageError(`results directory ${path} does not exist`, { hint: 'pass a results_<timestamp>/ directory written by `vsperf`', cause: e });
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ResultsFormatError(file, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, {
      hint: 'a results directory holds results.json; was the run interrupted before it was written?',
      cause: e,
    });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ResultsFormatError(file, `not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  validate(file, doc);
  const csvFiles = readdirSync(dir)
    .filter((f) => /^result_\d+_.*\.csv$/.test(f))
    .sort((a, b) => Number(a.split('_')[1]) - Number(b.split('_')[1]) || a.localeCompare(b));
  return { dir, results: doc as RunResults, csvFiles };
}

function validate(file: string, doc: unknown): asserts doc is RunResults {
  const fail = (m: string): never => {
    throw new ResultsFormatError(file, m);
  };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) fail('top level must be an object');
  const d = doc as Record<string, unknown>;
  if (d.schema !== RESULTS_SCHEMA) fail(`schema is ${JSON.stringify(d.schema)}, expected "${RESULTS_SCHEMA}"`);
  if (typeof d.runId !== 'string' || !d.runId) fail('runId must be a non-empty string');
  if (typeof d.startTime !== 'string' || Number.isNaN(Date.parse(d.startTime))) fail('startTime must be an ISO time');
  if (!Array.isArray(d.testcases)) fail('testcases must be an array');
  (d.testcases as unknown[]).forEach((t, i) => {
    if (typeof t !== 'object' || t === null) fail(`testcases[${i}] must be an object`);
    const tc = t as Record<string, unknown>;
    if (typeof tc.name !== 'string') fail(`testcases[${i}].name must be a string`);
    if (!Array.isArray(tc.rows)) fail(`testcases[${i}].rows must be an array`);
    if (!Array.isArray(tc.trials)) fail(`testcases[${i}].trials must be an array`);
  });
}

/** A short label for a results dir (its folder name). */
export function resultsLabel(r: ResultsDir): string {
  return basename(r.dir);
}
