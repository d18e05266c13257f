/**
 * `npm run bench -- search`: three NDR/PDR search strategies on a fixed set of seeded simulated DUTs.
 *
 * 1. vsperf-binary-x2: VSPERF's RFC 2544 binary search twice (NDR: TRAFFICGEN_LOSSRATE 0, then PDR: 0.5 %),
 *    threshold 0.05 % points, first trial at 100 %.
 * 2. nfvbench-range: NFVbench's single-pass NDR/PDR range search on [0, 200] %, load_epsilon 0.1 % points.
 * 3. multi-goal: vsperf-ts' MLRsearch-style search, goals NDR (loss 0) and PDR (0.5 %), exceed ratio 0
 *    (same pass/fail semantics as the binary search), relative width 0.1 %, trials 1 s first, 30 s final.
 *
 * Every strategy uses 30 s full-length trials (TRAFFICGEN_DURATION). Reported per strategy: trials and
 * the sum of trial durations over all DUTs, and the mean absolute error (%) of the reported NDR and PDR
 * loads against the DUT model's true (noise-free) NDR and PDR. Writes bench/results/search.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Settings, deepMerge, type JsonObject } from '../framework/config/settings.js';
import { silentLogger } from '../framework/log/logger.js';
import { RunEvents } from '../framework/runner/events.js';
import { TrialRunner } from '../framework/methodology/trial-runner.js';
import { VsperfBinarySearch } from '../framework/methodology/binary-search.js';
import { RangeSearch } from '../framework/methodology/range-search.js';
import { MultiGoalSearch } from '../framework/methodology/multi-goal-search.js';
import { PRESETS } from '../framework/methodology/goals.js';
import { SimulatedGenerator } from '../trafficgen/simulated/driver.js';
import { SimulatedDut, type DutOptions } from '../trafficgen/simulated/dut.js';
import type { MethodologyContext } from '../framework/methodology/context.js';
import type { PortSpec } from '../framework/api/trafficgen.js';

const DURATION_S = 30;
const PDR_LOSS = 0.005;

/** The fixed DUT set: cliffs at several capacities, soft knees (NDR < PDR), noise, rare loss spikes. */
export const DUTS: ReadonlyArray<{ name: string; dut: DutOptions }> = [
  { name: 'cliff-1M', dut: { capacityFps: 1_000_000, seed: 11 } },
  { name: 'cliff-5M', dut: { capacityFps: 5_000_000, seed: 12 } },
  { name: 'cliff-12M', dut: { capacityFps: 12_000_000, seed: 13 } },
  { name: 'soft-3M', dut: { capacityFps: 3_000_000, curve: 'soft', kneeRatio: 0.95, softLossAtCapacity: 0.01, seed: 14 } },
  { name: 'soft-8M', dut: { capacityFps: 8_000_000, curve: 'soft', kneeRatio: 0.9, softLossAtCapacity: 0.02, seed: 15 } },
  { name: 'noisy-cliff-2M', dut: { capacityFps: 2_000_000, noise: 0.001, seed: 16 } },
  { name: 'noisy-soft-6M', dut: { capacityFps: 6_000_000, curve: 'soft', kneeRatio: 0.93, softLossAtCapacity: 0.01, noise: 0.001, seed: 17 } },
  { name: 'collapse-4M', dut: { capacityFps: 4_000_000, overloadCollapse: 0.3, seed: 18 } },
];

const PORTS: PortSpec[] = [
  { name: 'bench0', speedMbps: 10_000 },
  { name: 'bench1', speedMbps: 10_000 },
];

function settings(): Settings {
  let v: JsonObject = {};
  for (const f of ['03_traffic.json', '03_traffic_methodology.json']) v = deepMerge(v, JSON.parse(readFileSync(join('conf', f), 'utf8')) as JsonObject);
  return new Settings(deepMerge(v, { TRAFFICGEN_DURATION: DURATION_S, TRAFFICGEN_TREX_LEARNING_MODE: false }));
}

async function runner(dut: DutOptions): Promise<{ runner: TrialRunner; truth: { ndr: number; pdr: number } }> {
  const model = new SimulatedDut(dut);
  const gen = new SimulatedGenerator(model);
  await gen.connect(PORTS);
  const ctx: MethodologyContext = { testcase: 'bench', settings: settings(), generator: gen, ports: PORTS, log: silentLogger, signal: new AbortController().signal, events: new RunEvents() };
  const r = new TrialRunner(ctx, 64);
  return { runner: r, truth: { ndr: model.trueThroughput(0, r.lineRateFps), pdr: model.trueThroughput(PDR_LOSS, r.lineRateFps) } };
}

interface Outcome {
  trials: number;
  timeS: number;
  ndr: number;
  pdr: number;
}

async function vsperfTwice(dut: DutOptions): Promise<Outcome & { truth: { ndr: number; pdr: number } }> {
  const { runner: r, truth } = await runner(dut);
  const common = { lineRateFps: r.lineRateFps, maxRateFps: r.maxRateFps, thresholdPct: 0.05, startPct: 100, durationS: DURATION_S, lossVerification: false, maxRepeat: 0, verification: false, verificationS: 60, maxVerificationTrials: 10 };
  const ndr = await r.drive(new VsperfBinarySearch({ ...common, lossRatePct: 0 }));
  const pdr = await r.drive(new VsperfBinarySearch({ ...common, lossRatePct: PDR_LOSS * 100 }));
  return { trials: r.trials.length, timeS: r.trialTimeS(), ndr: (ndr.bestPct / 100) * r.lineRateFps, pdr: (pdr.bestPct / 100) * r.lineRateFps, truth };
}

async function nfvbench(dut: DutOptions): Promise<Outcome> {
  const { runner: r } = await runner(dut);
  const found = await r.drive(new RangeSearch({ targets: [{ name: 'NDR', dropPct: 0 }, { name: 'PDR', dropPct: PDR_LOSS * 100 }], lineRateFps: r.lineRateFps, loadEpsilonPct: 0.1, durationS: DURATION_S }));
  return { trials: r.trials.length, timeS: r.trialTimeS(), ndr: found[0]!.loadFps, pdr: found[1]!.loadFps };
}

async function multiGoal(dut: DutOptions): Promise<Outcome> {
  const { runner: r } = await runner(dut);
  const goal = { exceedRatio: 0, relativeWidth: 0.001, initialTrialDurationS: 1, finalTrialDurationS: DURATION_S, durationSumS: DURATION_S };
  const res = await r.drive(
    new MultiGoalSearch({
      goals: [{ name: 'NDR', lossRatio: 0, ...goal }, { name: 'PDR', lossRatio: PDR_LOSS, ...goal }],
      precedingTargets: 2, expansionCoefficient: 2, warmupDurationS: 0, searchDurationMaxS: 0, maxTrials: 1000, maxLoadFps: r.maxRateFps,
    }),
  );
  return { trials: r.trials.length, timeS: r.trialTimeS(), ndr: res.goals[0]!.lowerBoundFps ?? 0, pdr: res.goals[1]!.lowerBoundFps ?? 0 };
}

const errPct = (found: number, truth: number): number => (Math.abs(found - truth) / truth) * 100;
const r4 = (x: number): number => Math.round(x * 10_000) / 10_000;

async function main(): Promise<void> {
  const strategies: Array<{ name: string; run: (d: DutOptions) => Promise<Outcome> }> = [
    { name: 'vsperf-binary-x2', run: vsperfTwice },
    { name: 'nfvbench-range', run: nfvbench },
    { name: 'multi-goal', run: multiGoal },
  ];
  const truths = new Map<string, { ndr: number; pdr: number }>();
  for (const d of DUTS) truths.set(d.name, (await runner(d.dut)).truth);
  const out: Array<{ name: string; trials: number; trial_time_s: number; ndr_err_pct: number; pdr_err_pct: number }> = [];
  const t0 = performance.now();
  for (const s of strategies) {
    let trials = 0;
    let timeS = 0;
    let ndrErr = 0;
    let pdrErr = 0;
    for (const d of DUTS) {
      const o = await s.run(d.dut);
      const t = truths.get(d.name)!;
      trials += o.trials;
      timeS += o.timeS;
      ndrErr += errPct(o.ndr, t.ndr);
      pdrErr += errPct(o.pdr, t.pdr);
      console.log(`  ${s.name.padEnd(18)} ${d.name.padEnd(16)} trials ${String(o.trials).padStart(3)}  time ${o.timeS.toFixed(0).padStart(5)} s  NDR ${Math.round(o.ndr)} (true ${Math.round(t.ndr)}, err ${errPct(o.ndr, t.ndr).toFixed(3)} %)  PDR ${Math.round(o.pdr)} (true ${Math.round(t.pdr)}, err ${errPct(o.pdr, t.pdr).toFixed(3)} %)`);
    }
    out.push({ name: s.name, trials, trial_time_s: r4(timeS), ndr_err_pct: r4(ndrErr / DUTS.length), pdr_err_pct: r4(pdrErr / DUTS.length) });
  }
  const base = out.find((s) => s.name === 'vsperf-binary-x2')!;
  const ours = out.find((s) => s.name === 'multi-goal')!;
  const result = { strategies: out, time_ratio: r4(ours.trial_time_s / base.trial_time_s) };
  mkdirSync(join('bench', 'results'), { recursive: true });
  writeFileSync(join('bench', 'results', 'search.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log('\n| strategy | trials | trial time (s) | NDR error (%) | PDR error (%) |\n|---|---:|---:|---:|---:|');
  for (const s of out) console.log(`| ${s.name} | ${s.trials} | ${s.trial_time_s} | ${s.ndr_err_pct} | ${s.pdr_err_pct} |`);
  const accOk = ours.ndr_err_pct <= base.ndr_err_pct && ours.pdr_err_pct <= base.pdr_err_pct;
  console.log(`\ntime_ratio ${result.time_ratio} (goal ≤ 0.5: ${result.time_ratio <= 0.5 ? 'met' : 'NOT met'}); accuracy ${accOk ? 'same or better' : 'WORSE'} than the two binary searches; ${DUTS.length} DUTs, computed in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  await robustness();
  if (result.time_ratio > 0.5 || !accOk) process.exitCode = 1;
}

/** Console-only extra: NDR on a DUT with rare loss spikes (20 seeds), where the exceed ratio matters. */
async function robustness(): Promise<void> {
  const dut = (seed: number): DutOptions => ({ capacityFps: 4_000_000, spikeProbabilityPerS: 0.005, spikeFrames: 3, seed });
  const acc = { 'vsperf-binary (NDR)': [0, 0], 'multi-goal exceed 0': [0, 0], 'multi-goal csit preset': [0, 0] } as Record<string, [number, number]>;
  const seeds = 20;
  for (let seed = 1; seed <= seeds; seed++) {
    {
      const { runner: r } = await runner(dut(seed));
      const b = await r.drive(new VsperfBinarySearch({ lineRateFps: r.lineRateFps, maxRateFps: r.maxRateFps, thresholdPct: 0.05, startPct: 100, durationS: DURATION_S, lossVerification: false, maxRepeat: 0, verification: false, verificationS: 60, maxVerificationTrials: 10, lossRatePct: 0 }));
      acc['vsperf-binary (NDR)']![0] += errPct((b.bestPct / 100) * r.lineRateFps, 4_000_000);
      acc['vsperf-binary (NDR)']![1] += r.trialTimeS();
    }
    for (const [name, goal] of [['multi-goal exceed 0', { name: 'NDR', lossRatio: 0, exceedRatio: 0, relativeWidth: 0.001, initialTrialDurationS: 1, finalTrialDurationS: DURATION_S, durationSumS: DURATION_S }], ['multi-goal csit preset', PRESETS.csit!.goals[0]!]] as const) {
      const { runner: r } = await runner(dut(seed));
      const m = await r.drive(new MultiGoalSearch({ goals: [goal], precedingTargets: 2, expansionCoefficient: 2, warmupDurationS: 0, searchDurationMaxS: 0, maxTrials: 1000, maxLoadFps: r.maxRateFps }));
      acc[name]![0] += errPct(m.goals[0]!.lowerBoundFps ?? 0, 4_000_000);
      acc[name]![1] += r.trialTimeS();
    }
  }
  console.log(`
Robustness (not in search.json): NDR of a 4 Mfps cliff DUT with loss spikes (0.005/s, 3 frames), mean of ${seeds} seeds`);
  console.log('| strategy | NDR error (%) | trial time (s) |\n|---|---:|---:|');
  for (const [k, [e, t]] of Object.entries(acc)) console.log(`| ${k} | ${(e / seeds).toFixed(3)} | ${(t / seeds).toFixed(1)} |`);
}

await main();
