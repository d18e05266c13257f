import { expect } from 'chai';
import { checkCounters, isSwitchCounters } from '../../../../framework/methodology/counter-check.js';
import type { SwitchCounters } from '../../../../framework/api/deployment.js';
import type { TrialResult } from '../../../../framework/api/trafficgen.js';

function trial(tx: number, rx: number, foreign = 0): TrialResult {
  const dir = { fromPort: 0, toPort: 1, txFrames: tx, rxFrames: rx, lostFrames: tx - rx, reordered: 0, duplicated: 0, foreign, txBytes: 0, rxBytes: 0 };
  return { ...dir, offeredFps: 1, achievedTxFps: 1, rxFps: 1, lossPct: 0, durationS: 1, wallS: 1, generatorLimited: false, directions: [dir] };
}
const sw = (rx0: number, tx1: number, rxDropped0 = 0): SwitchCounters => ({
  vswitch: 'OvsDpdkVhost',
  ports: [{ name: 'dpdk0', ofport: 1, rxPackets: rx0, txPackets: 0, rxDropped: rxDropped0, txDropped: 0 }],
  generatorPorts: [
    { index: 0, port: 'dpdk0', rxFromGenerator: rx0, txToGenerator: 0 },
    { index: 1, port: 'dpdk1', rxFromGenerator: 0, txToGenerator: tx1 },
  ],
});

describe('counter check (generator vs switch counters)', () => {
  it('attributes losses to ingress, switch and egress', () => {
    const c = checkCounters(trial(100000, 90000), sw(98000, 95000));
    expect(c.consistent).to.equal(true);
    expect(c.directions[0]).to.deep.include({ lostBeforeSwitch: 2000, lostInSwitch: 3000, lostAfterSwitch: 5000 });
    // rx ring drops the switch reports itself are the switch's loss, not the wire's
    const d = checkCounters(trial(100000, 90000), sw(98000, 95000, 1500));
    expect(d.directions[0]).to.deep.include({ lostBeforeSwitch: 500, lostInSwitch: 4500, switchRxDropped: 1500 });
    expect(checkCounters(trial(1000, 900), sw(900, 900, 300)).consistent).to.equal(false);
  });

  it('flags a switch that saw more than the generator sent, or a generator that got more than the switch sent', () => {
    expect(checkCounters(trial(1000, 1000), sw(1500, 1000)).consistent).to.equal(false);
    const c = checkCounters(trial(1000, 1000), sw(1000, 500));
    expect(c.consistent).to.equal(false);
    expect(c.directions[0]!.problem).to.include('generator port 1 received 1000 > switch port dpdk1 sent 500');
    // foreign frames (not the generator's) are excluded, small differences tolerated
    expect(checkCounters(trial(1000, 1004, 4), sw(1003, 1000)).consistent).to.equal(true);
  });

  it("does not count an ingress policer's drops twice (OVS-DPDK counts them as received and as dropped)", () => {
    // ovsdpdk_rate_p2p at 10000 kbit/s: the generator sent 8398205, dpdk1 forwarded 841108; dpdk0 said
    // rx 6511407, rx_dropped 7557097 of which its policer 5670299 (the rest, 1886798, the rx ring's).
    const policed: SwitchCounters = {
      ...sw(6511407, 841108, 7557097),
      ports: [
        {
          name: 'dpdk0',
          ofport: 1,
          rxPackets: 6511407,
          txPackets: 0,
          rxDropped: 7557097,
          txDropped: 0,
          rxPolicerDropped: 5670299,
          txPolicerDropped: 0,
          rxPolicedInRxPackets: true,
        },
      ],
    };
    const c = checkCounters(trial(8398205, 841108), policed);
    expect(c.consistent).to.equal(true);
    expect(c.directions[0]).to.deep.include({ switchRxDropped: 1886798, lostBeforeSwitch: 0, lostInSwitch: 1886798 + 5670299 });
    // without the policer's own count the same figures look like more frames than were sent
    expect(checkCounters(trial(8398205, 841108), sw(6511407, 841108, 7557097)).consistent).to.equal(false);
  });

  it("takes the policer's drops out of rx_dropped only for a port that counts them in rx_packets too", () => {
    // OVS 3.1 vhost-user client port, dpdk-testpmd on the ring (test/integration/deployments/vhost-policer.test.ts):
    // 2138144 put on the ring, rx_packets 2138144, rx_dropped = ovs_rx_qos_drops = 2132915.
    const port = (inRx: boolean | undefined): SwitchCounters => ({
      ...sw(2138144, 0, 2132915),
      ports: [
        {
          name: 'dpdk0',
          ofport: 1,
          rxPackets: 2138144,
          txPackets: 0,
          rxDropped: 2132915,
          txDropped: 0,
          rxPolicerDropped: 2132915,
          txPolicerDropped: 0,
          ...(inRx === undefined ? {} : { rxPolicedInRxPackets: inRx }),
        },
      ],
    });
    expect(checkCounters(trial(2138144, 0), port(true)).directions[0]).to.deep.include({
      consistent: true,
      switchRxDropped: 0,
      lostBeforeSwitch: 0,
      lostInSwitch: 2138144,
    });
    // A port whose rx_packets stops at the policer: rx_packets + rx_dropped is all it saw.
    const after: SwitchCounters = {
      ...port(false),
      ports: [{ ...port(false).ports[0]!, rxPackets: 5229 }],
      generatorPorts: [{ index: 0, port: 'dpdk0', rxFromGenerator: 5229, txToGenerator: 0 }, port(false).generatorPorts![1]!],
    };
    expect(checkCounters(trial(2138144, 0), after).directions[0]).to.deep.include({ consistent: true, switchRxDropped: 2132915, lostBeforeSwitch: 0 });
    // Not known for the port: nothing taken out (the frames would read as received twice).
    expect(checkCounters(trial(2138144, 0), port(undefined)).consistent).to.equal(false);
  });

  describe('with the wire counted too (veth kernel counters)', () => {
    const wired = (rx0: number, rxDropped0: number, tx1: number, wire0: number, wire1: number, wireDropped0 = 0): SwitchCounters => ({
      vswitch: 'OvsDpdkVhost',
      ports: [{ name: 'dpdk0', ofport: 1, rxPackets: rx0, txPackets: 0, rxDropped: rxDropped0, txDropped: 0 }],
      generatorPorts: [
        {
          index: 0,
          port: 'dpdk0',
          rxFromGenerator: rx0,
          txToGenerator: 0,
          wire: { toSwitch: wire0, droppedToSwitch: wireDropped0, switchDropped: rxDropped0, toGenerator: 0 },
        },
        { index: 1, port: 'dpdk1', rxFromGenerator: 0, txToGenerator: tx1, wire: { toSwitch: 0, droppedToSwitch: 0, switchDropped: 0, toGenerator: wire1 } },
      ],
    });

    it('agrees when generator, wire and switch agree (phy2phy_cont at 1 Mfps offered, 849 kfps sent, measured)', () => {
      const c = checkCounters(trial(8660416, 3031088), wired(3031088, 5629328, 3031088, 8660416, 3031088));
      expect(c.consistent).to.equal(true);
      expect(c.directions[0]).to.deep.include({
        wireToSwitch: 8660416,
        wireToGenerator: 3031088,
        lostBeforeSwitch: 0,
        lostOnWire: 0,
        lostInGenerator: 0,
        lostInSwitch: 5629328,
      });
    });

    it("names the generator when it counted as sent more than its end of the wire took, and keeps that loss off the wire's", () => {
      // 1 000 000 counted as sent; the generator's veth end passed on 990 000 and dropped 2 000; dpdk0
      // received 985 000 + 1 000 dropped. 8 000 never reached the veth: the generator's own.
      const c = checkCounters(trial(1_000_000, 985_000), wired(985_000, 1_000, 985_000, 990_000, 985_000, 2_000));
      expect(c.consistent).to.equal(false);
      expect(c.directions[0]!.problem).to.equal(
        "the generator's count is high: 8000 frames counted as sent never reached its veth (generator port 0 sent 1000000, the wire took 990000 + 2000 dropped)",
      );
      // 14 000 lost before the switch: 8 000 in the generator, 6 000 on the wire (2 000 veth tx_dropped + 4 000 crossed uncounted)
      expect(c.directions[0]).to.deep.include({ lostBeforeSwitch: 14_000, lostInGenerator: 8_000, lostOnWire: 6_000, wireDropped: 2_000, lostInSwitch: 1_000 });
    });

    it("puts the veth's own drops on the wire, with every count agreeing", () => {
      // 100 000 sent = 97 000 crossed + 3 000 veth tx_dropped; dpdk0 96 000 received + 1 000 dropped = 97 000.
      const c = checkCounters(trial(100_000, 96_000), wired(96_000, 1_000, 96_000, 97_000, 96_000, 3_000));
      expect(c.consistent, c.directions[0]!.problem).to.equal(true);
      expect(c.directions[0]).to.deep.include({ lostBeforeSwitch: 3_000, lostOnWire: 3_000, lostInGenerator: 0, lostInSwitch: 1_000 });
      // within the tolerance (10 frames or 0.1 %) a short wire count is not the generator's fault
      expect(checkCounters(trial(100_050, 96_000), wired(96_000, 1_000, 96_000, 97_000, 96_000, 3_000)).consistent).to.equal(true);
      expect(checkCounters(trial(100_200, 96_000), wired(96_000, 1_000, 96_000, 97_000, 96_000, 3_000)).consistent).to.equal(false);
    });

    it('names the switch when it counted more than crossed the wire', () => {
      // The reported disagreement: dpdk0 rx 7 108 164 + rx_missed 2 261 279 against 8 385 024 sent.
      const c = checkCounters(trial(8385024, 7108164), wired(7108164, 2261279, 7108164, 8385024, 7108164));
      expect(c.consistent).to.equal(false);
      expect(c.directions[0]!.problem).to.equal("switch port dpdk0 received 7108164 (+2261279 dropped) > 8385024 crossed the wire: the switch's count is high");
    });

    it('names the generator when the wire carried more than it says it sent', () => {
      const c = checkCounters(trial(8385024, 7108164), wired(7108164, 2261279, 7108164, 9369443, 7108164));
      expect(c.consistent).to.equal(false);
      expect(c.directions[0]!.problem).to.equal("the wire from generator port 0 carried 9369443 > generator sent 8385024: the generator's count is low");
    });

    it('names the generator when it received more than crossed the wire to it', () => {
      const c = checkCounters(trial(1000, 1000), wired(1000, 0, 1000, 1000, 900));
      expect(c.directions[0]!.problem).to.equal("generator port 1 received 1000 > 900 crossed the wire to it: the generator's count is high");
    });
  });

  it('recognises switch counters', () => {
    expect(isSwitchCounters(sw(1, 1))).to.equal(true);
    expect(isSwitchCounters({ ports: [] })).to.equal(false);
  });
});
