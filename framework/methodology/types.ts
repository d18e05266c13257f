/**
 * Methodology = pure search logic over single trials. A search is a state machine: the runner asks
 * `next()` for a trial, measures it, and hands the outcome to `record()`. No timers, no I/O inside, so
 * every search is unit-tested against a simulated DUT and behaves the same on every generator.
 */
import type { TrialResult } from '../../trafficgen/types.js';

export interface TrialRequest {
  /** Offered rate per direction (fps). */
  readonly rateFps: number;
  /** Trial length (s); or `frames` for fixed-count trials (bursts). */
  readonly durationS?: number;
  readonly frames?: number;
  /** Why this trial was chosen (for the trial log): 'initial', 'bisect', 'verify', 'goal NDR'… */
  readonly purpose?: string;
}

export interface TrialOutcome {
  readonly request: TrialRequest;
  readonly result: TrialResult;
  /** False when the trial says nothing about the DUT (generator-limited, aborted…). */
  readonly valid: boolean;
  readonly invalidReason?: string;
}

export interface SearchDone<R = unknown> {
  readonly done: true;
  readonly result: R;
}

export interface Search<R = unknown> {
  next(): TrialRequest | SearchDone<R>;
  record(request: TrialRequest, outcome: TrialOutcome): void;
}

export function isDone<R>(x: TrialRequest | SearchDone<R>): x is SearchDone<R> {
  return (x as SearchDone<R>).done === true;
}

/** One CSV/JSON result row with VSPERF column names (see framework/results/columns.ts). */
export type ResultRow = Record<string, string | number | boolean>;
