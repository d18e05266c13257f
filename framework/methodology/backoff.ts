/**
 * Generator back-off. A generator-limited trial says nothing about the DUT: it must neither end a search
 * nor count as "nothing forwarded". The trial runner (the one place every search goes through) answers
 * such a trial by offering less: first 90 % of what the generator did achieve, then half of the previous
 * rate, until a valid trial decides or the rate gets absurdly small. The search then receives that valid
 * trial together with this record, lowers its ceiling to what the generator could offer, and reports its
 * result as a lower bound with the reason.
 */
import type { Backoff, TrialOutcome, TrialRequest } from './types.js';

export type { Backoff } from './types.js';

/** First back-off rate as a fraction of the achieved rate (close under what the generator just managed). */
export const BACKOFF_FIRST_RATIO = 0.9;
/** Back-off trials before giving up: 0.9 × 2^-9 ≈ 0.2 % of the achieved rate. */
export const BACKOFF_MAX_STEPS = 10;

/** Rate of back-off step `step` (1-based) after a trial at `requestedFps` achieved `achievedFps`. */
export function backoffRate(requestedFps: number, achievedFps: number, step: number): number {
  const base = Math.min(requestedFps, achievedFps > 0 ? achievedFps : requestedFps);
  return base * BACKOFF_FIRST_RATIO * Math.pow(0.5, step - 1);
}

/** The rate a limited outcome's generator is known not to reach. */
export function ceilingOf(out: TrialOutcome): number {
  const a = out.result.achievedTxFps;
  return Math.min(out.request.rateFps, a > 0 ? a : out.request.rateFps);
}

/** The request of back-off step `step`. */
export function backoffRequest(req: TrialRequest, first: TrialOutcome, step: number): TrialRequest {
  return { ...req, rateFps: backoffRate(req.rateFps, first.result.achievedTxFps, step), purpose: `${req.purpose ?? 'trial'} (generator back-off ${step})` };
}

/** One line for a result's status: why the figure is a lower bound. */
export function lowerBoundNote(b: Backoff): string {
  return `lower bound: the generator could not offer ${Math.round(b.requestedFps)} fps (${b.reason}); backed off to ${Math.round(b.rateFps)} fps in ${b.steps} step${b.steps === 1 ? '' : 's'}, rates above ${Math.round(b.ceilingFps)} fps untested`;
}

/** One line for a search that found no valid trial at all. */
export function exhaustedNote(req: TrialRequest, last: TrialOutcome): string {
  return `no valid trial: the generator was limited at every rate from ${Math.round(req.rateFps)} fps down to ${Math.round(last.request.rateFps)} fps (${last.invalidReason ?? 'invalid'}); nothing is known about the DUT`;
}
