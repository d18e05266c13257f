/** QEMU-specific guest contracts (live migration); the generic Vnf contract is in framework/api/vnf.ts. */
import type { GuestNic, Vnf } from '../framework/api/vnf.js';

export * from '../framework/api/vnf.js';

/** One QEMU process hosting a guest (the current one, or a migration destination). */
export interface QemuInstanceHandle {
  readonly name: string;
  readonly pid: number;
  readonly nics: readonly GuestNic[];
  readonly qmp: import('./qmp/client.js').QmpClient;
  readonly alive: boolean;
  /** Tail of the serial console and QEMU's output, for error messages. */
  logTail(lines?: number): string;
  /** The serial console so far. */
  serial(): string;
  /** Soft (QMP quit) → SIGTERM → SIGKILL. Idempotent. */
  stop(): Promise<void>;
  /** The guest clock against the host's (qemu/guest-clock.ts); absent where the guest has no clock port. */
  queryClock?(opts?: import('./qemu/guest-clock.js').ClockQueryOptions): Promise<import('./qemu/guest-clock.js').GuestClockReading>;
}

/**
 * A guest that can be live-migrated (QEMU). The live_migration methodology takes it from
 * `Topology.guests`. The object stays "the guest" while QEMU processes come and go under it.
 */
export interface MigratableVnf extends Vnf {
  readonly migratable: true;
  /** NICs of the current instance (with vSwitch ofports when the deployment knew them). */
  readonly nics: readonly GuestNic[];
  /** The QEMU process the guest runs in now. */
  readonly current: QemuInstanceHandle;
  /**
   * Start an identical QEMU with `-incoming defer` on other vhost sockets; tracked by the same Host.
   * `paused`: it stays paused after the migration (`-S`) until `cont`.
   */
  startIncoming(nics: readonly GuestNic[], signal?: AbortSignal, timeoutMs?: number, opts?: { paused?: boolean }): Promise<QemuInstanceHandle>;
  /** The guest resumed in `inst`: make it current, return the previous instance (the caller quits it). */
  switchTo(inst: QemuInstanceHandle): QemuInstanceHandle;
  /** Seconds from launch to the ready marker, once booted. */
  readonly bootSeconds?: number | undefined;
  /** Directory for the guest's files (logs, QMP and migration sockets). */
  readonly workDir: string;
}

export function isMigratable(v: unknown): v is MigratableVnf {
  return typeof v === 'object' && v !== null && (v as { migratable?: unknown }).migratable === true;
}
