/**
 * VSPERF testcases end to end through the real runner: sandbox testbed, private OVS-DPDK, the Software
 * generator, short trials. Each must produce plausible non-zero results whose generator counts agree
 * with the switch's port counters, and leave nothing behind.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { exec } from '../../../framework/host/exec.js';
import { PROJECT_ROOT } from '../../../framework/config/load.js';
import type { TestcaseResult } from '../../../framework/results/types.js';
import { checkCounters, isSwitchCounters } from '../../../framework/methodology/counter-check.js';
import { leftovers, mergeScopes, NOTHING, runCatalogue, scopeOf } from './helpers.js';

const TESTCASES = ['phy2phy_tput', 'phy2phy_cont', 'phy2phy_tput_mod_vlan', 'back2back', 'phy2phy_scalability'];

describe('deployments: VSPERF testcases through the runner with OVS-DPDK and the Software generator (integration)', function () {
  this.timeout(900_000);
  const resultsRoot = '/tmp/vsd-e2e-results';
  let results: TestcaseResult[] = [];

  before(async () => {
    // A veth has no line rate: 20 Mbit/s (29.8 kfps at 64 B) is what the Software generator and the PMD
    // sustain on this shared 2-core box, so "% of line rate" trials are not generator-limited.
    results = await runCatalogue(
      TESTCASES,
      {
        TRAFFICGEN: 'Software',
        VSWITCH: 'OvsDpdkVhost',
        TRAFFICGEN_DURATION: 2,
        TRAFFICGEN_PKT_SIZES: [64],
        TRAFFICGEN_SOFTWARE_CORES: [0],
        SANDBOX_PORT_SPEED_MBPS: 20,
      },
      resultsRoot,
      'e2e',
    );
  });

  after(() => rmSync(resultsRoot, { recursive: true, force: true }));

  for (const name of TESTCASES) {
    it(`${name}: passes with real, non-zero figures and consistent counters`, () => {
      const r = results.find((x) => x.name === name)!;
      expect(r, name).to.not.equal(undefined);
      expect(r.status, JSON.stringify(r.error)).to.equal('passed');
      expect(r.simulated).to.equal(false);
      expect(r.facts.vswitch).to.equal('OvsDpdkVhost');
      expect(String(r.facts.vswitch_version)).to.match(/^3\./);
      expect(r.rows.length).to.be.greaterThan(0);
      // Every row carries its verdict from measured conditions (framework/fidelity).
      for (const x of r.rows) expect(x, JSON.stringify(x)).to.include.keys('validity', 'validity_reasons');
      const row = r.rows[0] as Record<string, unknown>;
      if (name === 'back2back') expect(Number(row.b2b_frames)).to.be.greaterThan(0);
      else expect(Number(row.throughput_rx_fps)).to.be.greaterThan(1000);
      const withCounters = r.trials.filter((t) => isSwitchCounters(t.switchCounters));
      expect(withCounters.length, 'trials carry switch counters').to.equal(r.trials.length);
      for (const t of withCounters) {
        const c = checkCounters(t.result, t.switchCounters as never);
        expect(c.consistent, `trial ${t.index}: ${JSON.stringify(c.directions)}`).to.equal(true);
        expect(c.directions.length).to.be.greaterThan(0);
      }
      if (name === 'phy2phy_tput_mod_vlan') expect(r.facts.frame_modification).to.equal('vlan');
    });
  }

  it('`vsperf --trafficgen Software phy2phy_tput` (the CLI) exits 0 and writes a CSV with real figures', async () => {
    const dir = '/tmp/vsd-e2e-cli';
    rmSync(dir, { recursive: true, force: true });
    const r = await exec(
      [
        process.execPath,
        join(PROJECT_ROOT, 'bin/vsperf.js'),
        '--trafficgen',
        'Software',
        '--vswitch',
        'OvsDpdkVhost',
        '--results-dir',
        dir,
        '--test-params',
        'TRAFFICGEN_DURATION=2;TRAFFICGEN_PKT_SIZES=(64,);SANDBOX_PORT_SPEED_MBPS=20;TRAFFICGEN_SOFTWARE_CORES=[0]',
        'phy2phy_tput',
      ],
      { timeoutMs: 300_000, allowFail: true, env: { ...process.env } },
    );
    try {
      expect(r.code, r.stderr.slice(-2000)).to.equal(0);
      const res = readdirSync(dir).find((d) => d.startsWith('results_'))!;
      const csv = readFileSync(join(dir, res, 'result_0_phy2phy_tput_p2p.csv'), 'utf8')
        .trim()
        .split('\n');
      const head = csv[0]!.split(',');
      const row = csv[1]!.split(',');
      expect(row[head.indexOf('vswitch')]).to.equal('OvsDpdkVhost');
      expect(Number(row[head.indexOf('throughput_rx_fps')])).to.be.greaterThan(1000);
      const json = JSON.parse(readFileSync(join(dir, res, 'results.json'), 'utf8'));
      const tc = json.testcases[0];
      expect(String(tc.facts.vswitch_version)).to.match(/^3\./);
      results.push(tc);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves no OVS process, netns, veth, bridge, socket dir or hugepage mount of ours', async () => {
    const scope = mergeScopes(...results.map((r) => scopeOf(r.facts)));
    expect(scope.tags).to.have.length(TESTCASES.length + 1);
    const left = await leftovers(scope);
    expect(left, JSON.stringify(left)).to.deep.equal(NOTHING);
  });
});
