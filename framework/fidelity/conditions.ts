/**
 * What the host was doing while a trial ran, measured (not guessed) from two /proc snapshots around it
 * plus run-queue samples during it: steal time and busy time of the relevant CPUs, the run queue, CPU
 * time of processes that are not ours, other measurement processes on the host, the generator engine's
 * busiest thread, and the clocksource. verdict.ts turns this into a validity verdict.
 */
import { clockTicks } from '../collectors/proc-stat.js';
import { GENERATOR_BUSY_INFO, type TrialResult } from '../api/trafficgen.js';
import { childrenOf, clocksource, commOf, descendants, runningNow, snapshot, threadTicks, type HostSnapshot, type ProcTimes } from './host-sample.js';

/** Thread names of the Software generator's polling loops (dpdk backend): busy by design, see withGeneratorBusy. */
export const POLL_THREAD_PREFIX = 'vsg-poll';

/** Process names of traffic generators and load generators: running outside this run, they share the host. */
export const MEASUREMENT_COMMS = [
  'ovs-vswitchd',
  'qemu-system-x86',
  'vsg-engine',
  'dpdk-testpmd',
  'testpmd',
  't-rex-64',
  '_t-rex-64',
  'pktgen',
  'iperf3',
  'iperf',
  'netperf',
  'netserver',
  'stress-ng',
  'moongen',
  'trafgen',
  'vsperf',
  'cyclictest',
];

/** Load generators: never counted as this run's own CPU, even when this run started them. */
export const LOAD_COMMS = ['stress-ng', 'stress'];

export interface OtherProcess {
  readonly pid: number;
  readonly comm: string;
  /** % of one CPU over the trial. */
  readonly cpuPct: number;
}

export interface TrialConditions {
  readonly wallS: number;
  /** CPUs the measurement depends on (generator, PMD, guests); all CPUs when not pinned. */
  readonly cpus: readonly number[];
  /** Largest steal time over the relevant CPUs (% of the interval). */
  readonly stealPct: number;
  /** Busy time per relevant CPU (% of the interval). */
  readonly busyPct: Readonly<Record<string, number>>;
  /** Mean and max runnable tasks per CPU of the host (procs_running / CPUs), sampled during the trial. */
  readonly runQueuePerCpu: number;
  readonly runQueueMaxPerCpu: number;
  /** CPU time of processes outside this run (% of one CPU, whole host: an unpinned process runs anywhere). */
  readonly otherCpuPct: number;
  /** The busiest of them. */
  readonly otherTop: readonly OtherProcess[];
  /** Generator or load processes on the host during the trial: outside this run, or a load generator of ours. */
  readonly coLocated: readonly OtherProcess[];
  /** Busiest thread of the generator engine of this run (% of one CPU), when one ran. */
  readonly generatorThreadMaxPct?: number;
  readonly clocksource?: string;
}

export interface ConditionsProbe {
  /** Start measuring; the returned function ends the measurement. */
  start(): () => TrialConditions;
}

export interface ProbeOptions {
  /** Relevant CPUs; empty = every CPU. */
  readonly cpus?: readonly number[];
  /** The run's root process (default: this process). */
  readonly rootPid?: number;
  /** Run-queue sampling interval (ms). */
  readonly sampleMs?: number;
  readonly procRoot?: string;
  readonly sysRoot?: string;
}

function ticksByPid(procs: readonly ProcTimes[]): Map<number, ProcTimes> {
  return new Map(procs.map((p) => [p.pid, p]));
}

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

/** Conditions between two snapshots (pure). `ours` = pids of this run at the end. */
export function conditionsBetween(
  a: HostSnapshot,
  b: HostSnapshot,
  o: { cpus: readonly number[]; ours: ReadonlySet<number>; runQueue: readonly number[]; hz: number; generatorThreadMaxPct?: number; clocksource?: string },
): TrialConditions {
  const wallS = Math.max(1e-3, (b.tMs - a.tMs) / 1000);
  const cpus = o.cpus.length ? o.cpus : [...b.cpus.keys()].sort((x, y) => x - y);
  let stealPct = 0;
  const busyPct: Record<string, number> = {};
  for (const c of cpus) {
    const x = a.cpus.get(c);
    const y = b.cpus.get(c);
    if (!x || !y) continue;
    const total = y.busy - x.busy + (y.idle - x.idle) + (y.steal - x.steal);
    if (total <= 0) continue;
    stealPct = Math.max(stealPct, ((y.steal - x.steal) / total) * 100);
    busyPct[String(c)] = round(((y.busy - x.busy) / total) * 100, 1);
  }
  const before = ticksByPid(a.procs);
  const others: OtherProcess[] = [];
  const coLocated: OtherProcess[] = [];
  let otherTicks = 0;
  for (const p of b.procs) {
    // Kernel threads (children of kthreadd) cannot be attributed: on a veth testbed they carry our own
    // frames. Their load still shows in the run queue and the CPU's busy time.
    if (p.pid === 2 || p.ppid === 2) continue;
    const prev = before.get(p.pid);
    const same = prev && (prev.start !== undefined && p.start !== undefined ? prev.start === p.start : prev.comm === p.comm);
    const d = same ? p.ticks - prev.ticks : p.ticks;
    const cpuPct = round((d / o.hz / wallS) * 100, 1);
    // A load generator started by this run is load on the host all the same (stress-ng workers are
    // named stress-ng-cpu, stress-ng-vm…).
    const load = LOAD_COMMS.some((c) => p.comm === c || p.comm.startsWith(`${c}-`));
    const ours = o.ours.has(p.pid) && !load;
    const measuring = load || MEASUREMENT_COMMS.includes(p.comm);
    // A load generator is co-located even when this run started it; our own generator engine is not.
    if (measuring && !ours) coLocated.push({ pid: p.pid, comm: p.comm, cpuPct });
    if (ours || d <= 0) continue;
    otherTicks += d;
    others.push({ pid: p.pid, comm: p.comm, cpuPct });
  }
  const ncpu = Math.max(1, b.cpus.size);
  const rq = o.runQueue.length ? o.runQueue : [b.running];
  return {
    wallS: round(wallS, 3),
    cpus,
    stealPct: round(stealPct),
    busyPct,
    runQueuePerCpu: round(rq.reduce((s, x) => s + x, 0) / rq.length / ncpu),
    runQueueMaxPerCpu: round(Math.max(...rq) / ncpu),
    otherCpuPct: round((otherTicks / o.hz / wallS) * 100, 1),
    otherTop: others.sort((x, y) => y.cpuPct - x.cpuPct).slice(0, 3),
    coLocated: dedupe(coLocated),
    ...(o.generatorThreadMaxPct !== undefined ? { generatorThreadMaxPct: o.generatorThreadMaxPct } : {}),
    ...(o.clocksource ? { clocksource: o.clocksource } : {}),
  };
}

function dedupe(list: OtherProcess[]): OtherProcess[] {
  const seen = new Set<number>();
  return list.filter((p) => (seen.has(p.pid) ? false : (seen.add(p.pid), true)));
}

/**
 * Busiest thread of this run's generator engines (% of one CPU). An engine lives for one trial and is gone
 * when the trial ends, so its threads are read at every sample while it runs (it is a direct child).
 */
class EngineWatch {
  private readonly last = new Map<number, { tMs: number; ticks: number }>();
  private readonly first = new Map<number, { tMs: number; ticks: number }>();
  constructor(
    private readonly rootPid: number,
    private readonly root: string,
    private readonly hz: number,
  ) {}

  sample(): void {
    const now = performance.now();
    for (const pid of childrenOf(this.rootPid, this.root)) {
      if (commOf(pid, this.root) !== 'vsg-engine') continue;
      for (const [tid, t] of threadTicks(pid, this.root)) {
        if (t.comm.startsWith(POLL_THREAD_PREFIX)) continue;
        const key = pid * 1e7 + tid;
        if (!this.first.has(key)) this.first.set(key, { tMs: now, ticks: t.ticks });
        this.last.set(key, { tMs: now, ticks: t.ticks });
      }
    }
  }

  maxPct(): number | undefined {
    let max: number | undefined;
    for (const [k, b] of this.last) {
      const a = this.first.get(k)!;
      const s = (b.tMs - a.tMs) / 1000;
      if (s < 0.15) continue;
      max = Math.max(max ?? 0, ((b.ticks - a.ticks) / this.hz / s) * 100);
    }
    return max === undefined ? undefined : round(Math.min(100, max), 1);
  }
}

/**
 * A busy-polling generator reports its own busy share (GENERATOR_BUSY_INFO): it stands for its polling
 * threads, which the probe leaves out (they spin at 100 % by design), next to its other threads' CPU time.
 */
export function withGeneratorBusy(c: TrialConditions | undefined, r: Pick<TrialResult, 'info'>): TrialConditions | undefined {
  const busy = r.info?.[GENERATOR_BUSY_INFO];
  if (!c || typeof busy !== 'number') return c;
  return { ...c, generatorThreadMaxPct: round(Math.max(busy, c.generatorThreadMaxPct ?? 0), 1) };
}

/** The probe on this host. */
export function hostConditionsProbe(opts: ProbeOptions = {}): ConditionsProbe {
  const root = opts.procRoot ?? '/proc';
  const rootPid = opts.rootPid ?? process.pid;
  const hz = clockTicks();
  return {
    start() {
      const a = snapshot(root);
      const runQueue: number[] = [];
      const engine = new EngineWatch(rootPid, root, hz);
      // procs_running counts this reader too; the sampler runs on the event loop, between trial I/O.
      const timer = setInterval(() => {
        runQueue.push(Math.max(0, runningNow(root) - 1));
        engine.sample();
      }, opts.sampleMs ?? 200);
      timer.unref();
      return () => {
        clearInterval(timer);
        const b = snapshot(root);
        const ours = descendants([...a.procs, ...b.procs], rootPid);
        const gen = engine.maxPct();
        const cs = clocksource(opts.sysRoot);
        return conditionsBetween(a, b, {
          cpus: opts.cpus ?? [],
          ours,
          runQueue,
          hz,
          ...(gen !== undefined ? { generatorThreadMaxPct: gen } : {}),
          ...(cs ? { clocksource: cs } : {}),
        });
      };
    },
  };
}
