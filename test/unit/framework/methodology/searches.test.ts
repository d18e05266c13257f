import { expect } from 'chai';
import fc from 'fast-check';
import { B2bSearch } from '../../../../framework/methodology/back2back.js';
import { ProbeSearch, probeMacs } from '../../../../framework/methodology/rfc2889.js';
import { RangeSearch } from '../../../../framework/methodology/range-search.js';
import { isDone, type Search, type TrialRequest } from '../../../../framework/methodology/types.js';
import { outcome } from './helpers.js';

function drive<R>(s: Search<R>, loss: (r: TrialRequest) => number, limitedAt?: number): { result: R; reqs: TrialRequest[] } {
  const reqs: TrialRequest[] = [];
  for (let step = s.next(); ; step = s.next()) {
    if (isDone(step)) return { result: step.result, reqs };
    reqs.push(step);
    if (reqs.length > 1000) throw new Error('no end');
    s.record(step, outcome(step, loss(step), limitedAt !== undefined ? { limitedAt } : {}));
  }
}

describe('B2bSearch (back-to-back)', () => {
  it('property: finds the longest loss-free burst within its precision', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40_000_000 }), fc.constantFrom(0, 0.1, 1), (limit, precisionPct) => {
        const max = 50_000_000;
        const { result } = drive(new B2bSearch({ rateFps: 1e7, maxFrames: max, lossRatePct: 0, precisionPct }), (r) =>
          r.frames! > limit ? Math.max(0.01, 1 / r.frames!) : 0,
        );
        expect(result.frames).to.be.at.most(limit);
        expect(limit - result.frames).to.be.at.most(Math.max(1, (result.frames * precisionPct) / 100));
        expect(result.status).to.equal('ok');
      }),
      { numRuns: 100 },
    );
  });

  it('no loss at the longest burst ends after one trial; loss at one frame gives 0 with the reason', () => {
    expect(drive(new B2bSearch({ rateFps: 1e6, maxFrames: 3e7, lossRatePct: 0, precisionPct: 0.1 }), () => 0).result).to.include({
      frames: 3e7,
      status: 'no-loss-at-max',
    });
    expect(drive(new B2bSearch({ rateFps: 1e6, maxFrames: 3e7, lossRatePct: 0, precisionPct: 0.1 }), () => 1).result).to.include({
      frames: 0,
      status: 'no-passing-burst',
    });
  });

  it('stops with generator-limited when the generator cannot send back-to-back', () => {
    const { result, reqs } = drive(new B2bSearch({ rateFps: 1e6, maxFrames: 3e7, lossRatePct: 0, precisionPct: 0.1 }), () => 0, 5e5);
    expect(reqs).to.have.length(1);
    expect(result.status).to.equal('generator-limited');
  });
});

describe('ProbeSearch (RFC 2889 learning/caching)', () => {
  const probe = (v: number): readonly [TrialRequest, TrialRequest] => [
    { rateFps: 1000, frames: Math.round(v), purpose: 'learn' },
    { rateFps: 1000, frames: Math.round(v), purpose: 'test' },
  ];
  it('property: the largest passing value is within the resolution; learning trial loss is ignored', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 65536 }), (cap) => {
        const { result, reqs } = drive(new ProbeSearch({ min: 1000, max: 65536, resolution: 1, integer: true, lossRatePct: 0, probe }), (r) =>
          r.purpose === 'learn' ? 1 : r.frames! > cap ? 0.1 : 0,
        );
        expect(reqs.filter((r) => r.purpose === 'learn')).to.have.length(reqs.length / 2);
        expect(result.value).to.equal(cap);
      }),
      { numRuns: 60 },
    );
  });
  it('reports max-passes and min-fails', () => {
    expect(drive(new ProbeSearch({ min: 10, max: 100, resolution: 1, integer: true, lossRatePct: 0, probe }), () => 0).result).to.include({
      value: 100,
      status: 'max-passes',
    });
    const r = drive(new ProbeSearch({ min: 10, max: 100, resolution: 1, integer: true, lossRatePct: 0, probe }), (q) => (q.purpose === 'test' ? 1 : 0)).result;
    expect(r.status).to.equal('min-fails');
    expect(r.value).to.equal(undefined);
  });
  it('uses a fresh locally administered MAC base per probe', () => {
    expect(probeMacs(1)).to.deep.equal({ srcMac: '02:00:01:00:00:00', dstMac: '06:00:01:00:00:00' });
    expect(probeMacs(300).srcMac).to.equal('02:01:2c:00:00:00');
  });
});

describe('RangeSearch (NFVbench single-pass NDR/PDR)', () => {
  it('first trial at 100 %, shares trials until the targets diverge, finds each within load_epsilon', () => {
    const line = 1e7;
    const loss = (r: TrialRequest): number => (r.rateFps <= 4e6 ? 0 : r.rateFps <= 4.2e6 ? 0.002 : 1 - 4e6 / r.rateFps);
    const { result, reqs } = drive(
      new RangeSearch({
        targets: [
          { name: 'NDR', dropPct: 0 },
          { name: 'PDR', dropPct: 0.5 },
        ],
        lineRateFps: line,
        loadEpsilonPct: 0.1,
        durationS: 60,
      }),
      loss,
    );
    expect(reqs[0]!.rateFps).to.equal(line);
    const [ndr, pdr] = result;
    expect(40 - ndr!.loadPct).to.be.within(0, 0.1);
    expect(42 - pdr!.loadPct).to.be.within(0, 0.1);
    expect(reqs.length).to.be.within(11, 22);
  });
});
