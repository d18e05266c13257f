/**
 * CPU use per process (and per thread group, e.g. OVS PMD threads) sampled from /proc while trials
 * run: VSPERF's pidstat collector without the pidstat binary. Processes are named by comm or argv[0]
 * basename (vswitchd, qemu-system-x86_64, vsg-engine…) or given by pid; names are re-resolved at every
 * sample, so a process that starts after the collector is still picked up.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { basename } from 'node:path';

export interface CpuSample {
  /** ms since the collector started. */
  readonly tMs: number;
  readonly pid: number;
  readonly name: string;
  /** CPU use of the whole process over the last interval (% of one CPU; > 100 with several busy threads). */
  readonly cpuPct: number;
  /** Per thread group (thread comm with digits stripped; OVS `pmd-c01/id:3` → `pmd`) (% of one CPU). */
  readonly threads: Readonly<Record<string, number>>;
}

export interface ProcessCpu {
  readonly pid: number;
  readonly name: string;
  readonly avgPct: number;
  readonly maxPct: number;
  readonly samples: number;
  readonly threads: Readonly<Record<string, { avgPct: number; maxPct: number }>>;
}

export interface CollectorResult {
  readonly intervalMs: number;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly samples: CpuSample[];
  readonly summary: ProcessCpu[];
}

export interface Collector {
  /** Take a last sample, stop, and return everything sampled. Idempotent. */
  stop(): Promise<CollectorResult>;
  /** Samples so far (for live displays). */
  readonly samples: readonly CpuSample[];
}

let clkTck: number | undefined;
export function clockTicks(): number {
  if (clkTck === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(r.stdout?.trim());
    clkTck = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return clkTck;
}

/** utime + stime (ticks) and comm from /proc/<path>/stat, or undefined when gone. */
export function readStat(path: string): { ticks: number; comm: string } | undefined {
  let s: string;
  try {
    s = readFileSync(`${path}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const open = s.indexOf('(');
  const close = s.lastIndexOf(')');
  const comm = s.slice(open + 1, close);
  const rest = s.slice(close + 2).split(' ');
  // Fields after comm start at field 3 (state); utime is field 14, stime field 15.
  const ticks = Number(rest[11]) + Number(rest[12]);
  return Number.isFinite(ticks) ? { ticks, comm } : undefined;
}

export function threadGroup(comm: string): string {
  if (/^pmd/i.test(comm)) return 'pmd';
  return comm.replace(/[\s\-_/:#.]*\d+.*$/, '') || comm;
}

function argv0(pid: number): string | undefined {
  try {
    const c = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const a = c.split('\0')[0];
    return a ? basename(a) : undefined;
  } catch {
    return undefined;
  }
}

/** Pids whose comm (15 chars) or argv[0] basename equals one of `names`. */
export function findPids(names: readonly string[]): Map<number, string> {
  const out = new Map<number, string>();
  if (!names.length) return out;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    let comm: string;
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    const a0 = argv0(pid);
    const hit = names.find((n) => comm === n.slice(0, 15) || a0 === n);
    if (hit) out.set(pid, hit);
  }
  return out;
}

export interface CollectorOptions {
  /** Sampling interval (ms), default 1000 (VSPERF PIDSTAT_SAMPLE_INTERVAL = 1 s). */
  readonly intervalMs?: number;
  /** Also sample each thread (PMD threads…). Default true. */
  readonly threads?: boolean;
}

/** Start sampling the given pids and/or process names. */
export function startCollector(targets: readonly (number | string)[], opts: CollectorOptions = {}): Collector {
  const intervalMs = Math.max(50, opts.intervalMs ?? 1000);
  const withThreads = opts.threads !== false;
  const pids = targets.filter((t): t is number => typeof t === 'number');
  const names = targets.filter((t): t is string => typeof t === 'string');
  const hz = clockTicks();
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const samples: CpuSample[] = [];
  const prev = new Map<number, { t: number; ticks: number; threads: Map<number, number> }>();
  const labels = new Map<number, string>();

  const tick = (): void => {
    const now = performance.now();
    const current = new Map<number, string>(findPids(names));
    for (const p of pids) current.set(p, labels.get(p) ?? readStat(`/proc/${p}`)?.comm ?? String(p));
    for (const [pid, name] of current) {
      labels.set(pid, name);
      const st = readStat(`/proc/${pid}`);
      if (!st) {
        prev.delete(pid);
        continue;
      }
      const thr = new Map<number, number>();
      const thrComm = new Map<number, string>();
      if (withThreads) {
        let tids: string[] = [];
        try {
          tids = readdirSync(`/proc/${pid}/task`);
        } catch {
          /* gone */
        }
        for (const t of tids) {
          const ts = readStat(`/proc/${pid}/task/${t}`);
          if (ts) {
            thr.set(Number(t), ts.ticks);
            thrComm.set(Number(t), ts.comm);
          }
        }
      }
      const p = prev.get(pid);
      if (p && now > p.t) {
        const dt = (now - p.t) / 1000;
        const pct = (ticks: number): number => Math.max(0, (ticks / hz / dt) * 100);
        const groups: Record<string, number> = {};
        for (const [tid, ticks] of thr) {
          const before = p.threads.get(tid);
          if (before === undefined) continue;
          const g = threadGroup(thrComm.get(tid) ?? '');
          groups[g] = (groups[g] ?? 0) + pct(ticks - before);
        }
        for (const g of Object.keys(groups)) groups[g] = Math.round(groups[g]! * 10) / 10;
        samples.push({ tMs: Math.round(now - t0), pid, name, cpuPct: Math.round(pct(st.ticks - p.ticks) * 10) / 10, threads: groups });
      }
      prev.set(pid, { t: now, ticks: st.ticks, threads: thr });
    }
  };

  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  let result: CollectorResult | undefined;
  return {
    samples,
    async stop(): Promise<CollectorResult> {
      if (result) return result;
      clearInterval(timer);
      tick();
      result = { intervalMs, startedAt, durationMs: Math.round(performance.now() - t0), samples, summary: summarize(samples) };
      return result;
    },
  };
}

export function summarize(samples: readonly CpuSample[]): ProcessCpu[] {
  const by = new Map<number, CpuSample[]>();
  for (const s of samples) by.set(s.pid, [...(by.get(s.pid) ?? []), s]);
  const out: ProcessCpu[] = [];
  for (const [pid, list] of by) {
    const threads: Record<string, { avgPct: number; maxPct: number }> = {};
    const groups = new Set(list.flatMap((s) => Object.keys(s.threads)));
    for (const g of groups) {
      const v = list.map((s) => s.threads[g] ?? 0);
      threads[g] = { avgPct: round1(v.reduce((a, b) => a + b, 0) / v.length), maxPct: Math.max(...v) };
    }
    const v = list.map((s) => s.cpuPct);
    out.push({ pid, name: list[0]!.name, avgPct: round1(v.reduce((a, b) => a + b, 0) / v.length), maxPct: Math.max(...v), samples: list.length, threads });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name) || a.pid - b.pid);
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
