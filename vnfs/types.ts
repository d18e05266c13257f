/** Guests (VNFs) and what runs inside them. */

export interface Vnf {
  readonly name: string;
  /** Launch the guest; resolves once the process runs (not yet booted). */
  start(signal?: AbortSignal): Promise<void>;
  /** Resolves when the guest's loopback app forwards (ready marker), or rejects with the log tail. */
  waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Soft stop (QMP quit), then SIGTERM, then SIGKILL. Idempotent. */
  stop(): Promise<void>;
  /** Facts for results (accel kcm/tcg, memory, loopback app, image). */
  facts(): Readonly<Record<string, string | number | boolean>>;
}

/** A loopback application inside the guest (linux_bridge, buildin, testpmd, l2fwd). */
export interface LoopbackApp {
  readonly name: string;
  /** Kernel command-line / init parameters that select this app in our guest image. */
  readonly guestArgs: readonly string[];
}
