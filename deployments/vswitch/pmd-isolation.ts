/**
 * Keeping the switch's own non-PMD threads off its PMD CPUs. A PMD thread polls without sleeping; any
 * other thread the kernel runs on its CPU stalls it for that long, and a vhost-user ring the PMD does
 * not drain meanwhile overflows (the sandbox's loss). OVS pins its PMDs (pmd-cpu-mask) but leaves every
 * other thread (main, handlers, revalidators, urcu) on the process's affinity, and DPDK puts its control
 * threads (vhost-events, vhost reconnect, interrupts) on that affinity *minus* its lcores: with the
 * default dpdk-lcore-mask 0x1 on a 2-CPU box that is exactly the PMD's CPU 1. Starting ovs-vswitchd with
 * an affinity without the PMD CPUs puts all of those elsewhere (DPDK falls back to the main lcore's CPU
 * when the difference is empty); OVS still pins its PMDs where the mask says. Pure: CPUs and /proc text in.
 */
import { ranges } from './pmd-cores.js';

/** The CPUs left for everything but the PMDs; empty when the PMDs take every online CPU (nowhere else to go). */
export function nonPmdCpus(online: readonly number[], pmdCpus: readonly number[]): number[] {
  const pmd = new Set(pmdCpus);
  return online.filter((c) => !pmd.has(c));
}

/** argv prefix that starts a command on these CPUs only (its threads inherit the affinity). */
export function affinityArgv(cpus: readonly number[]): string[] {
  if (!cpus.length) throw new RangeError('affinityArgv needs at least one CPU');
  return ['taskset', '-c', ranges(cpus)];
}

/** One thread of the switch as /proc/<pid>/task/<tid>/stat and status show it. */
export interface SwitchThread {
  readonly tid: number;
  readonly comm: string;
  /** Cpus_allowed_list. */
  readonly allowed: readonly number[];
  /** The CPU it last ran on (stat field 39). */
  readonly lastCpu: number;
}

/** OVS names its PMD threads pmd-c<core>/id:<n> (older: pmd<n>). */
export const isPmdThread = (comm: string): boolean => /^pmd[-\d]/.test(comm);

/** Name and Cpus_allowed_list from a /proc task status text. */
export function parseTaskStatus(text: string): { comm: string; allowed: number[] } {
  const comm = /^Name:\s*(.*)$/m.exec(text)?.[1] ?? '';
  const list = /^Cpus_allowed_list:\s*(.*)$/m.exec(text)?.[1] ?? '';
  const allowed: number[] = [];
  for (const part of list.trim().split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    for (let c = a!; c <= (b ?? a!); c++) allowed.push(c);
  }
  return { comm, allowed };
}

/** The CPU a task last ran on, from its /proc stat line (field 39; the comm in parentheses may hold spaces). */
export function parseStatCpu(text: string): number {
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): field 39 is rest[36]
  const cpu = Number(rest[36]);
  return Number.isInteger(cpu) ? cpu : -1;
}

export interface Placement {
  /** PMD threads and the CPU each is pinned to. */
  readonly pmd: readonly string[];
  /** How many other threads there are, and the CPUs they may use (united). */
  readonly others: number;
  readonly othersCpus: readonly number[];
  /** Other threads that may run on a PMD CPU ("comm[tid] may use 0-1"). */
  readonly onPmdCpus: readonly string[];
}

export function placement(threads: readonly SwitchThread[], pmdCpus: readonly number[]): Placement {
  const pmdSet = new Set(pmdCpus);
  const pmd = threads.filter((t) => isPmdThread(t.comm));
  const others = threads.filter((t) => !isPmdThread(t.comm));
  const othersCpus = [...new Set(others.flatMap((t) => t.allowed))].sort((a, b) => a - b);
  return {
    pmd: pmd.map((t) => `${t.comm} on ${ranges(t.allowed)}`),
    others: others.length,
    othersCpus,
    onPmdCpus: others.filter((t) => t.allowed.some((c) => pmdSet.has(c))).map((t) => `${t.comm}[${t.tid}] may use ${ranges(t.allowed)}`),
  };
}

/** One line for the results' facts. */
export function placementFact(p: Placement): string {
  const others = `the other ${p.others} threads on CPU ${ranges(p.othersCpus)}`;
  return `PMD ${p.pmd.join(', ') || 'none'}; ${others}; ${p.onPmdCpus.length ? `on a PMD CPU: ${p.onPmdCpus.join(', ')}` : 'none may run on a PMD CPU'}`;
}

/** The CPU list `taskset -c -p <pid>` prints ("pid 42's current affinity list: 0,1"). */
export function parseTasksetList(text: string): number[] {
  const list = /affinity list:\s*([\d,-]+)/.exec(text)?.[1];
  if (!list) throw new RangeError(`no affinity list in taskset output: ${JSON.stringify(text.trim())}`);
  return parseTaskStatus(`Cpus_allowed_list:\t${list}\n`).allowed;
}

/** argv that sets every thread of a process to these CPUs (new threads inherit it from their creator). */
export function processAffinityArgv(pid: number, cpus: readonly number[]): string[] {
  if (!cpus.length) throw new RangeError('processAffinityArgv needs at least one CPU');
  return ['taskset', '-a', '-p', '-c', ranges(cpus), String(pid)];
}
