import type { Methodology, MethodologyContext, TrialRecord } from './context.js';
import { TrialRunner } from './trial-runner.js';
import { frameSizes } from './traffic-spec.js';
import { meanRows, rateColumns, round, searchColumns } from './rows.js';
import { binarySearchOptions } from './options.js';
import { VsperfBinarySearch, type BinarySearchResult } from './binary-search.js';
import type { ResultRow } from './types.js';

/** Status text for the CSV: 'ok' or '<status>: <message>'. */
export function statusText(r: BinarySearchResult): string {
  return r.status === 'ok' ? 'ok' : `${r.status}: ${r.message}`;
}

/** Run VSPERF's binary search once on a runner (learning is the caller's business). */
export async function runBinarySearch(ctx: MethodologyContext, runner: TrialRunner): Promise<BinarySearchResult> {
  const o = runner.options;
  return runner.drive(
    new VsperfBinarySearch({
      ...binarySearchOptions(ctx.settings),
      lineRateFps: runner.lineRateFps,
      maxRateFps: runner.maxRateFps,
      lossRatePct: o.lossRatePct,
      startPct: o.frameRatePct,
      durationS: o.durationS,
    }),
  );
}

/** The CSV row of one binary search. */
export function throughputRow(size: number, runner: TrialRunner, r: BinarySearchResult, trials: readonly TrialRecord[]): ResultRow {
  const cols = r.best
    ? rateColumns(r.best.result, runner.l2FrameSize, runner.lineRateFps)
    : { tx_rate_fps: 0, throughput_rx_fps: 0, tx_rate_mbps: 0, throughput_rx_mbps: 0, tx_rate_percent: 0, throughput_rx_percent: 0, frame_loss_percent: 100 };
  return { packet_size: size, ...cols, ...searchColumns(trials, statusText(r)) };
}

/**
 * rfc2544_throughput: for each TRAFFICGEN_PKT_SIZES entry, VSPERF's binary search (binary-search.ts),
 * repeated TRAFFICGEN_RFC2544_TESTS times (rows averaged). Reported figures are the measured rates of the
 * last passing trial, as VSPERF reports them.
 */
export const throughput: Methodology = async (ctx) => {
  const rows: ResultRow[] = [];
  const trials: TrialRecord[] = [];
  const details: Record<string, unknown>[] = [];
  const counter = { next: 0 };
  for (const size of frameSizes(ctx.settings)) {
    const runner = new TrialRunner(ctx, size, counter);
    await runner.learn();
    const reps: ResultRow[] = [];
    for (let i = 0; i < runner.options.tests; i++) {
      const from = runner.trials.length;
      const r = await runBinarySearch(ctx, runner);
      reps.push(throughputRow(size, runner, r, runner.trials.slice(from)));
      details.push({
        packet_size: size,
        test: i + 1,
        status: r.status,
        message: r.message,
        best_pct: round(r.bestPct, 6),
        bracket_pct: [round(r.leftPct, 6), round(r.rightPct, 6)],
        steps: r.steps,
      });
      ctx.log.info(`${size} B: throughput ${reps[reps.length - 1]!.throughput_rx_fps} fps (${r.status}) after ${runner.trials.length - from} trials`);
    }
    rows.push(meanRows(reps));
    trials.push(...runner.trials);
  }
  return { rows, trials, details: { search: 'vsperf-binary', runs: details } };
};
