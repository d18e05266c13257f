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
  /** Re-read the serial console where it is not a local file (a guest on another host). */
  refreshSerial?(): Promise<string>;
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
  /** A guest that brings its own migration topology (peer-to-peer: one site per host). */
  migrationPlan?(port: number): MigrationPlan;
}

/** Where one migration takes the guest: the destination's NICs and, peer-to-peer, its host. */
export interface MigrationRoute {
  readonly nics: readonly GuestNic[];
  /** 'A→B' / 'B→A' locally, 'hostA→hostB' peer-to-peer. */
  readonly direction: string;
  /** The destination listens on this host address and port (the stream crosses the network). */
  readonly peer?: { readonly address: string; readonly port: number };
  /** Host pair for the results (peer-to-peer). */
  readonly hostPair?: string;
  /** Start observing the fabric's relearn on the destination; the returned function stops and reports (ms). */
  observeRelearn?(): Promise<(waitMs: number) => Promise<{ relearnMs?: number }>>;
}

/** The topology changes a series of migrations needs (destination ports and flows), and their release. */
export interface MigrationPlan {
  next(src: QemuInstanceHandle): MigrationRoute;
  release(): Promise<void>;
  /** Destination MAC the generator must use so the fabric delivers to the guest (peer-to-peer). */
  readonly ingressMac?: string;
}

export function isMigratable(v: unknown): v is MigratableVnf {
  return typeof v === 'object' && v !== null && (v as { migratable?: unknown }).migratable === true;
}
