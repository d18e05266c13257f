/**
 * What runs next to a testcase besides traffic: the load generator (LOADGEN), the CPU collector
 * (COLLECTOR / PIDSTAT_MONITOR) and cyclictest (CYCLICTEST_ENABLED). For the runner: two calls,
 *   const extras = await startTestcaseExtras(ctx);      // after deployment setup, before traffic
 *   details = { ...details, ...(await extras.stop()) }; // after the methodology (also on failure)
 * Everything is spawned through ctx.host, so teardown and the janitor cover it too.
 */
import { errorMessage } from '../errors.js';
import type { DriverContext, LoadGenerator } from '../api/driver.js';
import type { Json } from '../config/settings.js';
import { startCollector, type Collector, type CollectorResult } from './proc-stat.js';
import { runCyclictest, type CyclictestResult } from './cyclictest.js';

export interface ExtrasDetails {
  cpu?: CollectorResult;
  loadgen?: { name: string; argv?: readonly string[] };
  cyclictest?: CyclictestResult | { error: string };
}

export interface TestcaseExtras {
  /** Stop everything; returns what to merge into the testcase's details. Idempotent. */
  stop(): Promise<ExtrasDetails>;
}

export async function startTestcaseExtras(ctx: DriverContext): Promise<TestcaseExtras> {
  const s = ctx.settings;
  const loadgenName = String(s.getOr('LOADGEN', 'DummyLoadGen'));
  let loadgen: LoadGenerator | undefined;
  if (loadgenName && !/^(DummyLoadGen|none)$/i.test(loadgenName)) {
    loadgen = await ctx.create('loadgen', loadgenName);
    await loadgen.start();
  }
  let collector: Collector | undefined;
  if (String(s.getOr('COLLECTOR', 'ProcStat')) !== 'none') {
    const names = s.getOr('PIDSTAT_MONITOR', []) as unknown[];
    const intervalS = Number(s.getOr('PIDSTAT_SAMPLE_INTERVAL', 1));
    collector = startCollector(names.map(String), { intervalMs: intervalS * 1000 });
  }
  let cyclic: Promise<CyclictestResult | { error: string }> | undefined;
  if (s.getOr<Json>('CYCLICTEST_ENABLED', false) === true) {
    cyclic = runCyclictest(ctx.host, {
      durationS: Number(s.getOr('CYCLICTEST_DURATION_S', 10)),
      priority: Number(s.getOr('CYCLICTEST_PRIORITY', 99)),
      intervalUs: Number(s.getOr('CYCLICTEST_INTERVAL_US', 1000)),
      threads: Number(s.getOr('CYCLICTEST_THREADS', 1)),
      histogramUs: Number(s.getOr('CYCLICTEST_HISTOGRAM_US', 100)),
    }).catch((e: unknown) => ({ error: errorMessage(e) }));
  }
  let done: ExtrasDetails | undefined;
  return {
    async stop(): Promise<ExtrasDetails> {
      if (done) return done;
      const out: ExtrasDetails = {};
      if (collector) out.cpu = await collector.stop();
      if (loadgen) {
        await loadgen.stop();
        out.loadgen = { name: loadgen.name, ...('argv' in loadgen ? { argv: (loadgen as { argv: readonly string[] }).argv } : {}) };
      }
      if (cyclic) out.cyclictest = await cyclic;
      done = out;
      return out;
    },
  };
}
