import { expect } from 'chai';
import { receiverFigures, windowBins } from '../../../../vnfs/migration/receiver.js';
import type { DirectionResult } from '../../../../framework/api/trafficgen.js';

const base = { fromPort: 0, toPort: 1, txFrames: 0, rxFrames: 0, lostFrames: 0, reordered: 0, duplicated: 0, foreign: 0, txBytes: 0, rxBytes: 0 };
const T0 = 1_700_000_000_000; // epoch ms

function dir(receiver: DirectionResult['receiver']): DirectionResult {
  return { ...base, ...(receiver ? { receiver } : {}) };
}

describe('migration figures from the receiver clock', () => {
  it('a delay (no loss): rx_gap from the receiver, outage = the silence, kind delay', () => {
    const rxFrames = new Array(3000).fill(1);
    const lat = new Array(3000).fill(100); // 0.1 ms
    for (let k = 1200; k < 1470; k++) rxFrames[k] = 0; // 270 ms silence
    rxFrames[1470] = 270; // everything held comes at once
    lat[1470] = 271_000;
    const d = dir({
      gapsMs: [
        [T0 + 1199.5, T0 + 1470.2],
        [T0 + 10, T0 + 12],
      ],
      delayedFrames: 270,
      delayThresholdNs: 1_000_000,
      bins: { t0Ms: T0, binMs: 1, rxFrames, maxLatencyUs: lat },
    });
    const f = receiverFigures([d], { startMs: T0 + 1000, endMs: T0 + 3000 }, { seqGapMs: 0, lostFrames: 0, rateFps: 1000, binsBeforeMs: 300 });
    expect(f.rxGapMs).to.be.closeTo(270.7, 1e-3);
    expect(f.outageMs).to.be.closeTo(270.7, 1e-3);
    expect(f.maxLatencyMs).to.equal(271);
    expect(f.delayedFrames).to.equal(270);
    expect(f.outageKind).to.equal('delay');
    expect(f.bins!.startMs).to.equal(T0 + 700);
    expect(f.bins!.rxFrames).to.have.length(2300);
  });

  it('loss only: outage = the sequence gap when it is longer, kind loss; both when frames were also delayed', () => {
    const d = dir({ gapsMs: [[T0 + 1500, T0 + 1531]], delayedFrames: 0, delayThresholdNs: 1e6 });
    const loss = receiverFigures([d], { startMs: T0 + 1000, endMs: T0 + 3000 }, { seqGapMs: 30, lostFrames: 30, rateFps: 1000 });
    expect(loss).to.deep.include({ rxGapMs: 31, outageMs: 31, outageKind: 'loss' });
    const both = receiverFigures(
      [dir({ gapsMs: [[T0 + 1500, T0 + 1700]], delayedFrames: 5, delayThresholdNs: 1e6 })],
      { startMs: T0 + 1000, endMs: T0 + 3000 },
      { seqGapMs: 30, lostFrames: 30, rateFps: 1000 },
    );
    expect(both).to.deep.include({ rxGapMs: 200, outageMs: 200, outageKind: 'both' });
  });

  it("a silence outside the migration window is not the migration's", () => {
    const d = dir({ gapsMs: [[T0 + 100, T0 + 400]] });
    const f = receiverFigures([d], { startMs: T0 + 1000, endMs: T0 + 3000 }, { seqGapMs: 0, lostFrames: 0, rateFps: 1000 });
    expect(f.rxGapMs).to.equal(0);
    expect(f.outageKind).to.equal('none');
  });

  it('without receiver data (another generator): the sequence gap, as before', () => {
    expect(receiverFigures([dir(undefined)], { startMs: 0, endMs: 1 }, { seqGapMs: 12, lostFrames: 12, rateFps: 1000 })).to.deep.equal({
      outageMs: 12,
      outageKind: 'loss',
    });
  });

  it('bins of two directions add frames and keep the larger latency', () => {
    const a = dir({ gapsMs: [], bins: { t0Ms: T0, binMs: 1, rxFrames: [1, 1, 1], maxLatencyUs: [10, 20, 30] } });
    const b = dir({ gapsMs: [], bins: { t0Ms: T0 + 1, binMs: 1, rxFrames: [2, 2], maxLatencyUs: [50, 5] } });
    expect(windowBins([a, b], T0, T0 + 3)).to.deep.equal({ startMs: T0, binMs: 1, rxFrames: [1, 3, 3], maxLatencyMs: [0.01, 0.05, 0.03] });
  });

  it('the longest silence against STOP and RESUME: rx_gap = STOP→RESUME + after RESUME − start vs STOP', () => {
    // The switch-over (STOP at +1015, RESUME at +1028) and a shorter stall later.
    const d = dir({
      gapsMs: [
        [T0 + 1788, T0 + 1820],
        [T0 + 1000, T0 + 1042],
      ],
    });
    const f = receiverFigures([d], { startMs: T0, endMs: T0 + 3000 }, { lostFrames: 5, rateFps: 1000, switchover: { stopMs: T0 + 1015, resumeMs: T0 + 1028 } });
    expect(f).to.deep.include({ rxGapMs: 42, silenceStartVsStopMs: -15, resumeToTrafficMs: 14 });
    expect(13 + f.resumeToTrafficMs! - f.silenceStartVsStopMs!).to.equal(f.rxGapMs);
    // The destination first forwarded what the source's rings held, then fell silent: the start is after STOP.
    const late = receiverFigures(
      [dir({ gapsMs: [[T0 + 1043, T0 + 1173]] })],
      { startMs: T0, endMs: T0 + 3000 },
      {
        lostFrames: 44,
        rateFps: 1000,
        switchover: { stopMs: T0 + 1000, resumeMs: T0 + 1032 },
      },
    );
    expect(late).to.deep.include({ silenceStartVsStopMs: 43, resumeToTrafficMs: 141 });
    // Without STOP/RESUME (or without a silence), no such figures.
    expect(receiverFigures([d], { startMs: T0, endMs: T0 + 3000 }, { lostFrames: 5, rateFps: 1000 })).to.not.have.property('resumeToTrafficMs');
  });
});
