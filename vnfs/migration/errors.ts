import { VsperfError } from '../../framework/errors.js';

/** A live migration failed; `phase` says where (setup, incoming, migrate, converge, resume). */
export class MigrationError extends VsperfError {
  readonly phase: string;
  constructor(phase: string, message: string, opts: { cause?: unknown; hint?: string } = {}) {
    super('E_MIGRATION', `live migration failed (${phase}): ${message}`, opts);
    this.phase = phase;
  }
}
