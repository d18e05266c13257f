import { expect } from 'chai';
import fc from 'fast-check';
import { VsperfBinarySearch, type BinarySearchConfig } from '../../../../framework/methodology/binary-search.js';
import { isDone, type Search, type TrialRequest } from '../../../../framework/methodology/types.js';
import { outcome } from './helpers.js';
import { SimulatedDut } from '../../../../trafficgen/simulated/dut.js';

const LINE = 1_000_000;
const base: BinarySearchConfig = {
  lineRateFps: LINE,
  maxRateFps: LINE,
  lossRatePct: 0,
  startPct: 100,
  durationS: 30,
  thresholdPct: 0.05,
  lossVerification: false,
  maxRepeat: 0,
  verification: false,
  verificationS: 60,
  maxVerificationTrials: 10,
};

/** Drive a search against a loss function of the rate; returns the requests made. */
function drive<R>(s: Search<R>, loss: (req: TrialRequest, i: number) => number, limitedAt?: number): { result: R; reqs: TrialRequest[] } {
  const reqs: TrialRequest[] = [];
  for (let step = s.next(); ; step = s.next()) {
    if (isDone(step)) return { result: step.result, reqs };
    reqs.push(step);
    if (reqs.length > 500) throw new Error('search does not end');
    s.record(step, outcome(step, loss(step, reqs.length - 1), limitedAt !== undefined ? { limitedAt } : {}));
  }
}

const cliff =
  (capFps: number) =>
  (req: TrialRequest): number =>
    req.rateFps > capFps ? 1 - capFps / req.rateFps : 0;

describe('VsperfBinarySearch (VSPERF RFC 2544 throughput)', () => {
  it('starts at TRAFFIC.frame_rate and stops at once on exactly zero loss there', () => {
    const { result, reqs } = drive(new VsperfBinarySearch({ ...base, startPct: 80 }), () => 0);
    expect(reqs).to.have.length(1);
    expect(reqs[0]!.rateFps).to.equal(0.8 * LINE);
    expect(reqs[0]!.durationS).to.equal(30);
    expect(result.status).to.equal('passed-at-start');
    expect(result.bestPct).to.equal(80);
  });

  it('passes the start rate with loss ≤ lossrate through the normal path (the early exit needs exactly zero loss)', () => {
    const { reqs, result } = drive(new VsperfBinarySearch({ ...base, lossRatePct: 1 }), () => 0.001);
    expect(reqs).to.have.length(1);
    expect(result.status).to.equal('ok');
    expect(result.bestPct).to.equal(100);
    expect(result.best!.result.lossPct).to.be.closeTo(0.1, 1e-9);
  });

  it('runs 12 trials when the first one fails (threshold 0.05 % points)', () => {
    const { reqs, result } = drive(new VsperfBinarySearch(base), cliff(0.4 * LINE));
    expect(reqs).to.have.length(12);
    expect(result.bestPct).to.be.at.most(40);
    expect(40 - result.bestPct).to.be.at.most(0.05);
    expect(result.steps.map((s) => s.pass)).to.include(true);
  });

  it('stops with an empty result when the DUT forwards nothing (rx = 0), as VSPERF does', () => {
    const { reqs, result } = drive(new VsperfBinarySearch(base), () => 1);
    expect(reqs).to.have.length(1);
    expect(result.status).to.equal('no-rx');
    expect(result.best).to.equal(undefined);
    expect(result.message).to.match(/forwarded no frames/);
  });

  it('reports no passing rate when loss stays above the loss rate', () => {
    const { result } = drive(new VsperfBinarySearch(base), () => 0.5);
    expect(result.status).to.equal('no-passing-rate');
    expect(result.best).to.equal(undefined);
  });

  it('repeats a failing rate MAX_REPEAT times with loss verification before lowering it', () => {
    // The first trial at 50 % fails by a loss spike, the repeat passes.
    const spikeOnce = new Set<number>();
    const { reqs, result } = drive(new VsperfBinarySearch({ ...base, lossVerification: true, maxRepeat: 2 }), (req, i) => {
      if (req.rateFps === 0.5 * LINE && !spikeOnce.has(i) && spikeOnce.size === 0) {
        spikeOnce.add(i);
        return 0.01;
      }
      return cliff(0.6 * LINE)(req);
    });
    const at50 = reqs.filter((r) => r.rateFps === 0.5 * LINE);
    expect(at50).to.have.length(2);
    expect(at50[1]!.purpose).to.match(/loss-verify 1\/2/);
    expect(result.bestPct).to.be.greaterThan(59.9);
    // 100 % fails three times (1 + 2 repeats) before the rate is lowered.
    expect(reqs.filter((r) => r.rateFps === LINE)).to.have.length(3);
  });

  it('verifies the result with a long trial and searches again below it when verification fails', () => {
    let verifications = 0;
    const { reqs, result } = drive(new VsperfBinarySearch({ ...base, verification: true, verificationS: 60 }), (req) => {
      if (req.purpose === 'verify') return verifications++ === 0 ? 0.001 : 0;
      return cliff(0.4 * LINE)(req);
    });
    const v = reqs.filter((r) => r.purpose === 'verify');
    expect(v).to.have.length(2);
    expect(v[0]!.durationS).to.equal(60);
    expect(v[1]!.rateFps).to.be.lessThan(v[0]!.rateFps - (0.05 * LINE) / 100 + 1e-6);
    expect(result.best!.request.purpose).to.equal('verify');
    expect(result.status).to.equal('ok');
  });

  it('gives up verification after MAXIMUM_VERIFICATION_TRIALS and says so', () => {
    const { reqs, result } = drive(new VsperfBinarySearch({ ...base, verification: true, maxVerificationTrials: 2 }), (req) =>
      req.purpose === 'verify' ? 0.01 : cliff(0.4 * LINE)(req),
    );
    expect(reqs.filter((r) => r.purpose === 'verify')).to.have.length(2);
    expect(result.status).to.equal('unverified');
  });

  it('caps the upper bound at the generator maximum and says so', () => {
    const { reqs, result } = drive(new VsperfBinarySearch({ ...base, maxRateFps: 0.3 * LINE }), () => 0);
    expect(reqs[0]!.rateFps).to.be.closeTo(0.3 * LINE, 1e-6);
    expect(result.message).to.match(/generator maximum/);
  });

  it('never counts a generator-limited trial as DUT loss: lowers its ceiling and re-tests', () => {
    const { reqs, result } = drive(new VsperfBinarySearch(base), cliff(0.9 * LINE), 0.25 * LINE);
    expect(result.status).to.equal('generator-limited');
    expect(result.best).to.not.equal(undefined);
    // The DUT is fine up to 90 %: the reported rate is the generator's ceiling, not a DUT failure.
    expect(result.bestPct).to.be.closeTo(24.75, 0.01);
    expect(result.message).to.match(/lower bound of the DUT's throughput/);
    expect(reqs.length).to.be.lessThan(5);
  });

  it('property: for any monotone DUT the true capacity lies in [best, best + threshold]', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.5, max: 99.5, noNaN: true }),
        fc.constantFrom(0.05, 0.5, 1),
        fc.constantFrom('cliff', 'soft'),
        (capPct, threshold, kind) => {
          const cap = (capPct / 100) * LINE;
          const loss =
            kind === 'cliff' ? cliff(cap) : (req: TrialRequest) => (req.rateFps > cap ? Math.min(0.99, 0.01 + (req.rateFps - cap) / req.rateFps) : 0);
          const { result } = drive(new VsperfBinarySearch({ ...base, thresholdPct: threshold }), loss);
          expect(result.bestPct).to.be.at.most(capPct + 1e-9);
          expect(capPct - result.bestPct).to.be.at.most(threshold + 1e-9);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('property: on noisy DUTs it converges inside the noise band (±noise around the capacity)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.double({ min: 1, max: 95, noNaN: true }), fc.constantFrom(0.001, 0.01, 0.05), (seed, capPct, noise) => {
        const dut = new SimulatedDut({ capacityFps: (capPct / 100) * LINE, noise, seed });
        const { result, reqs } = drive(new VsperfBinarySearch(base), (req) => {
          const tx = Math.round(req.rateFps * 30);
          return dut.trialLoss(req.rateFps, 30, tx).lost / tx;
        });
        expect(reqs.length).to.be.at.most(12);
        expect(result.bestPct).to.be.within(capPct * (1 - noise) - 0.05, capPct * (1 + noise) + 1e-9);
      }),
      { numRuns: 150 },
    );
  });
});
