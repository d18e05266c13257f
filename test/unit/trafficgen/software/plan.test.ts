import { expect } from 'chai';
import { DriverError } from '../../../../framework/errors.js';
import { buildPlan, checkTrial, frameSizesOf, minFrameSize, type PlanPort } from '../../../../trafficgen/software/plan.js';
import type { StreamSpec, TrialSpec } from '../../../../framework/api/trafficgen.js';
import { basicStream } from '../../../../framework/api/example-spec.js';

const stream: StreamSpec = basicStream();
const ports: PlanPort[] = [
  { name: 'vsg0', netns: 'ns', speedMbps: 10_000, mtuFound: 1500 },
  { name: 'vsg1', netns: 'ns', speedMbps: 10_000, mtuFound: 1500 },
];
const trial = (over: Partial<TrialSpec> = {}): TrialSpec => ({
  stream,
  bidir: false,
  rate: { unit: 'fps', value: 1000 },
  latency: true,
  durationS: 2,
  ...over,
});
const opts = { backend: 'auto' as const, drainS: 1, progressMs: 250, learningFps: 1000 };

describe('software/plan', () => {
  it('puts frameSize − 4 bytes on the wire (the FCS is not sent on a veth)', () => {
    const { plan, offeredFps } = buildPlan(trial(), ports, opts);
    expect(plan.streams).to.have.length(1);
    expect(plan.streams[0]!.sizes).to.deep.equal([60]);
    expect(plan.streams[0]!).to.include({ txPort: 0, rxPort: 1, rateFps: 1000, vary: 'none', flows: 1 });
    expect(offeredFps).to.equal(1000);
    expect(plan.ports.map((p) => p.name)).to.deep.equal(['vsg0', 'vsg1']);
  });

  it('TX bursts (txBurst, txBurstWaitUs) go to an engine whose ports are all DPDK devices (its polling loops) only', () => {
    const burst = { ...opts, txBurst: 16, txBurstWaitUs: 20 };
    expect(buildPlan(trial(), ports, burst).plan).to.not.have.any.keys('txBurst', 'txBurstWaitUs');
    const mixed: PlanPort[] = [{ ...ports[0]!, backend: 'dpdk' }, ports[1]!];
    expect(buildPlan(trial(), mixed, burst).plan, 'a port mix runs on threads').to.not.have.any.keys('txBurst', 'txBurstWaitUs');
    const dpdkPorts: PlanPort[] = ports.map((p, i) => ({ ...p, backend: 'dpdk', devargs: `net_null${i}` }));
    expect(buildPlan(trial(), dpdkPorts, burst).plan).to.include({ txBurst: 16, txBurstWaitUs: 20 });
    expect(buildPlan(trial(), ports, { ...burst, backend: 'dpdk' }).plan).to.include({ txBurst: 16, txBurstWaitUs: 20 });
  });

  it('swaps addresses and ports for the reverse direction of a bidirectional trial', () => {
    const { plan } = buildPlan(trial({ bidir: true }), ports, opts);
    const [f, r] = plan.streams;
    expect([r!.txPort, r!.rxPort, r!.srcMac, r!.dstMac, r!.srcIp, r!.dstIp, r!.srcPort, r!.dstPort]).to.deep.equal([
      1,
      0,
      f!.dstMac,
      f!.srcMac,
      f!.dstIp,
      f!.srcIp,
      3001,
      3000,
    ]);
  });

  it('maps multistream and stream_type to the varied field, and % of line rate to fps', () => {
    const { plan, offeredFps } = buildPlan(
      trial({ stream: { ...stream, multistream: 1024, streamType: 'L3' }, rate: { unit: 'pct', value: 50 } }),
      ports,
      opts,
    );
    expect(plan.streams[0]).to.include({ flows: 1024, vary: 'l3' });
    expect(offeredFps).to.be.closeTo(14_880_952.38 / 2, 0.01);
  });

  it('expands an IMIX genome into the wire sizes of one period', () => {
    expect(frameSizesOf({ ...stream, imixGenome: 'aag' })).to.deep.equal([64, 64, 1518]);
    expect(buildPlan(trial({ stream: { ...stream, imixGenome: 'aag' } }), ports, opts).plan.streams[0]!.sizes).to.deep.equal([60, 60, 1514]);
    expect(() => frameSizesOf({ ...stream, imixGenome: 'az' })).to.throw(DriverError, /letter 'z'/);
  });

  it('rejects a frame larger than the port MTU, naming the port and both MTUs', () => {
    expect(() => checkTrial(trial({ stream: { ...stream, frameSize: 1522 } }), ports)).to.throw(
      DriverError,
      /frame size 1522 B is larger than port vsg0 allows: it needs MTU 1504, the interface has MTU 1500/,
    );
    // a VLAN tag does not count against the MTU
    expect(() => checkTrial(trial({ stream: { ...stream, frameSize: 1522, vlan: { enabled: true, id: 5, priority: 0, cfi: 0 } } }), ports)).to.not.throw();
  });

  it('rejects a rate above the line rate and frames too small for headers + trailer', () => {
    expect(() => checkTrial(trial({ rate: { unit: 'fps', value: 15_000_000 } }), ports)).to.throw(DriverError, /above the line rate of 14880952 fps/);
    expect(() => checkTrial(trial({ rate: { unit: 'pct', value: 100 } }), ports)).to.not.throw();
    const v6 = { ...stream, l3: { ...stream.l3, version: 6 as const, srcIp: 'fd00::1', dstIp: 'fd00::2' } };
    expect(minFrameSize(v6)).to.equal(80);
    expect(() => checkTrial(trial({ stream: v6 }), ports)).to.throw(DriverError, /below the minimum of 80 B/);
    expect(minFrameSize({ ...stream, vlan: { enabled: true, id: 1, priority: 0, cfi: 0 } })).to.equal(64);
  });

  it('rejects inconsistent trial bounds and bidirectional trials on one port', () => {
    expect(() => checkTrial(trial({ frames: 10 }), ports)).to.throw(DriverError, /exactly one of durationS and frames/);
    expect(() => checkTrial(trial({ durationS: 0 }), ports)).to.throw(DriverError, /durationS must be > 0/);
    expect(() => checkTrial(trial({ bidir: true }), ports.slice(0, 1))).to.throw(DriverError, /two ports/);
    expect(() => checkTrial(trial(), [])).to.throw(DriverError, /not connected/);
  });

  it('sends and receives on the same port when only one port is given', () => {
    const { plan } = buildPlan(trial(), ports.slice(0, 1), opts);
    expect(plan.streams[0]).to.include({ txPort: 0, rxPort: 0 });
    expect(plan.ports).to.have.length(1);
  });
});

import { parseRate, specFromOptions } from '../../../../trafficgen/software/cli.js';

describe('vsperf-gen options', () => {
  it('parses rates as fps (with k/M) or percent of line rate', () => {
    expect(parseRate('10000')).to.deep.equal({ unit: 'fps', value: 10000 });
    expect(parseRate('250k')).to.deep.equal({ unit: 'fps', value: 250000 });
    expect(parseRate('1.5M')).to.deep.equal({ unit: 'fps', value: 1500000 });
    expect(parseRate('50%')).to.deep.equal({ unit: 'pct', value: 50 });
    expect(() => parseRate('fast')).to.throw(/frames per second/);
  });

  it('turns options into a trial spec', () => {
    const s = specFromOptions({
      interface: 'a',
      frameSize: 128,
      rate: { unit: 'fps', value: 5 },
      speedMbps: 10000,
      backend: 'auto',
      bidir: false,
      multistream: 8,
      streamType: 'l3',
      vlan: 7,
      ipv6: true,
      drain: 1,
      histogram: false,
      progress: false,
      frames: 10,
    });
    expect(s.frames).to.equal(10);
    expect(s.durationS).to.equal(undefined);
    expect(s.stream).to.deep.include({ frameSize: 128, multistream: 8, streamType: 'L3' });
    expect(s.stream.vlan).to.include({ enabled: true, id: 7 });
    expect(s.stream.l3.version).to.equal(6);
  });
});
