/**
 * VSPERF's jumbo-frame and in-guest capture testcases, as VSPERF ships them, on the sandbox with a private
 * OVS-DPDK: a physical port's MTU changes as mtu_request asks (ports that may go jumbo are net_pcap
 * vdevs), the vhost-user MTU testcases stop before deploying with one line naming what they need, and
 * capture_pvp_modify_vid counts the re-tagged frames with tcpdump inside the guest.
 */
import { expect } from 'chai';
import { rmSync } from 'node:fs';
import type { TestcaseResult } from '../../../framework/results/types.js';
import { leftovers, mergeScopes, NOTHING, runCatalogue, scopeOf } from '../deployments/helpers.js';

// increase_mtu_phy_port_ovsdb reads the MTU right after setting it: it passes only because the switch
// waits for OVS-DPDK to apply an mtu_request (measured: the old MTU at once, the new one ~100 ms later).
const PHY = ['ovsdpdk_jumbo_reduce_mtu_phy_port_ovsdb', 'ovsdpdk_jumbo_increase_mtu_phy_port_datapath', 'ovsdpdk_jumbo_increase_mtu_phy_port_ovsdb'];
const VPORT = 'ovsdpdk_jumbo_increase_mtu_vport_ovsdb';
const CAPTURE = 'capture_pvp_modify_vid';

describe('--integration: jumbo MTU and in-guest capture testcases on the sandbox with OVS-DPDK (integration)', function () {
  this.timeout(600_000);
  const resultsRoot = '/tmp/vsd-int-jumbo-results';
  let results: TestcaseResult[] = [];
  const byName = (n: string): TestcaseResult => results.find((r) => r.name === n)!;

  before(async () => {
    results = await runCatalogue([...PHY, VPORT, CAPTURE], { TRAFFICGEN: 'Software', TRAFFICGEN_DURATION: 2 }, resultsRoot, 'jumbo', {
      integration: true,
      validate: true,
    });
  });

  after(() => rmSync(resultsRoot, { recursive: true, force: true }));

  for (const name of PHY) {
    it(`${name}: OVS reports the MTU each step asks for on a physical port`, () => {
      const r = byName(name);
      expect(r.status, JSON.stringify(r.error)).to.equal('passed');
      expect(r.rows[0]).to.include({ status: 'OK' });
    });
  }

  it(`${VPORT}: fails before deploying, in one line naming what it needs (a guest on the vhost-user socket)`, () => {
    const r = byName(VPORT);
    expect(r.status).to.equal('failed');
    expect(r.error?.code).to.equal('E_ENV');
    expect(r.error?.message).to.match(/^checks a vhost-user client port's MTU before any guest is on its socket: .*reports MTU 0 until a guest connects$/);
    expect(r.facts.vswitch_run_dir, 'no switch was started').to.equal(undefined);
  });

  it(`${CAPTURE}: tcpdump in the guest counts 5 frames re-tagged to VLAN 4 by the switch`, () => {
    const r = byName(CAPTURE);
    expect(r.status, JSON.stringify(r.error)).to.equal('passed');
    expect(r.facts.guests).to.equal(1);
    expect(Number(r.rows[0]!.throughput_rx_fps)).to.be.greaterThan(0);
  });

  it('leaves nothing behind', async () => {
    const scope = mergeScopes(...results.map((r) => scopeOf(r.facts)));
    expect(await leftovers(scope)).to.deep.equal(NOTHING);
  });
});
