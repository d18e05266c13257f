/** Gate options and archive location from resolved settings (conf/05_reporting.json keys). */
import { isAbsolute, join } from 'node:path';
import { ConfigError } from '../errors.js';
import type { Settings } from '../config/settings.js';
import { DEFAULT_GATE, parseThresholds, type GateOptions } from './gate.js';

export function gateOptions(s: Settings): GateOptions {
  const thresholds = s.has('COMPARE_THRESHOLDS') ? parseThresholds(s.get('COMPARE_THRESHOLDS'), s.source('COMPARE_THRESHOLDS')) : DEFAULT_GATE.thresholds;
  const noiseSigma = s.has('COMPARE_NOISE_SIGMA') ? s.number('COMPARE_NOISE_SIGMA') : DEFAULT_GATE.noiseSigma;
  if (noiseSigma < 0) throw new ConfigError('COMPARE_NOISE_SIGMA', s.source('COMPARE_NOISE_SIGMA'), 'must be ≥ 0');
  const failOnMissing = s.has('COMPARE_FAIL_ON_MISSING') ? s.boolean('COMPARE_FAIL_ON_MISSING') : DEFAULT_GATE.failOnMissing;
  return { thresholds, noiseSigma, failOnMissing };
}

/**
 * The archive file, or undefined when RESULTS_ARCHIVE is empty. Relative paths live under the results
 * root: `root` when the caller knows it (a run given its results directory through the API), else
 * RESULTS_PATH.
 */
export function archivePath(s: Settings, override?: string, root?: string): string | undefined {
  const p = override ?? (s.getOr('RESULTS_ARCHIVE', '') as string);
  if (typeof p !== 'string') throw new ConfigError('RESULTS_ARCHIVE', s.source('RESULTS_ARCHIVE'), 'must be a string');
  if (!p) return undefined;
  if (override !== undefined || isAbsolute(p)) return p;
  return join(root ?? String(s.getOr('RESULTS_PATH', '.')), p);
}
