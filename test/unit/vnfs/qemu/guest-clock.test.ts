import { expect } from 'chai';
import { bestReading, clockStep, hostNowMs, parseClockReply } from '../../../../vnfs/qemu/guest-clock.js';
import { clockAcrossMigration } from '../../../../vnfs/migration/guest-clock.js';

describe('vnfs/qemu guest clock (query on ttyS1)', () => {
  it('parses the responder reply for its own query id only, nanoseconds kept', () => {
    expect(parseClockReply('T q7 1796606397.026906029 1\r', 'q7')).to.deep.equal({ guestMs: 1796606397000 + 26.906029, resolutionNs: 1 });
    expect(parseClockReply('T q6 1796606397.026906029 1', 'q7')).to.equal(undefined); // a late reply to an earlier query
    expect(parseClockReply('T q7 1796606397.0269 1', 'q7')).to.equal(undefined); // not 9 digits
    expect(parseClockReply('[  12.3] serial8250: too much work', 'q7')).to.equal(undefined);
  });

  it('offset = guest − midpoint of the sample with the smallest round trip; uncertainty = half of it + resolution', () => {
    const samples = [
      { t0Ms: 1000, t1Ms: 1010, guestMs: 1505, resolutionNs: 1 }, // rtt 10
      { t0Ms: 2000, t1Ms: 2001.4, guestMs: 2500.9, resolutionNs: 1_000_000 }, // rtt 1.4: kept
      { t0Ms: 3000, t1Ms: 3003, guestMs: 3501, resolutionNs: 1 },
    ];
    const r = bestReading(samples, 4)!;
    expect(r.rttMs).to.be.closeTo(1.4, 1e-9);
    expect(r.offsetMs).to.be.closeTo(2500.9 - 2000.7, 1e-9);
    expect(r.uncertaintyMs).to.be.closeTo(0.7 + 1, 1e-9);
    expect(r).to.include({ samples: 3, sent: 4 });
    expect(bestReading([])).to.equal(undefined);
  });

  it('the step across a migration is after − before, its uncertainty the sum; a missing reading is evidence, not a failure', () => {
    const before = bestReading([{ t0Ms: 0, t1Ms: 1, guestMs: 400.5, resolutionNs: 1 }])!; // offset 400, ±0.5
    const after = bestReading([{ t0Ms: 5000, t1Ms: 5002, guestMs: 5366, resolutionNs: 1 }])!; // offset 365, ±1
    const s = clockStep(before, after);
    expect(s.stepMs).to.be.closeTo(-35, 1e-9);
    expect(s.uncertaintyMs).to.be.closeTo(1.5, 1e-5);
    const c = clockAcrossMigration(before, after);
    expect(c.fields).to.deep.include({ guestClockOffsetBeforeMs: before.offsetMs, guestClockOffsetAfterMs: after.offsetMs });
    expect(c.fields.guestClockStepMs).to.be.closeTo(-35, 1e-9);
    expect(c.evidence).to.deep.equal(s);
    const miss = clockAcrossMigration(before, { error: 'no answer' });
    expect(miss.fields).to.deep.equal({ guestClockOffsetBeforeMs: before.offsetMs });
    expect(miss.evidence).to.deep.equal({ error: 'after the migration: no answer' });
  });

  it('host clock: CLOCK_REALTIME-based epoch ms with sub-millisecond resolution', () => {
    const a = hostNowMs();
    expect(Math.abs(a - Date.now())).to.be.below(50);
    expect(hostNowMs()).to.be.at.least(a);
  });
});
