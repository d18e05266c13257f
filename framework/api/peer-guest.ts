/**
 * What a two-host deployment (pvp_peer) asks of its guest: one guest that boots on the first host and
 * live-migrates between the two. The deployment wires the switches and hands over the sites; the VNF
 * driver (QEMU) makes the guest. drivers.ts injects the launcher, so deployments never import a VNF driver.
 */
import type { Logger } from '../log/logger.js';
import type { RemoteHost } from '../host/remote-host.js';
import type { Settings } from '../config/settings.js';
import type { GuestNic, Vnf } from './vnf.js';

/** One host the guest can run on: its SSH connection, the guest's vhost-user NICs there, a remote directory. */
export interface PeerSite {
  readonly host: RemoteHost;
  readonly nics: readonly GuestNic[];
  /** Directory on that host for QMP socket and serial console (short: sun_path). */
  readonly dir: string;
  /** The host's uplink to the fabric, when it is a kernel netdev a capture can watch (fabric relearn). */
  readonly uplink?: string;
  /** Address the destination QEMU listens on for the migration stream (default: the SSH address). */
  readonly migrationAddress?: string;
}

export interface PeerGuestRequest {
  readonly name: string;
  /** Guest index (per-guest GUEST_* entries, default MACs). */
  readonly index: number;
  /** Where it boots (first) and where it migrates to and fro. */
  readonly sites: readonly [PeerSite, PeerSite];
  readonly settings: Settings;
  readonly log: Logger;
  /** Local directory for the guest's files. */
  readonly workDir: string;
  /** Local directory for forwarded sockets: short (sun_path holds 107 bytes), unlike a results directory. */
  readonly socketDir: string;
  /** The two hosts share this machine's kernel (the two-host sandbox's namespaces). */
  readonly sameMachine: boolean;
}

/** The guest as the deployment drives it; a live migration finds the rest on the object itself. */
export interface PeerGuestVnf extends Vnf {
  /** Aborted when the guest's current QEMU dies or its SSH channel is lost. */
  readonly health: AbortSignal;
  /** Default timeout: the guest's GUEST_TIMEOUT. */
  waitReady(timeoutMs?: number, signal?: AbortSignal): Promise<void>;
  /** The current QEMU announces the guest's NICs (RARPs): the fabric learns which host the guest is on. */
  announce(): Promise<void>;
}

export type PeerGuestLauncher = (req: PeerGuestRequest) => Promise<PeerGuestVnf>;
