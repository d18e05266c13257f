/**
 * Preparing vhost-user client ports for a device that will arrive in a hurry: a live migration's
 * destination. OVS-DPDK gives a vhost port its mempool only when the port's first device arrives, and
 * that arrival reconfigures the datapath (PMD rx-queue reassignment, a PMD reload: "Performing pmd to
 * rx queue assignment" in its log); a later device finds the port configured ("Reconfiguration not
 * required"). On a fresh destination port that reconfiguration ran inside the switch-over, after the
 * destination's RESUME (docs/migration.md). A short-lived virtio-user frontend (dpdk-testpmd, server
 * mode on each port's socket, receive-only) makes that first arrival happen while nothing is measured.
 * Pure: argv and CPU choice, unit-tested without DPDK.
 */

/** testpmd's receive-only forwarding with the fewest buffers that start a port (2 rings of 256). */
const PRIMER_APP_ARGS = ['--forward-mode=rxonly', '--nb-cores=1', '--stats-period=1', '--total-num-mbufs=2048', '--rxd=256', '--txd=256'] as const;

/**
 * dpdk-testpmd as a virtio-user frontend on `sockets`: server=1 for dpdkvhostuserclient ports (OVS
 * connects to it as it would to a QEMU), server=0 for dpdkvhostuser ports (OVS serves the socket). Both lcores on `cpu` (the forwarding one only polls for the second or
 * two it lives); `--in-memory` with single-file segments: no hugepage files or runtime state that a
 * switch's DPDK could collide with, and memory the backend can map (virtio-user shares it by fd).
 */
export function primerArgv(sockets: readonly string[], cpu: number, filePrefix: string, frontendServer = true): string[] {
  if (!sockets.length) throw new Error('primerArgv: no sockets');
  return [
    'dpdk-testpmd',
    `--lcores=0@${cpu},1@${cpu}`,
    '-n',
    '1',
    '--no-pci',
    '--in-memory',
    '--single-file-segments',
    '--no-telemetry',
    '--file-prefix',
    filePrefix,
    ...sockets.map((s, i) => `--vdev=net_virtio_user${i},path=${s},server=${frontendServer ? 1 : 0},queues=1,queue_size=256`),
    '--',
    ...PRIMER_APP_ARGS,
  ];
}

/** The CPU for the primer: the first online CPU that is not a PMD core (the PMDs keep forwarding), else the first online one. */
export function primerCpu(online: readonly number[], pmdCpus: readonly number[]): number {
  const free = online.filter((c) => !pmdCpus.includes(c));
  const cpu = free[0] ?? online[0];
  if (cpu === undefined) throw new Error('primerCpu: no online CPU');
  return cpu;
}
