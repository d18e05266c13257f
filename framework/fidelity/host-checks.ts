/**
 * `vsperf --check-host`: is this host fit to measure on? One check per line, pass / warn / fail, with
 * what to do. Readings come from /proc and /sys (readHostFacts); judging them is pure (judgeHost), so
 * every rule is unit-tested on made-up hosts.
 */
import { accessSync, constants, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseProcStat } from './host-sample.js';

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface HostCheck {
  readonly name: string;
  readonly status: CheckStatus;
  /** What was found. */
  readonly detail: string;
  /** What to do about a warn or fail. */
  readonly fix?: string;
}

export interface HostFacts {
  readonly clocksource?: string;
  readonly availableClocksources?: string[];
  /** Governor per CPU (absent: no cpufreq driver, e.g. in a VM). */
  readonly governors: Readonly<Record<string, string>>;
  /** Turbo / boost on (undefined: not exposed). */
  readonly boost?: boolean;
  readonly isolated: readonly number[];
  readonly nohzFull: readonly number[];
  /** CPUs the PMD and the generator run on (from the settings; empty = not pinned). */
  readonly pmdCpus: readonly number[];
  readonly generatorCpus: readonly number[];
  readonly hugepages: { readonly total: number; readonly free: number; readonly sizeKb: number };
  readonly thp?: string;
  /** Ports (netdevs) with their IRQs' CPU lists; empty when the ports have no IRQs (veth). */
  readonly portIrqs: Readonly<Record<string, readonly number[]>>;
  readonly kvm: { readonly present: boolean; readonly usable: boolean; readonly probe?: string };
  /** Steal time over a window (% of all CPU time) and the window (s). */
  readonly steal?: { readonly pct: number; readonly overS: number };
  readonly numaNodes: number;
  /** NUMA node of each port's device (-1 / absent: none). */
  readonly portNuma: Readonly<Record<string, number>>;
}

const list = (xs: readonly number[]): string => (xs.length ? xs.join(',') : 'none');

export function judgeHost(f: HostFacts): HostCheck[] {
  const out: HostCheck[] = [];
  const add = (name: string, status: CheckStatus, detail: string, fix?: string): void => {
    out.push({ name, status, detail, ...(fix && status !== 'pass' ? { fix } : {}) });
  };
  // Clocksource: latency and rates are read from it.
  const cs = f.clocksource ?? 'unknown';
  add(
    'clocksource',
    cs === 'tsc' ? 'pass' : cs === 'kvm-clock' ? 'warn' : 'fail',
    `current ${cs}${f.availableClocksources?.length ? ` (available: ${f.availableClocksources.join(' ')})` : ''}`,
    f.availableClocksources?.includes('tsc')
      ? 'echo tsc > /sys/devices/system/clocksource/clocksource0/current_clocksource (or boot with clocksource=tsc tsc=reliable)'
      : 'use a host with an invariant TSC; timestamps from this clocksource cost more and drift more',
  );
  // CPU frequency.
  const govs = Object.values(f.governors);
  if (!govs.length) add('cpu-governor', 'pass', 'no cpufreq driver: the frequency is not scaled by this kernel (VM or fixed)');
  else {
    const bad = Object.entries(f.governors).filter(([, g]) => g !== 'performance');
    add(
      'cpu-governor',
      bad.length ? 'warn' : 'pass',
      bad.length
        ? `${bad.length} of ${govs.length} CPUs not on performance (${[...new Set(bad.map(([, g]) => g))].join(', ')})`
        : `performance on all ${govs.length} CPUs`,
      'cpupower frequency-set -g performance (or echo performance > /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor)',
    );
  }
  if (f.boost !== undefined)
    add(
      'frequency-boost',
      f.boost ? 'warn' : 'pass',
      f.boost ? 'turbo/boost on: the clock changes with load and temperature' : 'turbo/boost off',
      'echo 0 > /sys/devices/system/cpu/cpufreq/boost (or intel_pstate/no_turbo = 1)',
    );
  // Isolation of the cores that measure.
  const cores = [...new Set([...f.pmdCpus, ...f.generatorCpus])].sort((a, b) => a - b);
  if (!cores.length)
    add(
      'isolcpus',
      'warn',
      `generator and PMD cores not pinned; isolated: ${list(f.isolated)}`,
      'set TRAFFICGEN_SOFTWARE_CORES and VSWITCH_PMD_CPU_MASK, and boot with isolcpus=<those> nohz_full=<those>',
    );
  else {
    const notIso = cores.filter((c) => !f.isolated.includes(c));
    const notNohz = cores.filter((c) => !f.nohzFull.includes(c));
    add(
      'isolcpus',
      notIso.length ? 'warn' : 'pass',
      `PMD/generator cores ${list(cores)}; isolated: ${list(f.isolated)}`,
      `boot with isolcpus=${list(cores)} so the scheduler keeps other tasks off them`,
    );
    add('nohz_full', notNohz.length ? 'warn' : 'pass', `nohz_full: ${list(f.nohzFull)}`, `boot with nohz_full=${list(cores)} rcu_nocbs=${list(cores)}`);
  }
  // Hugepages for OVS-DPDK and guests.
  const hp = f.hugepages;
  const freeMiB = (hp.free * hp.sizeKb) / 1024;
  add(
    'hugepages',
    hp.total === 0 ? 'fail' : freeMiB < 512 ? 'warn' : 'pass',
    `${hp.free} of ${hp.total} × ${hp.sizeKb} kB free (${Math.round(freeMiB)} MiB)`,
    'reserve them: echo 1024 > /proc/sys/vm/nr_hugepages (npm run setup does), or hugepages= on the kernel command line',
  );
  // THP: khugepaged compaction stalls.
  if (f.thp !== undefined)
    add(
      'transparent-hugepages',
      f.thp === 'always' ? 'warn' : 'pass',
      `enabled = ${f.thp}`,
      'echo never > /sys/kernel/mm/transparent_hugepage/enabled (khugepaged compaction stalls the guests and the switch)',
    );
  // IRQs of the ports must stay off the PMD cores.
  const ports = Object.entries(f.portIrqs);
  if (!ports.length) add('irq-affinity', 'pass', 'the ports have no IRQs (veth sandbox or no NIC named)');
  else {
    const clash = ports.filter(([, cpus]) => cpus.some((c) => f.pmdCpus.includes(c)));
    add(
      'irq-affinity',
      clash.length ? 'warn' : 'pass',
      ports.map(([p, cpus]) => `${p} → CPUs ${list(cpus)}`).join('; '),
      `move the port IRQs off the PMD cores ${list(f.pmdCpus)} (/proc/irq/N/smp_affinity_list; stop irqbalance)`,
    );
  }
  // KVM.
  const k = f.kvm;
  if (!k.present)
    add(
      'kvm',
      'warn',
      '/dev/kvm absent: guests run under TCG (slow, migration figures not representative)',
      'load kvm_intel / kvm_amd, enable virtualization in the BIOS (or nested virtualization in the VM)',
    );
  else if (!k.usable) add('kvm', 'warn', '/dev/kvm not accessible to this user', 'run as root or add the user to group kvm');
  else if (k.probe)
    add(
      'kvm',
      'warn',
      `/dev/kvm present, but ${k.probe}: guests fall back to TCG`,
      'use a host where a KVM guest boots (nested virtualization is often broken)',
    );
  else add('kvm', 'pass', '/dev/kvm present and accessible');
  // Steal: another tenant takes the CPU away.
  if (f.steal)
    add(
      'steal',
      f.steal.pct > 10 ? 'fail' : f.steal.pct > 1 ? 'warn' : 'pass',
      `${f.steal.pct.toFixed(2)} % of CPU time stolen over ${f.steal.overS} s`,
      'a VM sharing its physical cores: use dedicated (pinned) vCPUs or bare metal',
    );
  // NUMA.
  if (f.numaNodes <= 1) add('numa', 'pass', `${Math.max(1, f.numaNodes)} NUMA node: ports, memory and cores are local`);
  else {
    const remote = Object.entries(f.portNuma).filter(([, n]) => n >= 0 && n !== 0);
    add(
      'numa',
      remote.length ? 'warn' : 'pass',
      `${f.numaNodes} nodes; ports: ${
        Object.entries(f.portNuma)
          .map(([p, n]) => `${p} node ${n}`)
          .join(', ') || 'none named'
      }`,
      "run the PMD and generator cores and DPDK_SOCKET_MEM on the ports' node",
    );
  }
  return out;
}

function read(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** "0-2,5" → [0,1,2,5]. */
export function cpuList(s: string | undefined): number[] {
  const out: number[] = [];
  for (const part of (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) continue;
    for (let c = Number(m[1]); c <= Number(m[2] ?? m[1]); c++) out.push(c);
  }
  return out;
}

/** IRQ numbers of a netdev from /proc/interrupts (its name or its driver's queue names). */
function irqsOf(netdev: string, interrupts: string): number[] {
  const out: number[] = [];
  for (const line of interrupts.split('\n')) {
    const m = /^\s*(\d+):/.exec(line);
    if (m && new RegExp(`\\b${netdev.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\b|-)`).test(line)) out.push(Number(m[1]));
  }
  return out;
}

export interface ReadOptions {
  readonly pmdCpus: readonly number[];
  readonly generatorCpus: readonly number[];
  /** Netdev names of the generator / switch ports (none in the sandbox until it is set up). */
  readonly ports: readonly string[];
  readonly steal?: { readonly pct: number; readonly overS: number };
  /** Reason the KVM probe cached for this host, if it found KVM unusable. */
  readonly kvmProbe?: string;
  readonly sys?: string;
  readonly proc?: string;
}

export function readHostFacts(o: ReadOptions): HostFacts {
  const sys = o.sys ?? '/sys';
  const proc = o.proc ?? '/proc';
  const cpuDir = `${sys}/devices/system/cpu`;
  const governors: Record<string, string> = {};
  for (const d of safeList(cpuDir).filter((x) => /^cpu\d+$/.test(x))) {
    const g = read(`${cpuDir}/${d}/cpufreq/scaling_governor`);
    if (g) governors[d] = g;
  }
  const boostRaw = read(`${cpuDir}/cpufreq/boost`);
  const noTurbo = read(`${cpuDir}/intel_pstate/no_turbo`);
  const boost = boostRaw !== undefined ? boostRaw === '1' : noTurbo !== undefined ? noTurbo === '0' : undefined;
  const meminfo = read(`${proc}/meminfo`) ?? '';
  const mi = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0);
  const thpRaw = read(`${sys}/kernel/mm/transparent_hugepage/enabled`);
  const interrupts = read(`${proc}/interrupts`) ?? '';
  const portIrqs: Record<string, number[]> = {};
  const portNuma: Record<string, number> = {};
  for (const p of o.ports) {
    const irqs = irqsOf(p, interrupts);
    if (irqs.length) portIrqs[p] = [...new Set(irqs.flatMap((i) => cpuList(read(`${proc}/irq/${i}/smp_affinity_list`))))].sort((a, b) => a - b);
    const n = read(`${sys}/class/net/${p}/device/numa_node`);
    if (n !== undefined) portNuma[p] = Number(n);
  }
  let usable = false;
  if (existsSync('/dev/kvm')) {
    try {
      accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
      usable = true;
    } catch {
      usable = false;
    }
  }
  const cs = read(`${sys}/devices/system/clocksource/clocksource0/current_clocksource`);
  return {
    ...(cs ? { clocksource: cs } : {}),
    availableClocksources: (read(`${sys}/devices/system/clocksource/clocksource0/available_clocksource`) ?? '').split(/\s+/).filter(Boolean),
    governors,
    ...(boost !== undefined ? { boost } : {}),
    isolated: cpuList(read(`${cpuDir}/isolated`)),
    nohzFull: cpuList(read(`${cpuDir}/nohz_full`)),
    pmdCpus: o.pmdCpus,
    generatorCpus: o.generatorCpus,
    hugepages: { total: mi('HugePages_Total'), free: mi('HugePages_Free'), sizeKb: mi('Hugepagesize') || 2048 },
    ...(thpRaw ? { thp: /\[(\w+)\]/.exec(thpRaw)?.[1] ?? thpRaw } : {}),
    portIrqs,
    kvm: { present: existsSync('/dev/kvm'), usable, ...(o.kvmProbe ? { probe: o.kvmProbe } : {}) },
    ...(o.steal ? { steal: o.steal } : {}),
    numaNodes: safeList(`${sys}/devices/system/node`).filter((x) => /^node\d+$/.test(x)).length,
    portNuma,
  };
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Steal time of the whole host over `seconds` (% of CPU time). */
export async function measureSteal(seconds: number, proc = '/proc'): Promise<{ pct: number; overS: number }> {
  const total = (): { steal: number; all: number } => {
    const { cpus } = parseProcStat(read(`${proc}/stat`) ?? '');
    let steal = 0;
    let all = 0;
    for (const c of cpus.values()) {
      steal += c.steal;
      all += c.busy + c.idle + c.steal;
    }
    return { steal, all };
  };
  const a = total();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const b = total();
  const d = b.all - a.all;
  return { pct: d > 0 ? Math.round(((b.steal - a.steal) / d) * 10000) / 100 : 0, overS: seconds };
}

/** One line per check, for the terminal. */
export function formatChecks(checks: readonly HostCheck[]): string {
  const w = Math.max(...checks.map((c) => c.name.length));
  return checks.map((c) => `${c.status.toUpperCase().padEnd(4)}  ${c.name.padEnd(w)}  ${c.detail}${c.fix ? ` — ${c.fix}` : ''}`).join('\n');
}

/** The KVM probe's cached verdict (vnfs/qemu writes it), as one phrase, or undefined. */
export function kvmProbeVerdict(guestDir: string): string | undefined {
  const raw = read(join(guestDir, 'kvm-probe.json'));
  if (!raw) return undefined;
  try {
    const j = JSON.parse(raw) as { usable?: boolean; ok?: boolean; reason?: string };
    if (j.usable === false || j.ok === false) return j.reason ?? 'a KVM guest did not boot here (cached probe)';
  } catch {
    return undefined;
  }
  return undefined;
}
