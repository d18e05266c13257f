/**
 * cyclictest (rt-tests) as in the seed's KVM4NFV latency tests: timer wake-up latency of the host
 * while a testcase runs. Spawned through Host; its histogram and summary lines are parsed.
 */
import type { Host } from '../host/host.js';
import { ProcessError } from '../errors.js';

export interface CyclictestOptions {
  readonly durationS: number;
  readonly priority?: number;
  readonly intervalUs?: number;
  readonly threads?: number;
  /** Histogram range (µs); 0 = no histogram. */
  readonly histogramUs?: number;
  readonly bin?: string;
}

export interface CyclictestResult {
  readonly minUs: number;
  readonly avgUs: number;
  readonly maxUs: number;
  readonly samples: number;
  readonly overflows: number;
  /** 1 µs buckets from 0: counts summed over threads. */
  readonly histogram: { lowerUs: number[]; counts: number[] };
  readonly argv: string[];
}

export function cyclictestArgv(o: CyclictestOptions): string[] {
  const argv = [
    o.bin ?? 'cyclictest',
    '-q',
    '-m',
    '-p',
    String(o.priority ?? 99),
    '-i',
    String(o.intervalUs ?? 1000),
    `--threads=${o.threads ?? 1}`,
    `--duration=${Math.max(1, Math.round(o.durationS))}`,
  ];
  argv.push(`--histogram=${o.histogramUs ?? 100}`);
  return argv;
}

/** Parse cyclictest -q -h output ("# Min Latencies: 00005 …" lines plus "NNNNNN c1 c2…" buckets). */
export function parseCyclictest(out: string, argv: string[] = []): CyclictestResult {
  const nums = (label: string): number[] => {
    const m = new RegExp(`^# ${label}:\\s*(.*)$`, 'm').exec(out);
    return m ? m[1]!.trim().split(/\s+/).map(Number).filter(Number.isFinite) : [];
  };
  const min = nums('Min Latencies');
  const avg = nums('Avg Latencies');
  const max = nums('Max Latencies');
  const over = nums('Histogram Overflows');
  const total = nums('Total');
  const lowerUs: number[] = [];
  const counts: number[] = [];
  for (const line of out.split('\n')) {
    const m = /^(\d{6})\s+(.*)$/.exec(line);
    if (!m) continue;
    lowerUs.push(Number(m[1]));
    counts.push(
      m[2]!
        .trim()
        .split(/\s+/)
        .map(Number)
        .reduce((a, b) => a + b, 0),
    );
  }
  if (!min.length || !max.length) throw new ProcessError(argv, 0, `no latency summary in cyclictest output: ${out.slice(-300)}`);
  const samples = total.length ? total.reduce((a, b) => a + b, 0) : counts.reduce((a, b) => a + b, 0);
  // Trim trailing empty buckets.
  let end = counts.length;
  while (end > 0 && counts[end - 1] === 0) end--;
  return {
    minUs: Math.min(...min),
    avgUs: avg.length ? avg.reduce((a, b) => a + b, 0) / avg.length : NaN,
    maxUs: Math.max(...max),
    samples,
    overflows: over.reduce((a, b) => a + b, 0),
    histogram: { lowerUs: lowerUs.slice(0, end), counts: counts.slice(0, end) },
    argv,
  };
}

/** Run cyclictest to completion (tracked by Host, so an abort or crash does not leave it running). */
export async function runCyclictest(host: Host, o: CyclictestOptions): Promise<CyclictestResult> {
  const argv = cyclictestArgv(o);
  const child = await host.spawn(argv, { label: 'stop cyclictest', tailChars: 1 << 20 });
  const st = await child.waitExit();
  if (st.code !== 0) throw new ProcessError(argv, st.code, child.tail(5), st.signal);
  return parseCyclictest(child.tail(100_000), argv);
}
