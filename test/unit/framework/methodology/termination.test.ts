import { expect } from 'chai';
import fc from 'fast-check';
import { VsperfBinarySearch } from '../../../../framework/methodology/binary-search.js';
import { MultiGoalSearch } from '../../../../framework/methodology/multi-goal-search.js';
import { PRESETS } from '../../../../framework/methodology/goals.js';
import { B2bSearch } from '../../../../framework/methodology/back2back.js';
import { ProbeSearch } from '../../../../framework/methodology/rfc2889.js';
import { RangeSearch } from '../../../../framework/methodology/range-search.js';
import { isDone, type Search, type TrialRequest } from '../../../../framework/methodology/types.js';
import { outcome } from './helpers.js';

/** Arbitrary trial outcomes: any loss ratio, sometimes generator-limited. */
const script = fc.array(fc.record({ loss: fc.oneof(fc.constant(0), fc.constant(1), fc.double({ min: 0, max: 1, noNaN: true })), limited: fc.boolean() }), {
  minLength: 1,
  maxLength: 50,
});

function runScripted<R>(s: Search<R>, steps: Array<{ loss: number; limited: boolean }>, limit: number): { result: R; n: number } {
  let n = 0;
  for (let step = s.next(); ; step = s.next()) {
    if (isDone(step)) return { result: step.result, n };
    const x = steps[n % steps.length]!;
    n++;
    if (n > limit) throw new Error(`no end after ${limit} trials`);
    const req: TrialRequest = step;
    s.record(req, outcome(req, x.loss, x.limited ? { limitedAt: req.rateFps * 0.5 } : {}));
  }
}

describe('every search ends, whatever the trials return (random losses, generator-limited trials)', () => {
  it('VsperfBinarySearch', () => {
    fc.assert(
      fc.property(script, fc.boolean(), fc.boolean(), (steps, lv, verify) => {
        const { result } = runScripted(
          new VsperfBinarySearch({
            lineRateFps: 1e7,
            maxRateFps: 1e7,
            lossRatePct: 0.5,
            startPct: 100,
            durationS: 30,
            thresholdPct: 0.05,
            lossVerification: lv,
            maxRepeat: 2,
            verification: verify,
            verificationS: 60,
            maxVerificationTrials: 3,
          }),
          steps,
          2000,
        );
        expect(result.status).to.be.a('string');
      }),
      { numRuns: 300 },
    );
  });
  it('MultiGoalSearch (csit and rfc2544 presets)', () => {
    fc.assert(
      fc.property(script, fc.constantFrom('csit', 'rfc2544', 'tst009'), (steps, preset) => {
        const { result } = runScripted(
          new MultiGoalSearch({ ...PRESETS[preset]!, maxLoadFps: 1e7, warmupDurationS: 0, searchDurationMaxS: 0, maxTrials: 1000 }),
          steps,
          1001,
        );
        expect(result.goals).to.have.length(2);
        expect(result.stoppedBy ?? '').to.not.match(/max_trials/);
      }),
      { numRuns: 200 },
    );
  });
  it('B2bSearch, ProbeSearch, RangeSearch', () => {
    fc.assert(
      fc.property(script, (steps) => {
        runScripted(new B2bSearch({ rateFps: 1e7, maxFrames: 3e8, lossRatePct: 0, precisionPct: 0.1 }), steps, 500);
        runScripted(
          new ProbeSearch({
            min: 1000,
            max: 65536,
            resolution: 1,
            integer: true,
            lossRatePct: 0,
            probe: (v) => [
              { rateFps: 1000, frames: v },
              { rateFps: 1000, frames: v },
            ],
          }),
          steps,
          500,
        );
        runScripted(
          new RangeSearch({
            targets: [
              { name: 'NDR', dropPct: 0 },
              { name: 'PDR', dropPct: 0.5 },
            ],
            lineRateFps: 1e7,
            loadEpsilonPct: 0.1,
            durationS: 60,
          }),
          steps,
          500,
        );
      }),
      { numRuns: 200 },
    );
  });
});
