/**
 * A deployment's own release stack: setup registers a release right after it creates each thing;
 * teardown runs them once, newest first, every one even when an earlier one fails, and reports the
 * failures together in one line. Shared by every deployment (pxp/phy2phy and pvp_peer).
 */
import type { DriverContext } from '../../framework/api/driver.js';
import { DriverError, errorMessage } from '../../framework/errors.js';

export class ReleaseStack {
  private readonly steps: Array<{ readonly label: string; readonly fn: () => Promise<void> }> = [];
  private done = false;
  private dropCleanupStep: (() => void) | undefined;

  constructor(
    /** Deployment name, for the error. */
    private readonly name: string,
    private readonly ctx: DriverContext,
  ) {}

  defer(label: string, fn: () => Promise<void>): void {
    this.steps.push({ label, fn });
  }

  /**
   * Run `setup`. Success: the teardown goes on the runner's cleanup stack, above everything setup
   * created, so an unwind (end of testcase, SIGINT) tears down in order. Failure: tear down now, rethrow.
   */
  async guard<T>(setup: () => Promise<T>): Promise<T> {
    try {
      const out = await setup();
      this.dropCleanupStep = this.ctx.host.cleanup.defer(`teardown ${this.name}`, () => this.unwind());
      return out;
    } catch (e) {
      await this.unwind().catch((te: unknown) => this.ctx.log.warn(`teardown after failed setup: ${errorMessage(te)}`));
      throw e;
    }
  }

  /** Once; later calls return at once. */
  async unwind(): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.dropCleanupStep?.();
    const errors: string[] = [];
    while (this.steps.length) {
      const r = this.steps.pop()!;
      await r.fn().catch((e: unknown) => errors.push(`${r.label}: ${errorMessage(e)}`));
    }
    if (errors.length) throw new DriverError(this.name, 'teardown', errors.join('; '));
  }
}
