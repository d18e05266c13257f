/**
 * Raw readings of the host's condition from /proc and /sys: per-CPU time (steal included), the run
 * queue, and the CPU time of every process, tagged as ours (this process and its descendants: the
 * vSwitch, the guests and the generator engine are all spawned by the run) or someone else's.
 * Two snapshots taken around a trial give what happened during it (conditions.ts).
 */
import { readFileSync, readdirSync } from 'node:fs';

export interface CpuTimes {
  /** Busy ticks (user + nice + system + irq + softirq), idle ticks (idle + iowait), steal ticks. */
  readonly busy: number;
  readonly idle: number;
  readonly steal: number;
}

export interface ProcTimes {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
  /** utime + stime of the whole process (ticks). */
  readonly ticks: number;
  /** Start time (ticks since boot): tells a reused pid apart. */
  readonly start?: number;
}

export interface HostSnapshot {
  readonly tMs: number;
  /** Per CPU number. */
  readonly cpus: ReadonlyMap<number, CpuTimes>;
  /** Runnable tasks (procs_running of /proc/stat), this reader included. */
  readonly running: number;
  readonly procs: readonly ProcTimes[];
}

/** Parse /proc/stat: per-CPU times and procs_running. */
export function parseProcStat(text: string): { cpus: Map<number, CpuTimes>; running: number } {
  const cpus = new Map<number, CpuTimes>();
  let running = 0;
  for (const line of text.split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (m) {
      const f = m[2]!.trim().split(/\s+/).map(Number);
      const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
      cpus.set(Number(m[1]), { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal });
      continue;
    }
    const r = /^procs_running\s+(\d+)/.exec(line);
    if (r) running = Number(r[1]);
  }
  return { cpus, running };
}

/** Parse one /proc/<pid>/stat line (comm may hold spaces and parentheses). */
export function parsePidStat(text: string): ProcTimes | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  const ticks = Number(rest[11]) + Number(rest[12]);
  if (!Number.isFinite(ticks)) return undefined;
  const start = Number(rest[19]);
  return {
    pid: Number(text.slice(0, open).trim()),
    ppid: Number(rest[1]),
    comm: text.slice(open + 1, close),
    ticks,
    ...(Number.isFinite(start) ? { start } : {}),
  };
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Every process's CPU time now. */
export function readProcs(root = '/proc'): ProcTimes[] {
  const out: ProcTimes[] = [];
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return out;
  }
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    const t = read(`${root}/${n}/stat`);
    const p = t === undefined ? undefined : parsePidStat(t);
    if (p) out.push(p);
  }
  return out;
}

export function snapshot(root = '/proc'): HostSnapshot {
  const { cpus, running } = parseProcStat(read(`${root}/stat`) ?? '');
  return { tMs: performance.now(), cpus, running, procs: readProcs(root) };
}

/** Runnable tasks now (cheap: one read of /proc/stat). */
export function runningNow(root = '/proc'): number {
  return parseProcStat(read(`${root}/stat`) ?? '').running;
}

/** pids descended from `root` (itself included), from a ppid table. */
export function descendants(procs: readonly ProcTimes[], root: number): Set<number> {
  const children = new Map<number, number[]>();
  for (const p of procs) {
    const list = children.get(p.ppid);
    if (list) list.push(p.pid);
    else children.set(p.ppid, [p.pid]);
  }
  const out = new Set<number>([root]);
  const stack = [root];
  while (stack.length) {
    for (const c of children.get(stack.pop()!) ?? []) {
      if (out.has(c)) continue;
      out.add(c);
      stack.push(c);
    }
  }
  return out;
}

/** Per-thread CPU time of a process (ticks by thread id), for "is the engine's TX thread saturated". */
export function threadTicks(pid: number, root = '/proc'): Map<number, { comm: string; ticks: number }> {
  const out = new Map<number, { comm: string; ticks: number }>();
  let tids: string[];
  try {
    tids = readdirSync(`${root}/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tids) {
    const s = read(`${root}/${pid}/task/${t}/stat`);
    const p = s === undefined ? undefined : parsePidStat(s);
    if (p) out.set(Number(t), { comm: p.comm, ticks: p.ticks });
  }
  return out;
}

/** The kernel's clocksource (tsc, kvm-clock, hpet…), or undefined when unreadable. */
export function clocksource(sys = '/sys'): string | undefined {
  return read(`${sys}/devices/system/clocksource/clocksource0/current_clocksource`)?.trim() || undefined;
}

/** Direct children of a process (all its threads' children), cheap enough to read several times a second. */
export function childrenOf(pid: number, root = '/proc'): number[] {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = readdirSync(`${root}/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tids) for (const c of (read(`${root}/${pid}/task/${t}/children`) ?? '').split(' ')) if (/^\d+$/.test(c)) out.push(Number(c));
  return out;
}

/** comm of a process, or undefined when gone. */
export function commOf(pid: number, root = '/proc'): string | undefined {
  return read(`${root}/${pid}/comm`)?.trim();
}
