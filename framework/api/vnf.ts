/** The guest (VNF) contract: what a deployment starts and attaches, and what runs inside it. */

/**
 * One guest NIC as the deployment wired it: the vhost-user socket the guest's QEMU serves (`server=on`;
 * the vSwitch connects as a dpdkvhostuserclient) and, when known, the vSwitch port it lands on.
 */
export interface GuestNic {
  /** vhost-user socket path (QEMU creates it and OVS connects as client, unless switchServes). */
  readonly socketPath: string;
  /** The vSwitch serves the socket (VSWITCH_VHOSTUSER_SERVER_MODE): QEMU connects to it as a client. */
  readonly switchServes?: boolean;
  /** MAC of the guest NIC; default derived from the guest index (VSPERF #MAC(00:00:00:00:00:01,2)). */
  readonly mac?: string;
  /** vSwitch port name and OpenFlow port number of the vhost port (needed by live migration). */
  readonly portName?: string;
  readonly ofport?: number;
}

/**
 * Default MAC of NIC `nic` of guest `index` (locally administered, stable across migration). Here, not in
 * the QEMU driver: a deployment that rewrites frames to a guest's address needs it before the guest exists.
 */
export function defaultGuestMac(index: number, nic: number): string {
  const h = (n: number): string => (n & 0xff).toString(16).padStart(2, '0');
  return `52:54:00:${h(index >> 8)}:${h(index)}:${h(nic)}`;
}

/** How the deployment places a guest: its index (VSPERF #VMINDEX, selects per-guest GUEST_* entries) and NICs. */
export interface VnfAttachment {
  readonly index: number;
  readonly nics: readonly GuestNic[];
  /**
   * Host PCI devices (NICs or SR-IOV VFs, bound to vfio-pci) passed through to the guest, in guest NIC
   * order after the vhost-user NICs (VSPERF QemuPciPassthrough). Optional: absent = none.
   */
  readonly pciDevices?: readonly string[];
}

export interface Vnf {
  readonly name: string;
  /**
   * Set by the deployment before start(): guest index and NICs (vhost sockets in guest NIC order).
   * Optional for compatibility; a Vnf that needs NICs throws from start() when it was not attached.
   */
  attach?(a: VnfAttachment): void;
  /** Launch the guest; resolves once the process runs (not yet booted). */
  start(signal?: AbortSignal): Promise<void>;
  /** Resolves when the guest's loopback app forwards (ready marker), or rejects with the log tail. */
  waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /** Soft stop (QMP quit), then SIGTERM, then SIGKILL. Idempotent. */
  stop(): Promise<void>;
  /** Facts for results (accel kvm/tcg, memory, loopback app, image). */
  facts(): Readonly<Record<string, string | number | boolean>>;
  /**
   * Run a shell command inside the booted guest (VSPERF `vnf execute_and_wait`); optional: a VNF
   * without a command channel leaves it out. Rejects only when the guest cannot be reached; how the
   * command ended (status, timeout) is in the result.
   */
  execute?(
    command: string,
    opts: { readonly timeoutMs: number; readonly signal?: AbortSignal; readonly onOutput?: (text: string) => void },
  ): Promise<GuestCommandResult>;
}

/** How a command inside a guest ended, and what it printed (stdout and stderr interleaved). */
export interface GuestCommandResult {
  readonly output: string;
  /** Exit status when it exited. */
  readonly exitCode?: number;
  /** Signal number when a signal ended it (not the timeout). */
  readonly signal?: number;
  /** Killed at its deadline. */
  readonly timedOut: boolean;
  /** Its output passed the channel's limit (1 MiB): it was killed and the output cut. */
  readonly truncated: boolean;
  readonly elapsedMs: number;
}

/** A loopback application inside the guest (linux_bridge, buildin, testpmd, l2fwd). */
export interface LoopbackApp {
  readonly name: string;
  /** Kernel command-line / init parameters that select this app in our guest image. */
  readonly guestArgs: readonly string[];
}

/**
 * A VNF whose guest NICs are host PCI devices passed through with vfio (VSPERF QemuPciPassthrough)
 * instead of vhost-user ports: deployments without a vSwitch (`none`) attach `pciDevices` to it.
 */
export interface PciPassthroughVnf extends Vnf {
  readonly pciPassthrough: true;
}

export function isPciPassthroughVnf(v: unknown): v is PciPassthroughVnf {
  return typeof v === 'object' && v !== null && (v as { pciPassthrough?: unknown }).pciPassthrough === true;
}
