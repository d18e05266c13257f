import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MultiGoalSearch } from '../../../../framework/methodology/multi-goal-search.js';
import type { SearchGoal } from '../../../../framework/methodology/goals.js';
import { isDone } from '../../../../framework/methodology/types.js';
import { SimulatedDut, type DutOptions } from '../../../../trafficgen/simulated/dut.js';
import { outcome } from './helpers.js';

/** Recorded from FD.io CSIT's own MLRsearch by bench/oracles/record-csit.ts (same DUT models, same trial arithmetic). */
interface Fixture {
  csit_commit: string;
  cases: Array<{
    name: string;
    dut: DutOptions;
    goals: SearchGoal[];
    precedingTargets: number;
    expansionCoefficient: number;
    minLoadFps: number;
    maxLoadFps: number;
    trials: Array<[number, number]>;
    outcome: { goals?: Array<{ lower: number | null; upper: number | null; ct: number | null }>; error?: string };
  }>;
}

function fixture(): Fixture {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!d.endsWith('dist')) d = dirname(d);
  return JSON.parse(readFileSync(join(dirname(d), 'test', 'fixtures', 'csit-mlrsearch.json'), 'utf8')) as Fixture;
}

/** The search as CSIT's run was configured (no warm-up, no time limit), in CSIT's exact trials or the default's. */
function searchOf(c: Fixture['cases'][number], csitCompatible: boolean): MultiGoalSearch {
  return new MultiGoalSearch({
    goals: c.goals,
    precedingTargets: c.precedingTargets,
    expansionCoefficient: c.expansionCoefficient,
    minLoadFps: c.minLoadFps,
    maxLoadFps: c.maxLoadFps,
    warmupDurationS: 0,
    searchDurationMaxS: 0,
    maxTrials: 1000,
    ...(csitCompatible ? { csitCompatible } : {}),
  });
}

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

describe('MultiGoalSearch against FD.io CSIT MLRsearch (recorded oracle runs)', () => {
  const fx = fixture();
  it('the fixture holds cases recorded from a known CSIT commit', () => {
    expect(fx.cases.length).to.be.at.least(15);
    expect(fx.csit_commit).to.match(/^[0-9a-f]{7,40}$/);
  });
  // With 1 s trials only (the csit preset) there is nothing to probe: the default makes CSIT's trials too.
  const runs = [
    ...fx.cases.map((c) => ({ c, csitCompatible: true })),
    ...fx.cases.filter((c) => c.goals.every((g) => g.finalTrialDurationS === g.initialTrialDurationS)).map((c) => ({ c, csitCompatible: false })),
  ];
  for (const { c, csitCompatible } of runs) {
    it(`${c.name}: ${csitCompatible ? 'csit_compatible' : 'the default'} makes the same trials and finds the same bounds as CSIT's code`, () => {
      const dut = new SimulatedDut(c.dut);
      const s = searchOf(c, csitCompatible);
      const mine: Array<[number, number]> = [];
      for (let step = s.next(); ; step = s.next()) {
        if (isDone(step)) {
          expect(mine.length, 'trial count').to.equal(c.trials.length);
          if (c.outcome.error) {
            // CSIT raises "No lower bound" (fail-fast); vsperf-ts reports the same situation as irregular.
            expect(c.outcome.error).to.match(/No lower bound/);
            expect(step.result.goals.some((g) => g.status === 'irregular: min load is an upper bound')).to.equal(true);
            return;
          }
          step.result.goals.forEach((g, i) => {
            const want = c.outcome.goals![i]!;
            if (want.lower === null) expect(g.lowerBoundFps).to.equal(undefined);
            else expect(close(g.lowerBoundFps!, want.lower), `${g.goal} lower ${g.lowerBoundFps} vs ${want.lower}`).to.equal(true);
            if (want.upper === null) expect(g.upperBoundFps).to.equal(undefined);
            else expect(close(g.upperBoundFps!, want.upper), `${g.goal} upper ${g.upperBoundFps} vs ${want.upper}`).to.equal(true);
            if (want.ct !== null) expect(close(g.conditionalThroughputFps!, want.ct), `${g.goal} conditional throughput`).to.equal(true);
          });
          return;
        }
        const want = c.trials[mine.length];
        expect(want, `trial ${mine.length + 1} beyond CSIT's ${c.trials.length}`).to.not.equal(undefined);
        expect(
          close(step.rateFps, want![0]) && close(step.durationS!, want![1]),
          `trial ${mine.length + 1}: ${step.rateFps} fps ${step.durationS} s vs CSIT ${want![0]} fps ${want![1]} s`,
        ).to.equal(true);
        mine.push([step.rateFps, step.durationS!]);
        const tx = Math.max(1, Math.round(step.rateFps * step.durationS!));
        s.record(step, outcome(step, dut.trialLoss(step.rateFps, step.durationS!, tx).lost / tx));
      }
    });
  }

  // The default adds short probes (multi-goal-search.ts `probeDuration`): other trials, hence other noise
  // draws, so only noise-free, spike-free cases can be compared; on those the bounds must not move.
  const noiseFree = fx.cases.filter((x) => !x.dut.noise && !x.dut.spikeProbabilityPerS && !x.outcome.error);
  const probeTimeS = new Map<string, number>();
  for (const c of noiseFree) {
    it(`${c.name}: the default (short probes) finds CSIT's bounds and conditional throughput`, () => {
      const dut = new SimulatedDut(c.dut);
      const s = searchOf(c, false);
      let timeS = 0;
      for (let step = s.next(); ; step = s.next()) {
        if (isDone(step)) {
          step.result.goals.forEach((g, i) => {
            const want = c.outcome.goals![i]!;
            expect(g.lowerBoundFps ?? null, `${g.goal} lower`).to.satisfy((x: number | null) => (x === null ? want.lower === null : close(x, want.lower!)));
            expect(g.upperBoundFps ?? null, `${g.goal} upper`).to.satisfy((x: number | null) => (x === null ? want.upper === null : close(x, want.upper!)));
            if (want.ct !== null) expect(close(g.conditionalThroughputFps!, want.ct), `${g.goal} conditional throughput`).to.equal(true);
          });
          probeTimeS.set(c.name, timeS);
          return;
        }
        timeS += step.durationS!;
        const tx = Math.max(1, Math.round(step.rateFps * step.durationS!));
        s.record(step, outcome(step, dut.trialLoss(step.rateFps, step.durationS!, tx).lost / tx));
      }
    });
  }
  it('the default spends less trial time than CSIT over those cases', () => {
    expect(probeTimeS.size, 'cases run').to.equal(noiseFree.length);
    const csit = noiseFree.reduce((a, c) => a + c.trials.reduce((b, t) => b + t[1], 0), 0);
    const mine = [...probeTimeS.values()].reduce((a, t) => a + t, 0);
    expect(mine, `default ${mine.toFixed(1)} s vs CSIT ${csit.toFixed(1)} s`).to.be.below(0.85 * csit);
  });
});
