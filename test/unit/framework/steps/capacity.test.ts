import { expect } from 'chai';
import { capacityShortfall, describeShortfall, type RowEvidence } from '../../../../framework/steps/capacity.js';
import type { MacroContext } from '../../../../framework/steps/macros.js';
import type { PyValue } from '../../../../framework/steps/pyvalue.js';

const LINE_64 = 14880952; // 10 Gb/s of 64 B frames
const mbps = (fps: number): number => (fps * 64 * 8) / 1e6;
function row(txFps: number, rxFps: number): Record<string, PyValue> {
  return {
    packet_size: 64,
    tx_rate_fps: txFps,
    throughput_rx_fps: rxFps,
    tx_rate_mbps: mbps(txFps),
    throughput_rx_mbps: mbps(rxFps),
    tx_rate_percent: (txFps / LINE_64) * 100,
    throughput_rx_percent: (rxFps / LINE_64) * 100,
  };
}
/** The steps so far: a get_results whose first row is `r`. */
const ctx = (r: Record<string, PyValue>): MacroContext => ({ results: [[r]], aliases: new Map(), setting: () => undefined });
const ev = (e: Partial<RowEvidence>): RowEvidence => ({
  frameSize: 64,
  requestedFps: LINE_64,
  offeredFps: 293518,
  txFrames: 8805528,
  policerDrops: 0,
  vnfDrops: 0,
  ...e,
});

// VSPERF's 01b checks, as ovsdpdk_qos_p2p and ovsdpdk_rate_p2p write them after macro expansion of the settings.
const QOS_46MBS = 'abs(1-float(#STEP[-1][0]["throughput_rx_mbps"])*1000000*(1-18/float(#STEP[-1][0]["packet_size"]))/float(46000000*8))*100 < 5';
const RATE_10000 = 'abs(1-float(#STEP[-1][0]["throughput_rx_mbps"])*1000*(1-18/float(#STEP[-1][0]["packet_size"]))/float(10000))*100 < 5';
const NO_POLICER = 'int(#STEP[-1][0]["throughput_rx_mbps"])>500';

describe('steps/capacity: a failing check the sandbox could not carry', () => {
  it('a 46 MB/s egress policer needs ~1 Mfps of 64 B frames; a generator that offered 293.5 kfps cannot show it', () => {
    const r = row(293458, 293000);
    const s = capacityShortfall(QOS_46MBS, ctx(r), (x) => (x === r ? ev({}) : undefined));
    expect(s).to.deep.include({ limitedBy: 'generator', carriedFps: 293518, requestedFps: LINE_64, rxFps: 293000, frameSize: 64 });
    // policer meters 46 of 64 B: 46e6 B/s = 1e6 fps; 5 % below it is the lowest passing rate
    expect(s!.neededFps).to.be.closeTo(950000, 2);
    expect(describeShortfall(s!)).to.equal(
      "the sandbox's generator offered at most 293518 fps of 64 B frames where the testcase asks for 14880952 fps; the check needs ≥ 950000 fps received (got 293000)",
    );
  });

  it('with no policer, rx > 500 Mb/s needs 978 kfps of 64 B frames', () => {
    const r = row(293458, 279600);
    const s = capacityShortfall(NO_POLICER, ctx(r), (x) => (x === r ? ev({}) : undefined));
    expect(s!.neededFps).to.be.closeTo(978516, 2); // int(Mb/s) > 500: 501 Mb/s
  });

  it('a policer that was not applied still fails: the check needs less than was received', () => {
    const r = row(293458, 293000); // 10000 kbit/s should have let ~27 kfps through
    expect(capacityShortfall(RATE_10000, ctx(r), (x) => (x === r ? ev({}) : undefined))).to.equal(undefined);
  });

  it('a policer that dropped frames below what the check needs is the switch, not the sandbox', () => {
    const r = row(293458, 120000); // e.g. a rate 8 times too low
    expect(capacityShortfall(QOS_46MBS, ctx(r), (x) => (x === r ? ev({ policerDrops: 5_200_000 }) : undefined))).to.equal(undefined);
    // a switch that does not count its policers' drops cannot be cleared either
    expect(capacityShortfall(QOS_46MBS, ctx(r), (x) => (x === r ? ev({ policerDrops: undefined }) : undefined))).to.equal(undefined);
  });

  it("policer drops below what the check needs stay the switch's, also on a busy sandbox", () => {
    // ovsdpdk_qos_p2p at 23 MB/s (CBS 2048 B), 12:44 UTC, load 7.5: offered 507 kfps, the egress policer
    // dropped 7323395, 201.7 kfps through (the PMD on a CPU 61 % of the trial): not explained by capacity
    const QOS_23MBS = QOS_46MBS.replace('46000000', '23000000');
    const r = row(507293, 201727);
    expect(capacityShortfall(QOS_23MBS, ctx(r), (x) => (x === r ? ev({ offeredFps: 507293, policerDrops: 7323395 }) : undefined))).to.equal(undefined);
  });

  it('a generator that offered what was asked leaves the failure to the switch', () => {
    const r = row(LINE_64, 293000);
    expect(capacityShortfall(QOS_46MBS, ctx(r), (x) => (x === r ? ev({ offeredFps: LINE_64 }) : undefined))).to.equal(undefined);
  });

  it('a check that needs more than the generator offered only counts when the offer was short of the ask', () => {
    // the generator offered 960 kfps, enough for the check: a switch forwarding 293 kfps of it is the failure
    const r = row(960000, 293000);
    expect(capacityShortfall(QOS_46MBS, ctx(r), (x) => (x === r ? ev({ offeredFps: 960000 }) : undefined))).to.equal(undefined);
  });

  it('a VNF that could not take the frames (the switch counted them undeliverable) limits what the sandbox carried', () => {
    // ovsdpdk_qos_pvp at 23 MB/s: needs 475 kfps; a TCG guest forwarded 27 kfps of 481 kfps offered
    const r = row(481000, 27180);
    const QOS_23MBS = QOS_46MBS.replace('46000000', '23000000');
    const s = capacityShortfall(QOS_23MBS, ctx(r), (x) => (x === r ? ev({ offeredFps: 481000, vnfDrops: 13_000_000 }) : undefined));
    expect(s).to.deep.include({ limitedBy: 'vnf', carriedFps: 27180 });
    expect(s!.neededFps).to.be.closeTo(475000, 2);
    // the same loss without the switch saying where: the generator offered enough, so it is a failure
    expect(capacityShortfall(QOS_23MBS, ctx(r), (x) => (x === r ? ev({ offeredFps: 481000 }) : undefined))).to.equal(undefined);
  });

  it('a check that reads no traffic row, or that passes at no rate, is not explained', () => {
    const r = row(293458, 293000);
    expect(capacityShortfall('1 == 2', ctx(r), () => ev({}))).to.equal(undefined);
    expect(capacityShortfall('int(#STEP[-1][0]["throughput_rx_mbps"]) < 0', ctx(r), (x) => (x === r ? ev({}) : undefined))).to.equal(undefined);
    expect(capacityShortfall(QOS_46MBS, ctx(r), () => undefined)).to.equal(undefined);
  });
});
