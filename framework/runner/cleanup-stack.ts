import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';

interface Entry {
  readonly label: string;
  readonly fn: () => Promise<void> | void;
}

/**
 * Resources are released in reverse order of creation. Every step runs even when an earlier one fails;
 * failures are collected and reported together, because a half-done teardown is worse than a noisy one.
 */
export class CleanupStack {
  private readonly entries: Entry[] = [];
  private unwinding: Promise<Error[]> | undefined;

  constructor(private readonly log: Logger = silentLogger) {}

  /** Register a release step right after the resource exists. Returns a function that drops the step. */
  defer(label: string, fn: () => Promise<void> | void): () => void {
    const entry: Entry = { label, fn };
    this.entries.push(entry);
    return () => {
      const i = this.entries.indexOf(entry);
      if (i >= 0) this.entries.splice(i, 1);
    };
  }

  get size(): number {
    return this.entries.length;
  }

  labels(): string[] {
    return this.entries.map((e) => e.label);
  }

  /** Run all steps, last first. Concurrent callers share one unwind. Returns the errors (also logged). */
  unwind(): Promise<Error[]> {
    if (!this.unwinding) {
      this.unwinding = this.run().finally(() => {
        this.unwinding = undefined;
      });
    }
    return this.unwinding;
  }

  private async run(): Promise<Error[]> {
    const errors: Error[] = [];
    while (this.entries.length > 0) {
      const e = this.entries.pop()!;
      try {
        this.log.debug(`cleanup: ${e.label}`);
        await e.fn();
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        this.log.warn(`cleanup step "${e.label}" failed: ${error.message}`);
        errors.push(error);
      }
    }
    return errors;
  }
}
