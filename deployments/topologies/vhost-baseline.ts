/**
 * The baseline of a trial on the vhost sandbox, whose "phy" ports are vhost-user ports facing the
 * generator's virtio-user devices. OVS-DPDK 3.1 restarts such a port's packet counts with each
 * connection and keeps its drops across them, but while no device is connected it reports no packet or
 * drop counts (PortStats.unreported), only its own ovs_* counters. So, read between trials:
 * - packet counts: 0, where the next connection starts;
 * - rx drops: as read now. On a vhost-user port OVS counts only its policer's drops in rx_dropped, and
 *   those it reports without a device too (the driver fills rxDropped from them);
 * - tx drops: not reported without a device (OVS also counts there the frames it could not send for want
 *   of one), so they are carried from the last read with the device connected. A trial read after its
 *   generator let go (a caller of runTrial without TrialHooks.beforeRelease, or a failed trial) leaves
 *   them unknown: the next trial's tx drops then start from the last known read, which is said.
 * Pure: the deployment does the reads.
 */
import type { PortStats } from '../../framework/api/deployment.js';

export class VhostBaseline {
  /** tx drops of each vhost "phy" port as last read with its device connected. */
  private readonly txDropped = new Map<string, number>();
  /** Ports whose last read had no device connected: their tx drops since that read are not known. */
  private readonly txUnknown = new Set<string>();

  /** After a trial's read of `now`: `connected` says whether the ports in `names` still had their device. */
  afterRead(now: readonly PortStats[], names: readonly string[], connected: boolean): void {
    for (const n of names) {
      const p = now.find((x) => x.name === n);
      if (connected && p && !p.unreported) {
        this.txDropped.set(n, p.txDropped);
        this.txUnknown.delete(n);
      } else this.txUnknown.add(n);
    }
  }

  /**
   * The next trial's baseline from `stats`, read once the devices left: `names` are the vhost "phy"
   * ports, `stillUp` those whose device had not left yet (read as they are: they may be the last
   * trial's). `txUnknown` names the ports whose tx drops in this baseline are the last known, not now's.
   */
  baseline(stats: readonly PortStats[], names: readonly string[], stillUp: readonly string[]): { ports: PortStats[]; txUnknown: string[] } {
    const txUnknown: string[] = [];
    const ports = stats.map((p) => {
      if (!names.includes(p.name) || stillUp.includes(p.name)) return p;
      if (this.txUnknown.has(p.name)) txUnknown.push(p.name);
      return { ...p, rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0, txDropped: this.txDropped.get(p.name) ?? 0 };
    });
    return { ports, txUnknown };
  }
}
