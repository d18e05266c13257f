/**
 * VSPERF testcases (one per methodology) as in testcases.test.ts, with the Software generator's dpdk backend on the
 * vhost sandbox (OVS-DPDK "phy" ports are vhost-user sockets to the engine's net_virtio_user devices).
 * OVS loses a vhost port's counters when the engine disconnects after each trial, so the switch-side
 * observer is the PMD's own count of the frames it received.
 */
import { expect } from 'chai';
import { rmSync } from 'node:fs';
import type { TestcaseResult } from '../../../framework/results/types.js';
import { leftovers, mergeScopes, NOTHING, runCatalogue, scopeOf } from './helpers.js';

// One testcase per methodology (binary search, continuous, back-to-back): each trial costs ~2 s of engine
// start here (EAL, OVS reconnecting to the vhost socket, settle), so the VLAN and multistream variants
// (same search, same engine path) stay with the veth test to keep CI within budget.
const TESTCASES = ['phy2phy_tput', 'phy2phy_cont', 'back2back'];

describe('deployments: VSPERF testcases with the dpdk generator backend on the vhost sandbox (integration)', function () {
  this.timeout(900_000);
  const resultsRoot = '/tmp/vsd-e2e-dpdk-results';
  let results: TestcaseResult[] = [];

  before(async () => {
    // 20 Mbit/s nominal: the same modest rates as the veth variant, so the test checks function, not speed.
    results = await runCatalogue(
      TESTCASES,
      {
        TRAFFICGEN: 'Software',
        VSWITCH: 'OvsDpdkVhost',
        TRAFFICGEN_SOFTWARE_BACKEND: 'dpdk',
        TRAFFICGEN_DURATION: 1,
        TRAFFICGEN_PKT_SIZES: [64],
        SANDBOX_PORT_SPEED_MBPS: 20,
      },
      resultsRoot,
      'e2e-dpdk',
    );
  });

  after(() => rmSync(resultsRoot, { recursive: true, force: true }));

  for (const name of TESTCASES) {
    it(`${name}: passes on vhost-user ports with real figures the PMD's count confirms`, () => {
      const r = results.find((x) => x.name === name)!;
      expect(r, name).to.not.equal(undefined);
      expect(r.status, JSON.stringify(r.error)).to.equal('passed');
      expect(r.simulated).to.equal(false);
      expect(r.facts.testbed_port_type).to.equal('vhost-user');
      expect(r.rows.length).to.be.greaterThan(0);
      // Every row carries its verdict from measured conditions (framework/fidelity).
      for (const x of r.rows) expect(x, JSON.stringify(x)).to.include.keys('validity', 'validity_reasons');
      const row = r.rows[0] as Record<string, unknown>;
      if (name === 'back2back') expect(Number(row.b2b_frames)).to.be.greaterThan(0);
      else expect(Number(row.throughput_rx_fps)).to.be.greaterThan(1000);
      expect(r.trials.length).to.be.greaterThan(0);
      for (const t of r.trials) {
        const sc = t.switchCounters as { extra?: { pmd?: Array<{ packetsReceived: number }> } } | undefined;
        const pmdRx = (sc?.extra?.pmd ?? []).reduce((a, p) => a + p.packetsReceived, 0);
        const genRx = t.result.directions.reduce((a, d) => a + d.rxFrames - (d.foreign ?? 0), 0);
        // every frame the generator received went through the switch's PMD
        expect(pmdRx, `trial ${t.index}`).to.be.at.least(genRx);
        expect(genRx, `trial ${t.index}`).to.be.greaterThan(0);
      }
    });
  }

  it('leaves no OVS process, netns, socket dir or EAL runtime dir of ours', async () => {
    const scope = mergeScopes(...results.map((r) => scopeOf(r.facts)));
    expect(scope.tags).to.have.length(TESTCASES.length);
    const left = await leftovers(scope);
    expect(left, JSON.stringify(left)).to.deep.equal(NOTHING);
  });
});
