/**
 * Loopback applications of the built-in guest image. The image's /init reads `vsperf.loopback=<app>`
 * from the kernel command line and prints VSPERF-READY once the app forwards between NIC pairs
 * (eth0↔eth1, eth2↔eth3, …). testpmd/l2fwd need DPDK in the image: ours has none and says so with a
 * VSPERF-ERR marker, which the QEMU driver turns into a clear boot error.
 */
import type { LoopbackApp } from './types.js';

/** VSPERF 'linux_bridge': the guest kernel bridges each NIC pair (STP off, forward delay 0). */
export const linuxBridge: LoopbackApp = { name: 'linux_bridge', guestArgs: ['vsperf.loopback=linux_bridge'] };

/**
 * VSPERF 'buildin': vsperf configures nothing; the image forwards by itself. Our image's built-in
 * forwarding is the kernel bridge, so the data path equals linux_bridge.
 */
export const buildin: LoopbackApp = { name: 'buildin', guestArgs: ['vsperf.loopback=buildin'] };
