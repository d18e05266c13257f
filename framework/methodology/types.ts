/**
 * Methodology = pure search logic over single trials. A search is a state machine: the runner asks
 * `next()` for a trial, measures it, and hands the outcome to `record()`. No timers, no I/O inside, so
 * every search is unit-tested against a simulated DUT and behaves the same on every generator.
 */
import type { TrialResult } from '../api/trafficgen.js';

export interface TrialRequest {
  /** Offered rate per direction (fps). */
  readonly rateFps: number;
  /** The rate the testcase asked for when the generator's maximum capped it to rateFps (fps). */
  readonly requestedFps?: number;
  /** Trial length (s); or `frames` for fixed-count trials (bursts). */
  readonly durationS?: number;
  /** Fixed frame count per direction (bursts, back-to-back, RFC 2889 learning/test frames). */
  readonly frames?: number;
  /** Why this trial was chosen (for the trial log): 'initial', 'bisect', 'verify', 'refine-lo'… */
  readonly purpose?: string;
  /** The search goal (or goals) that nominated the trial, e.g. 'NDR'. */
  readonly goal?: string;
  /** Flow count override for this trial (RFC 2889: one flow per MAC address). Default: TRAFFIC.multistream. */
  readonly multistream?: number;
  /** Which header field varies between flows for this trial. Default: TRAFFIC.stream_type. */
  readonly streamType?: 'L2' | 'L3' | 'L4';
  /** Base MAC addresses for this trial (RFC 2889: a fresh address set per probe). Default: TRAFFIC.l2. */
  readonly l2?: { readonly srcMac: string; readonly dstMac: string };
  /** Learning phase before the counted traffic (s), passed as TrialSpec.learningS. */
  readonly learningS?: number;
  /** Measure latency in this trial (default: true when the generator can). */
  readonly latency?: boolean;
}

export interface TrialOutcome {
  readonly request: TrialRequest;
  readonly result: TrialResult;
  /** False when the trial says nothing about the DUT (generator-limited, nothing sent…). */
  readonly valid: boolean;
  readonly invalidReason?: string;
  /**
   * Set when the runner backed off from a generator-limited rate: this outcome is the valid trial at the
   * lower rate (`request.rateFps`) and the search must treat `backoff.ceilingFps` as its upper limit.
   */
  readonly backoff?: Backoff;
  /** Set on an invalid outcome after every back-off step was generator-limited too (a note for the status). */
  readonly backoffExhausted?: string;
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

/** Loss ratio (0–1) of a trial over all directions (the driver's lossPct / 100). A trial that sent nothing has ratio 1. */
export function lossRatioOf(r: TrialResult): number {
  return r.txFrames > 0 ? Math.max(0, Math.min(1, r.lossPct / 100)) : 1;
}

/** Duration a trial counts for in a search (s): the intended duration, else the achieved one. */
export function trialDurationS(o: TrialOutcome): number {
  return o.request.durationS ?? o.result.durationS;
}

export interface Backoff {
  /** Rate the search asked for (fps per direction). */
  readonly requestedFps: number;
  /** What the generator achieved there (fps per direction). */
  readonly achievedFps: number;
  /** Highest rate known to be out of the generator's reach; searches cap their upper limit here. */
  readonly ceilingFps: number;
  /** Rate of the valid trial that decided (fps per direction). */
  readonly rateFps: number;
  /** Back-off trials run (1 = the first one at 90 % of the achieved rate was valid). */
  readonly steps: number;
  /** The generator's reason at the requested rate. */
  readonly reason: string;
}
