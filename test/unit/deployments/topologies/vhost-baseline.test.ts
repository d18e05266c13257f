import { expect } from 'chai';
import type { PortStats, SwitchCounters } from '../../../../framework/api/deployment.js';
import type { TrialResult } from '../../../../framework/api/trafficgen.js';
import { checkCounters } from '../../../../framework/methodology/counter-check.js';
import { VhostBaseline } from '../../../../deployments/topologies/vhost-baseline.js';

// What OVS-DPDK 3.1 reports for a policed vhost-user "phy" port (test/fixtures/ovs/dump-ports-of14-vhost-*.txt):
// with its device, every count; without, none but its policer's drops (the driver puts them in rxDropped).
const connected = (rxPackets: number, policed: number, txDropped: number): PortStats => ({
  name: 'vsdv0',
  ofport: 1,
  rxPackets,
  txPackets: 0,
  rxDropped: policed,
  txDropped,
  rxPolicerDropped: policed,
  txPolicerDropped: 0,
  rxPolicedInRxPackets: true,
});
const disconnected = (policed: number): PortStats => ({ ...connected(0, policed, 0), unreported: true });
const NAMES = ['vsdv0'];

/** The deployment's deltas and the counter check of one trial: 1000 frames sent, all reached the port. */
function check(now: PortStats, base: PortStats) {
  const p: PortStats = {
    ...now,
    rxPackets: now.rxPackets - base.rxPackets,
    rxDropped: now.rxDropped - base.rxDropped,
    txDropped: now.txDropped - base.txDropped,
    rxPolicerDropped: now.rxPolicerDropped! - base.rxPolicerDropped!,
  };
  const sw: SwitchCounters = {
    vswitch: 'OvsDpdkVhost',
    ports: [p, { ...p, name: 'vsdv1', ofport: 2, rxPackets: 0, rxDropped: 0, rxPolicerDropped: 0, txPackets: 400 }],
    generatorPorts: [
      { index: 0, port: 'vsdv0', rxFromGenerator: p.rxPackets, txToGenerator: 0 },
      { index: 1, port: 'vsdv1', rxFromGenerator: 0, txToGenerator: 400 },
    ],
  };
  const result = { directions: [{ fromPort: 0, toPort: 1, txFrames: 1000, rxFrames: 400 }] } as unknown as TrialResult;
  return { delta: p, check: checkCounters(result, sw) };
}

describe('deployments/topologies/vhost-baseline', () => {
  it('a trial read after its generator let go (no beforeRelease hook) does not leak its drops into the next trial', () => {
    const carry = new VhostBaseline();
    // Trial 1, read with the device connected: 1000 received, the policer dropped 600 of them, 3 tx drops.
    let base = carry.baseline([disconnected(0)], NAMES, []);
    expect(base.txUnknown).to.deep.equal([]);
    carry.afterRead([connected(1000, 600, 3)], NAMES, true);
    expect(check(connected(1000, 600, 3), base.ports[0]!).check.consistent).to.equal(true);
    // Trial 2 runs without the hook: its read comes after the release and has no counts but the policer's
    // (600 + its own 600); no counter check for it, and its tx drops are lost to the next baseline.
    base = carry.baseline([disconnected(600)], NAMES, []);
    expect(base.ports[0]).to.include({ rxPackets: 0, rxDropped: 600, txDropped: 3 });
    carry.afterRead([disconnected(1200)], NAMES, false);
    // Trial 3, with the hook: its baseline takes the rx drops as OVS reports them now (1200), not the last
    // ones read while connected (600, what a586ad9 carried): then 600 of trial 2's drops were counted as
    // trial 3's and the check read 1000 received + 600 dropped > 1000 sent.
    base = carry.baseline([disconnected(1200)], NAMES, []);
    expect(base.ports[0]).to.include({ rxPackets: 0, txPackets: 0, rxDropped: 1200, rxPolicerDropped: 1200 });
    expect(base.txUnknown, 'tx drops since trial 2 are not known: said').to.deep.equal(['vsdv0']);
    const t3 = check(connected(1000, 1800, 5), base.ports[0]!);
    expect(t3.delta).to.include({ rxPackets: 1000, rxDropped: 600, rxPolicerDropped: 600 });
    expect(t3.check.consistent, JSON.stringify(t3.check)).to.equal(true);
    expect(t3.check.directions[0]).to.include({ lostBeforeSwitch: 0, switchRxDropped: 0 });
    const carried = check(connected(1000, 1800, 5), { ...base.ports[0]!, rxDropped: 600 });
    expect(carried.check.consistent, 'the carried baseline: trial 2 drops counted in trial 3').to.equal(false);
    // A connected read makes the tx drops known again.
    carry.afterRead([connected(1000, 1800, 5)], NAMES, true);
    base = carry.baseline([disconnected(1800)], NAMES, []);
    expect(base.txUnknown).to.deep.equal([]);
    expect(base.ports[0]).to.include({ txDropped: 5, rxDropped: 1800 });
  });

  it('a port whose device has not left yet is taken as read; other ports are untouched', () => {
    const carry = new VhostBaseline();
    const other: PortStats = { name: 'dpdk0', ofport: 7, rxPackets: 5, txPackets: 6, rxDropped: 1, txDropped: 2 };
    const up = connected(1000, 600, 3);
    const { ports } = carry.baseline([up, other], NAMES, ['vsdv0']);
    expect(ports).to.deep.equal([up, other]);
  });
});
