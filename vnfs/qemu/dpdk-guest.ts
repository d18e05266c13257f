/**
 * DPDK loopback apps of the built-in guest image (testpmd, l2fwd): what the QEMU driver adds to the
 * guest's kernel command line for them. Pure: unit-tested without QEMU.
 */
import { ConfigError } from '../../framework/api/errors.js';

export const DPDK_APPS = ['testpmd', 'l2fwd'] as const;

export function isDpdkApp(app: string): boolean {
  return (DPDK_APPS as readonly string[]).includes(app);
}

/** 2 MiB pages reserved in the guest for the app's EAL (`-m 64` plus slack). */
export const GUEST_DPDK_HUGEPAGES = 48;

/**
 * Debian's DPDK is built for `corei7` (SSE4.2, POPCNT): EAL refuses to start on TCG's default qemu64
 * CPU, which lacks them. TCG emulates these instructions, so ask for them explicitly.
 */
export const TCG_DPDK_CPU = 'qemu64,+ssse3,+sse4.1,+sse4.2,+popcnt';

/**
 * testpmd forwarding engines that send each received frame on to the paired port (VSPERF's
 * GUEST_TESTPMD_FWD_MODE); rxonly, txonly, flowgen and icmpecho would not loop traffic back.
 */
const FWD_MODES = ['io', 'mac', 'macswap', 'csum', '5tswap'];

export function checkFwdMode(mode: string, source: string): string {
  if (!FWD_MODES.includes(mode))
    throw new ConfigError('GUEST_TESTPMD_FWD_MODE', source, `unknown testpmd forwarding mode ${JSON.stringify(mode)} (one of ${FWD_MODES.join(', ')})`);
  return mode;
}

/**
 * The testpmd application arguments (after `--`) of VSPERF's GUEST_TESTPMD_PARAMS, e.g.
 * `-l 0,1 -n 4 --socket-mem 512 -- --burst=64 -i --txqflags=0xf00 --disable-hw-vlan`.
 * The EAL part is ours to choose (cores, memory and devices of our image); interactive mode and the
 * options DPDK removed before 22.11 (`--txqflags`, `--disable-hw-vlan*`) are dropped, and the options
 * the image sets itself (forwarding mode, auto-start) may not be repeated.
 */
export function testpmdAppArgs(params: string, source: string): { args: string[]; dropped: string[] } {
  const at = ` ${params} `.indexOf(' -- ');
  const app =
    at < 0
      ? []
      : ` ${params} `
          .slice(at + 4)
          .trim()
          .split(/\s+/)
          .filter(Boolean);
  const args: string[] = [];
  const dropped: string[] = [];
  for (const a of app) {
    if (a === '-i' || a === '--interactive' || /^--txqflags(=|$)/.test(a) || a.startsWith('--disable-hw-vlan')) dropped.push(a);
    else if (/^--(forward-mode|auto-start|nb-cores)(=|$)/.test(a))
      throw new ConfigError('GUEST_TESTPMD_PARAMS', source, `${a} is set by the guest image (use GUEST_TESTPMD_FWD_MODE for the forwarding mode)`);
    else if (!/^[\x21-\x7e]+$/.test(a)) throw new ConfigError('GUEST_TESTPMD_PARAMS', source, `argument ${JSON.stringify(a)} is not printable ASCII`);
    else args.push(a);
  }
  return { args, dropped };
}

/**
 * GUEST_SMP "auto" (the default): two vCPUs for a DPDK app, one otherwise. With two, the app forwards
 * on vCPU 1 and the guest kernel keeps vCPU 0 (dpdkAppend): after a live migration, TCG starts with an
 * empty translation cache, and on one vCPU the forwarding loop waited until the kernel's tick, timers,
 * workqueues and scheduler (2 500–2 800 freshly translated blocks, 95 % kernel code) had run; on its
 * own vCPU it translates only its own ~130 (docs/migration.md). The kernel bridge forwards in the
 * kernel, so it has nothing to gain.
 */
export function autoSmp(app: string): number {
  return isDpdkApp(app) ? 2 : 1;
}

/**
 * Kernel command-line words for a DPDK app (the image's /init reads vsperf.fwd, vsperf.testpmd and
 * vsperf.fwdcpu). With `smp` ≥ 2 vCPUs, vCPU 1 is the forwarding CPU (testpmd's forwarding lcore,
 * l2fwd's only one, as VSPERF's `-c 0x3` puts testpmd's forwarding on its second lcore), and the vCPUs
 * from 1 on are taken away from the kernel: no scheduler load balancing or unbound work there
 * (isolcpus), no tick while one task runs (nohz_full), RCU callbacks and device interrupts on vCPU 0
 * (rcu_nocbs, irqaffinity; without the latter the NICs' config interrupt QEMU raises after a
 * migration could land on vCPU 1 and bring the tick and timers back there).
 */
export function dpdkAppend(app: string, fwdMode: string, testpmdArgs: readonly string[], smp = 1): string[] {
  const words = ['hugepagesz=2M', `hugepages=${GUEST_DPDK_HUGEPAGES}`];
  if (smp >= 2) {
    const isolated = smp === 2 ? '1' : `1-${smp - 1}`;
    words.push(`isolcpus=${isolated}`, `nohz_full=${isolated}`, `rcu_nocbs=${isolated}`, 'irqaffinity=0', 'vsperf.fwdcpu=1');
  }
  if (app === 'testpmd') {
    words.push(`vsperf.fwd=${fwdMode}`);
    if (testpmdArgs.length) words.push(`vsperf.testpmd=${Buffer.from(testpmdArgs.join(' ')).toString('base64')}`);
  }
  return words;
}
