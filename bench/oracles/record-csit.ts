/**
 * Records FD.io CSIT's MLRsearch on fixed simulated DUTs into test/fixtures/csit-mlrsearch.json, which
 * test/unit/framework/methodology/csit-parity.test.ts replays against vsperf-ts' search (same trial
 * sequence, same bounds). Run by hand with CSIT's code at hand (never in CI, never committed):
 *   CSIT_MLRSEARCH=<csit>/resources/libraries/python CSIT_COMMIT=<hash> node dist/bench/oracles/record-csit.js
 * Trials are unidirectional: tx = max(1, round(load × duration)), lost = SimulatedDut.trialLoss.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimulatedDut, type DutOptions } from '../../trafficgen/simulated/dut.js';
import { PRESETS, type SearchGoal } from '../../framework/methodology/goals.js';
import { csitDir, csitSearch, type CsitConfig, type CsitGoal } from './csit.js';

const LINE_64 = 10_000e6 / (84 * 8);
const bench = (lossRatio: number, name: string, relativeWidth = 0.001): SearchGoal => ({
  name,
  lossRatio,
  exceedRatio: 0,
  relativeWidth,
  initialTrialDurationS: 1,
  finalTrialDurationS: 30,
  durationSumS: 30,
});
const BENCH_GOALS = [bench(0, 'NDR'), bench(0.005, 'PDR')];
const PUBLISHED = [bench(0, 'NDR', 0.005), bench(0.005, 'PDR', 0.005)];
const CSIT = [...PRESETS.csit!.goals];

interface Case extends CsitConfig {
  readonly name: string;
  readonly dut: DutOptions;
}

const base = { precedingTargets: 2, expansionCoefficient: 2 };
const CASES: Case[] = [
  ...[
    ['cliff-1M', { capacityFps: 1_000_000, seed: 11 }],
    ['cliff-5M', { capacityFps: 5_000_000, seed: 12 }],
    ['cliff-12M', { capacityFps: 12_000_000, seed: 13 }],
    ['soft-3M', { capacityFps: 3_000_000, curve: 'soft', kneeRatio: 0.95, softLossAtCapacity: 0.01, seed: 14 }],
    ['soft-8M', { capacityFps: 8_000_000, curve: 'soft', kneeRatio: 0.9, softLossAtCapacity: 0.02, seed: 15 }],
    ['noisy-cliff-2M', { capacityFps: 2_000_000, noise: 0.001, seed: 16 }],
    ['noisy-soft-6M', { capacityFps: 6_000_000, curve: 'soft', kneeRatio: 0.93, softLossAtCapacity: 0.01, noise: 0.001, seed: 17 }],
    ['collapse-4M', { capacityFps: 4_000_000, overloadCollapse: 0.3, seed: 18 }],
    ['above-line-rate', { capacityFps: 20_000_000, seed: 19 }],
    ['drops-all', { capacityFps: 1e-3, seed: 20 }],
  ].map(([name, dut]) => ({
    name: `bench goals, ${name as string}`,
    dut: dut as DutOptions,
    goals: BENCH_GOALS,
    ...base,
    minLoadFps: LINE_64 / 1000,
    maxLoadFps: LINE_64,
  })),
  ...[9001, 18_750, 100_000].map((min) => ({
    name: `published example settings, min load ${min}`,
    dut: { capacityFps: 5.3e6, curve: 'soft' as const, kneeRatio: 5.125 / 5.3, softLossAtCapacity: 0.02, noise: 0.001, seed: 3 },
    goals: PUBLISHED,
    ...base,
    minLoadFps: min,
    maxLoadFps: 18.75e6,
  })),
  ...[
    ['spikes-4M', { capacityFps: 4_000_000, spikeProbabilityPerS: 0.02, spikeFrames: 3, seed: 7 }],
    ['noisy-soft-6M', { capacityFps: 6_000_000, curve: 'soft', kneeRatio: 0.93, softLossAtCapacity: 0.01, noise: 0.003, seed: 21 }],
    ['noisy-cliff-300k', { capacityFps: 300_000, noise: 0.01, seed: 22 }],
  ].map(([name, dut]) => ({ name: `csit preset, ${name as string}`, dut: dut as DutOptions, goals: CSIT, ...base, minLoadFps: 9001, maxLoadFps: LINE_64 })),
  {
    name: 'goals of different widths (NDR 0.5 %, PDR 0.1 %), expansion 3',
    dut: { capacityFps: 7_000_000, curve: 'soft', kneeRatio: 0.9, softLossAtCapacity: 0.02, seed: 23 },
    goals: [bench(0, 'NDR', 0.005), bench(0.005, 'PDR', 0.001)],
    precedingTargets: 3,
    expansionCoefficient: 3,
    minLoadFps: 9001,
    maxLoadFps: LINE_64,
  },
];

async function main(): Promise<void> {
  const dir = csitDir();
  if (!dir) throw new Error('set CSIT_MLRSEARCH to the resources/libraries/python directory of an FDio/csit checkout');
  const out: Array<Case & { trials: Array<[number, number]>; outcome: { goals?: CsitGoal[]; error?: string } }> = [];
  for (const c of CASES) {
    const dut = new SimulatedDut(c.dut);
    const trials: Array<[number, number]> = [];
    const outcome = await csitSearch(dir, c, async (load, d) => {
      trials.push([load, d]);
      const tx = Math.max(1, Math.round(load * d));
      return { tx, rx: tx - dut.trialLoss(load, d, tx).lost };
    });
    out.push({ ...c, trials, outcome });
    console.log(`${c.name}: ${trials.length} trials`);
  }
  const doc = { generated_by: 'bench/oracles/record-csit.ts', csit_commit: process.env.CSIT_COMMIT ?? 'unknown', cases: out };
  writeFileSync(join('test', 'fixtures', 'csit-mlrsearch.json'), `${JSON.stringify(doc, null, 1)}\n`);
}

await main();
