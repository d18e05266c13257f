import type { Methodology, TrialRecord } from './context.js';
import { TrialRunner } from './trial-runner.js';
import { frameSizes } from './traffic-spec.js';
import { fpsToMbps, rateColumns, round, searchColumns } from './rows.js';
import { multiGoalOptions } from './goals.js';
import { MultiGoalSearch, targetChain, type MultiGoalResult } from './multi-goal-search.js';
import type { ResultRow } from './types.js';

/**
 * ndr_pdr: the multi-goal search (multi-goal-search.ts) with the goals of TRAFFICGEN_NDR_PDR (preset
 * `csit` by default: NDR loss 0 and PDR loss 0.5 %), one CSV row per goal and frame size with the goal,
 * its loss ratio, the relevant lower and upper bounds and the conditional throughput.
 */
export const ndrPdr: Methodology = async (ctx) => {
  const rows: ResultRow[] = [];
  const trials: TrialRecord[] = [];
  const details: Record<string, unknown>[] = [];
  const counter = { next: 0 };
  const opts = multiGoalOptions(ctx.settings);
  for (const size of frameSizes(ctx.settings)) {
    const runner = new TrialRunner(ctx, size, counter);
    await runner.learn();
    const from = runner.trials.length;
    const maxLoadFps = Math.min(runner.maxRateFps, opts.maxLoadFps ?? Infinity);
    const res: MultiGoalResult = await runner.drive(new MultiGoalSearch({ ...opts, maxLoadFps }));
    const mine = runner.trials.slice(from);
    for (const g of res.goals) {
      const lo = g.lowerBoundFps;
      // Measured figures of the longest trial at the lower bound (latency, achieved rates).
      const atLo =
        lo === undefined
          ? undefined
          : [...mine].filter((t) => t.valid && Math.abs(t.rateFps - lo) < 1e-3).sort((a, b) => (b.durationS ?? 0) - (a.durationS ?? 0))[0];
      const measured = atLo ? rateColumns(atLo.result, runner.l2FrameSize, runner.lineRateFps) : {};
      const ct = g.conditionalThroughputFps ?? 0;
      const status = [
        g.status,
        ...(res.notes.length ? res.notes : []),
        ...(runner.generatorCapped ? [`max load capped at the generator maximum ${Math.round(runner.maxRateFps)} fps`] : []),
      ].join('; ');
      rows.push({
        packet_size: size,
        goal: g.goal,
        goal_loss_ratio: g.lossRatio,
        lower_bound_fps: lo === undefined ? 0 : round(lo),
        upper_bound_fps: g.upperBoundFps === undefined ? 'Unknown' : round(g.upperBoundFps),
        conditional_throughput_fps: round(ct),
        ...measured,
        tx_rate_fps: lo === undefined ? 0 : round(lo),
        tx_rate_percent: lo === undefined ? 0 : round((lo / runner.lineRateFps) * 100),
        throughput_rx_fps: round(ct),
        throughput_rx_mbps: round(fpsToMbps(ct, runner.l2FrameSize)),
        throughput_rx_percent: round((ct / runner.lineRateFps) * 100),
        frame_loss_percent: g.pessimisticLossRatio === undefined ? 100 : round(g.pessimisticLossRatio * 100, 6),
        ...searchColumns(mine, status),
      });
    }
    details.push({
      packet_size: size,
      goals: res.goals,
      targets: opts.goals.map((g) => ({ goal: g.name, chain: targetChain(g, opts.precedingTargets) })),
      trials: res.trials,
      trial_time_s: round(res.trialTimeS),
      max_load_fps: res.maxLoadFps,
      min_load_fps: res.minLoadFps,
      ...(res.stoppedBy ? { stopped_by: res.stoppedBy } : {}),
      notes: res.notes,
    });
    ctx.log.info(
      `${size} B: ${res.goals.map((g) => `${g.goal} ${Math.round(g.conditionalThroughputFps ?? 0)} fps (${g.status})`).join(', ')} after ${res.trials} trials, ${round(res.trialTimeS)} s of traffic`,
    );
    trials.push(...runner.trials);
  }
  return { rows, trials, details: { search: 'multi-goal', goals: opts.goals, runs: details } };
};
