import { expect } from 'chai';
import fc from 'fast-check';
import { mergeHistograms, percentileNs, trialResultOf } from '../../../../trafficgen/software/results.js';
import { parseEngineLine, type EngineResult } from '../../../../trafficgen/software/protocol.js';
import { RESULT } from './protocol.test.js';

const result = (): EngineResult => parseEngineLine(JSON.stringify(RESULT)) as EngineResult;

describe('software/results', () => {
  it('counts loss as tx − distinct rx, keeps duplicates and reordering apart, and foreign per receiving port', () => {
    const r = trialResultOf(result(), { offeredFps: 1000, wallS: 2.5 });
    expect(r).to.include({
      txFrames: 1000,
      rxFrames: 1000,
      duplicated: 10,
      reordered: 5,
      lostFrames: 10,
      foreign: 3,
      wallS: 2.5,
      durationS: 1,
      generatorLimited: false,
    });
    expect(r.lossPct).to.be.closeTo(1, 1e-12);
    expect(r.rxFps).to.equal(990);
    expect(r.maxGapMs).to.equal(4);
    expect(r.info).to.include({ backend: 'af_packet', engineVersion: '0.3.0', port1Backend: 'af_packet' });
    expect(r.directions[0]).to.include({ fromPort: 0, toPort: 1 });
  });

  it("dpdk loops: the busiest loop's busy share and the frames a full TX queue dropped go into info", () => {
    const e = result();
    const looped: EngineResult = {
      ...e,
      streams: [{ ...e.streams[0]!, tx_full_drops: 7 }],
      loops: [
        { cpu: 0, busy_pct: 12.5 },
        { cpu: 1, busy_pct: 61.2 },
      ],
    };
    expect(trialResultOf(looped, { offeredFps: 1000, wallS: 1 }).info).to.include({ generatorBusyPct: 61.2, txFullDrops: 7 });
    expect(trialResultOf(e, { offeredFps: 1000, wallS: 1 }).info).to.not.have.any.keys('generatorBusyPct', 'txFullDrops');
  });

  it('dpdk loops: the TX pacing the trial was sent with goes into info; kernel backends have none', () => {
    const e = result();
    const looped: EngineResult = { ...e, loops: [{ cpu: 0, busy_pct: 40 }] };
    const pacing = { txBurst: 32, txBurstWaitUs: 50 };
    expect(trialResultOf(looped, { offeredFps: 1000, wallS: 1, txPacing: pacing }).info).to.include({ txBurst: 32, txBurstWaitUs: 50 });
    expect(trialResultOf(looped, { offeredFps: 1000, wallS: 1, txPacing: { txBurst: 1, txBurstWaitUs: 0 } }).info).to.include({ txBurst: 1, txBurstWaitUs: 0 });
    // The thread model (kernel ports) does not pace in bursts: no claim about it.
    expect(trialResultOf(e, { offeredFps: 1000, wallS: 1, txPacing: pacing }).info).to.not.have.any.keys('txBurst', 'txBurstWaitUs');
  });

  it('flags a trial as generator-limited below 99.5 % of the offered rate', () => {
    const e = result();
    const slow: EngineResult = { ...e, streams: [{ ...e.streams[0]!, achieved_fps: 994 }] };
    expect(trialResultOf(slow, { offeredFps: 1000, wallS: 1 }).generatorLimited).to.equal(true);
    const ok: EngineResult = { ...e, streams: [{ ...e.streams[0]!, achieved_fps: 995.5 }] };
    expect(trialResultOf(ok, { offeredFps: 1000, wallS: 1 }).generatorLimited).to.equal(false);
  });

  it('flags a trial as generator-limited when the engine itself dropped received frames', () => {
    const e = result();
    const dropped: EngineResult = { ...e, ports: [e.ports[0]!, { ...e.ports[1]!, rx_ring_drops: 12 }] };
    const r = trialResultOf(dropped, { offeredFps: 1000, wallS: 1 });
    expect(r.generatorLimited).to.equal(true);
    expect(r.info).to.include({ rxRingDrops: 12, generatorLimitedBy: 'rx-ring-drops' });
  });

  it('gives latency min/avg/max, a histogram summing to the samples, and percentiles from the buckets', () => {
    const lat = trialResultOf(result(), { offeredFps: 1000, wallS: 1 }).latency!;
    expect(lat).to.include({ minNs: 1000, avgNs: 1500, maxNs: 4000, samples: 1000 });
    expect(lat.histogram!.counts.reduce((a, b) => a + b, 0)).to.equal(1000);
    expect(lat.percentilesNs).to.deep.equal({ p50: 1000, p90: 1984, p99: 3968, 'p99.9': 3968, 'p99.99': 3968 });
  });

  it('merges histograms bucket by bucket', () => {
    expect(
      mergeHistograms([
        { lowerNs: [10, 20], counts: [1, 2] },
        { lowerNs: [5, 20], counts: [3, 4] },
      ]),
    ).to.deep.equal({ lowerNs: [5, 10, 20], counts: [3, 1, 6] });
  });

  it('percentiles are monotonic in q and stay within [min, max]', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 1, max: 1000 })), { minLength: 1, maxLength: 30 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (buckets, q1, q2) => {
          const h = mergeHistograms([{ lowerNs: buckets.map((b) => b[0]), counts: buckets.map((b) => b[1]) }]);
          const min = h.lowerNs[0]!;
          const max = h.lowerNs.at(-1)! * 1.1;
          const [a, b] = q1 <= q2 ? [q1, q2] : [q2, q1];
          const pa = percentileNs(h, a, min, max);
          const pb = percentileNs(h, b, min, max);
          return pa <= pb && pa >= min && pb <= max;
        },
      ),
    );
  });
});
