/**
 * The guest clock across one live migration: read on the source just before `migrate`, on the
 * destination once the traffic window after RESUME is over (vnfs/qemu/guest-clock.ts: reading it inside
 * that window put the guest's serial driver and clock daemon into the outage), and what that gives the record and the
 * `guest-clock` verdict. The absolute offsets include how the guest set its clock at boot (from the
 * emulated RTC, whole seconds, no NTP in the image); the step after − before is what the migration did.
 */
import { errorMessage } from '../../framework/errors.js';
import type { Logger } from '../../framework/log/logger.js';
import type { TrialEvidence } from '../../framework/fidelity/verdict.js';
import { clockStep, type GuestClockReading } from '../qemu/guest-clock.js';
import type { QemuInstanceHandle } from '../types.js';
import { round } from './summary.js';

export type ClockRead = GuestClockReading | { readonly error: string };

/** One reading, or why there is none (never throws: a missing reading is a verdict, not a failure). */
export async function readGuestClock(inst: QemuInstanceHandle, log: Logger, signal?: AbortSignal): Promise<ClockRead> {
  if (!inst.queryClock) return { error: `${inst.name} has no clock port` };
  try {
    return await inst.queryClock(signal ? { signal } : {});
  } catch (e) {
    log.warn(`guest clock of ${inst.name}: ${errorMessage(e)}`);
    return { error: errorMessage(e) };
  }
}

export interface ClockFields {
  /** Guest clock − host clock before and after the migration (ms; include the boot-time RTC seeding). */
  readonly guestClockOffsetBeforeMs?: number;
  readonly guestClockOffsetAfterMs?: number;
  /** Host time of the destination's reading (epoch ms): after the migration's traffic window, never inside it. */
  readonly guestClockAfterAtMs?: number;
  /** after − before: how far the migration moved the guest clock against the host's (ms). */
  readonly guestClockStepMs?: number;
  /** The method's uncertainty on the step: the two readings' uncertainties added (ms). */
  readonly guestClockUncertaintyMs?: number;
}

export interface ClockAcross {
  readonly fields: ClockFields;
  readonly evidence: NonNullable<TrialEvidence['guestClock']>;
}

/** Record fields (ms, 3 decimals like every other figure) and verdict evidence from the two readings. Pure. */
export function clockAcrossMigration(before: ClockRead, after: ClockRead): ClockAcross {
  const fields = {
    ...('error' in before ? {} : { guestClockOffsetBeforeMs: round(before.offsetMs) }),
    ...('error' in after ? {} : { guestClockOffsetAfterMs: round(after.offsetMs), guestClockAfterAtMs: round(after.atMs) }),
  };
  if ('error' in before) return { fields, evidence: { error: `before the migration: ${before.error}` } };
  if ('error' in after) return { fields, evidence: { error: `after the migration: ${after.error}` } };
  const s = clockStep(before, after);
  return { fields: { ...fields, guestClockStepMs: round(s.stepMs), guestClockUncertaintyMs: round(s.uncertaintyMs) }, evidence: s };
}
