/**
 * The Software generator's `dpdk` backend, TypeScript side: which DPDK device a port is (devargs), and
 * the preflight that turns the EAL's many-line failures into one clear error before the engine starts:
 * hugepages, a CPU that a busy-polling thread (an OVS PMD, another DPDK lcore) already owns, PCI devices
 * bound to vfio-pci (binding them when asked, the original driver restored at close).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { EnvironmentError } from '../../framework/errors.js';
import type { PortSpec } from '../../framework/api/trafficgen.js';

/** Which dpdk-backend precondition failed: stable, for scripts, tests and --check-host. */
export type DpdkCheck = 'hugepages' | 'no-device' | 'not-bound' | 'lcore' | 'no-vfio' | 'iommu' | 'memlock' | 'dpdk';

/** The dpdk backend cannot start on this host: one line naming what is missing and (hint) the fix. */
export class DpdkSetupError extends EnvironmentError {
  readonly check: DpdkCheck;
  constructor(check: DpdkCheck, message: string, hint?: string) {
    super(`dpdk backend (${check}): ${message}`, hint ? { hint } : {});
    this.check = check;
  }
}

/** The engine's own preflight codes (engine/io_dpdk.c) as checks. */
export const ENGINE_DPDK_CHECKS: Readonly<Record<string, DpdkCheck>> = {
  E_NOHUGE: 'hugepages',
  E_NODEV: 'no-device',
  E_NOTBOUND: 'not-bound',
  E_LCORE: 'lcore',
  E_DPDK: 'dpdk',
};

/** What a DPDK device string may contain (no '@' or '#': they separate netns and backend in --port). */
export const DEVARGS_RE = /^[A-Za-z0-9_.:,=/+-]{1,255}$/;

/** Frames in the kernel ring of a net_af_packet device (its default, 512, overflows at 100 kfps bursts). */
const AF_PACKET_FRAMES = 4096;

/**
 * The DPDK device of generator port `index`: its `devargs`, else its PCI address, else a net_af_packet
 * vdev on its interface (so TRAFFICGEN_SOFTWARE_BACKEND=dpdk works on any netdev, veths included).
 */
export function dpdkDevargs(p: PortSpec, index: number, queues = 1): string {
  if (p.devargs) return p.devargs;
  if (p.pci) return p.pci;
  // qpairs: one AF_PACKET socket per queue pair, the kernel spreading received frames by flow hash (fanout).
  return `net_af_packet${index},iface=${p.name},framecnt=${AF_PACKET_FRAMES}${queues > 1 ? `,qpairs=${queues}` : ''}`;
}

/** Is this port driven by the dpdk backend (its own wish, else the generator's default)? */
export function isDpdkPort(p: PortSpec, defaultBackend: string): boolean {
  return (p.backend ?? defaultBackend) === 'dpdk' || (p.backend === undefined && p.devargs !== undefined);
}

export interface HugepageInfo {
  readonly totalPages: number;
  readonly freePages: number;
  readonly pageKiB: number;
}

export function parseMeminfo(text: string): HugepageInfo {
  const num = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { totalPages: num('HugePages_Total'), freePages: num('HugePages_Free'), pageKiB: num('Hugepagesize') || 2048 };
}

/** The engine's EAL needs two mbuf pools per port plus its own heap: 64 MiB is its floor. */
export const DPDK_MIN_HUGE_MIB = 64;

export function checkHugepages(h: HugepageInfo, needMiB = DPDK_MIN_HUGE_MIB): void {
  const freeMiB = (h.freePages * h.pageKiB) / 1024;
  if (freeMiB >= needMiB) return;
  throw new DpdkSetupError(
    'hugepages',
    h.totalPages === 0
      ? `the dpdk backend needs hugepages and none are reserved (HugePages_Total 0)`
      : `the dpdk backend needs ${needMiB} MiB of free hugepages, ${freeMiB} MiB are free (${h.freePages} of ${h.totalPages} pages)`,
    'echo 1024 > /proc/sys/vm/nr_hugepages (npm run setup reserves them; OVS-DPDK takes its share too)',
  );
}

/** A thread that owns a CPU: pinned to exactly that CPU and busy-polling by design. */
export interface CpuOwner {
  readonly pid: number;
  readonly comm: string;
  readonly cpu: number;
}

/** Names of busy-polling threads: OVS PMDs (pmd-c01/id:3, older pmd1) and DPDK lcores of other processes. */
const POLLER_RE = /^(pmd[-\d]|lcore-worker-|rte-worker-)/;

/** "0-2,5" → [0,1,2,5]. */
export function parseCpuList(s: string): number[] {
  const out: number[] = [];
  for (const part of s.trim().split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    for (let c = a!; c <= (b ?? a!); c++) out.push(c);
  }
  return out;
}

/** Busy-polling threads of other processes pinned to a single CPU (read from /proc). */
export function cpuOwners(procRoot = '/proc', self = process.pid): CpuOwner[] {
  const out: CpuOwner[] = [];
  for (const pid of readdirSync(procRoot)) {
    if (!/^\d+$/.test(pid) || Number(pid) === self) continue;
    let tasks: string[];
    try {
      tasks = readdirSync(`${procRoot}/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      try {
        const status = readFileSync(`${procRoot}/${pid}/task/${tid}/status`, 'utf8');
        const comm = /^Name:\s*(.*)$/m.exec(status)?.[1] ?? '';
        if (!POLLER_RE.test(comm)) continue;
        const cpus = parseCpuList(/^Cpus_allowed_list:\s*(.*)$/m.exec(status)?.[1] ?? '');
        if (cpus.length === 1) out.push({ pid: Number(pid), comm, cpu: cpus[0]! });
      } catch {
        /* gone */
      }
    }
  }
  return out;
}

/** The engine's CPUs must not be a CPU another poller spins on: both would run at half speed. */
export function checkCpusFree(cpus: readonly number[], owners: readonly CpuOwner[]): void {
  for (const c of cpus) {
    const o = owners.find((x) => x.cpu === c);
    if (o)
      throw new DpdkSetupError(
        'lcore',
        `CPU ${c} (TRAFFICGEN_SOFTWARE_CORES) is busy: thread ${o.comm} of pid ${o.pid} polls it`,
        'give the engine CPUs the switch does not poll (OVS: other_config:pmd-cpu-mask)',
      );
  }
}

/** The engine's CPUs must be online and in this process's affinity (an offline CPU is in neither). */
export function checkCpusUsable(cpus: readonly number[], allowed: readonly number[]): void {
  const bad = cpus.filter((c) => !allowed.includes(c));
  if (bad.length)
    throw new DpdkSetupError(
      'lcore',
      `CPU ${bad.join(',')} (TRAFFICGEN_SOFTWARE_CORES) is not online or not available to this process (usable: ${allowed.join(',')})`,
      'pick CPUs from the usable list (lscpu; taskset -p $$)',
    );
}

/** CPUs this process may use that no busy poller owns. */
export function freeCpus(owners: readonly CpuOwner[], statusFile = '/proc/self/status'): number[] {
  const allowed = parseCpuList(/^Cpus_allowed_list:\s*(.*)$/m.exec(readFileSync(statusFile, 'utf8'))?.[1] ?? '');
  return allowed.filter((c) => !owners.some((o) => o.cpu === c));
}

/** Everything the dpdk backend needs before the engine starts. */
export function dpdkPreflight(cpus: readonly number[], meminfo = '/proc/meminfo', statusFile = '/proc/self/status'): void {
  checkHugepages(parseMeminfo(readFileSync(meminfo, 'utf8')));
  if (!cpus.length) return;
  checkCpusUsable(cpus, parseCpuList(/^Cpus_allowed_list:\s*(.*)$/m.exec(readFileSync(statusFile, 'utf8'))?.[1] ?? ''));
  checkCpusFree(cpus, cpuOwners());
}
