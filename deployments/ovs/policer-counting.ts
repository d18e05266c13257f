/**
 * Whether OVS-DPDK counts the frames an Interface's ingress policer drops in its rx_packets, by the
 * Interface's type (both count them in rx_dropped and ovs_rx_qos_drops). Measured on OVS 3.1.0 with
 * DPDK 22.11 (docs/fidelity.md, "Policers in the counter check"):
 * - dpdk (an ethdev: NIC, or the sandbox's af_packet/pcap vdev): rx_packets is the device's count,
 *   taken before the policer runs, so the policed frames are in it.
 * - dpdkvhostuser, dpdkvhostuserclient: rx_packets is DPDK's vhost queue count (rx_q0_good_packets),
 *   taken as OVS dequeues the frames, before the policer: the policed frames are in it too (testpmd
 *   put 2 138 144 frames on the ring, rx_packets 2 138 144, rx_dropped = ovs_rx_qos_drops 2 132 915).
 * Other types have no policer counters. Undefined: not measured, the counter check takes no stand.
 */
export function policedInRxPackets(type: string | undefined): boolean | undefined {
  return type === 'dpdk' || isVhostType(type) ? true : undefined;
}

/** OVS-DPDK's vhost-user port types. */
export function isVhostType(type: string | undefined): boolean {
  return type === 'dpdkvhostuser' || type === 'dpdkvhostuserclient';
}
