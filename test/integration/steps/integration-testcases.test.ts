/**
 * `vsperf --integration` end to end: VSPERF's own integration testcases (conf/integration/, as
 * VSPERF ships them) through the real runner on the sandbox with a private OVS-DPDK. Every step is
 * validated against what the switch reports (ovs-vsctl show, dump-flows), as VSPERF does; the
 * negative cases show that a step whose effect is missing, or an assert that does not hold, fails
 * the testcase with the step named.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestcaseResult } from '../../../framework/results/types.js';
import { leftovers, mergeScopes, NOTHING, runCatalogue, scopeOf } from '../deployments/helpers.js';

/** VSPERF's vswitch_* functional testcases that need neither a guest nor traffic. */
const FUNCTIONAL = [
  'vswitch_add_del_bridge',
  'vswitch_add_del_bridges',
  'vswitch_add_del_phy_port',
  'vswitch_add_del_phy_ports',
  'vswitch_add_del_vport',
  'vswitch_add_del_vports',
  'vswitch_add_del_connection',
  'vswitch_vports_add_del_connection',
  'vswitch_add_del_connections',
  'vswitch_add_del_flow',
  'vswitch_vports_add_del_flow',
  'vswitch_add_del_flows',
];

/** Performance-style integration testcases with guests (pvpv2: two QEMU guests in parallel). */
const WITH_GUESTS = ['2pvp_udp_dest_flows'];

/** Testcases of our own in VSPERF's format: each must fail, at the step named. */
const NEGATIVE = {
  INTEGRATION_TESTS: [
    {
      Name: 'neg_assert',
      Deployment: 'clean',
      TestSteps: [
        ['vswitch', 'add_switch', 'int_br0'],
        ['#p', 'vswitch', 'add_phy_port', 'int_br0'],
        ['tools', 'assert', '#STEP[p][1] == 2'],
        ['vswitch', 'del_switch', 'int_br0'],
      ],
    },
    {
      // The port is gone (del_port): a connection to it must fail, not silently add a flow.
      Name: 'neg_flow_gone',
      Deployment: 'clean',
      TestSteps: [
        ['vswitch', 'add_switch', 'int_br0'],
        ['vswitch', 'add_phy_port', 'int_br0'],
        ['vswitch', 'add_phy_port', 'int_br0'],
        ['vswitch', 'add_connection', 'int_br0', '#STEP[1][0]', '#STEP[2][0]'],
        ['vswitch', 'add_switch', 'int_br1'],
        ['vswitch', 'del_port', 'int_br0', '#STEP[1][0]'],
        ['vswitch', 'add_connection', 'int_br0', '#STEP[1][0]', '#STEP[2][0]'],
      ],
    },
    {
      // A performance deployment's switch, through the vswitch step object (VSPERF allows it).
      Name: 'p2p_steps_on_deployment',
      Deployment: 'p2p',
      TestSteps: [
        ['#ports', 'vswitch', 'get_ports', '$VSWITCH_BRIDGE_NAME'],
        ['tools', 'assert', 'len(#STEP[ports]) >= 2'],
        ['vswitch', 'add_flow', '$VSWITCH_BRIDGE_NAME', { in_port: '2', dl_type: '0x800', nw_dst: '10.9.9.9', actions: ['output:1'], idle_timeout: '0' }],
        ['#dump', 'vswitch', 'dump_flows', '$VSWITCH_BRIDGE_NAME', '|nw_dst=10.9.9.9'],
        // dump_flows gives one line per flow; the filter turns each into its matches (VSPERF's filter_output).
        ['tools', 'assert', "max(#STEP[dump]) == ['nw_dst=10.9.9.9']"],
        ['trafficgen', 'send_traffic', { traffic_type: 'rfc2544_continuous' }],
      ],
    },
    {
      Name: 'neg_vnf0_in_p2p',
      Deployment: 'p2p',
      TestSteps: [['VNF0', 'execute_and_wait', 'ls']],
    },
    {
      Name: 'neg_third_phy_port',
      Deployment: 'clean',
      TestSteps: [
        ['vswitch', 'add_switch', 'int_br0'],
        ['vswitch', 'add_phy_port', 'int_br0'],
        ['vswitch', 'add_phy_port', 'int_br0'],
        ['vswitch', 'add_phy_port', 'int_br0'],
      ],
    },
  ],
};

describe('--integration: VSPERF integration testcases on the sandbox with OVS-DPDK (integration)', function () {
  this.timeout(600_000);
  const resultsRoot = '/tmp/vsd-int-results';
  let results: TestcaseResult[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'vsd-int-'));

  before(async () => {
    const negFile = join(dir, 'negative.json');
    writeFileSync(negFile, JSON.stringify(NEGATIVE));
    const want = [...FUNCTIONAL, ...WITH_GUESTS, ...NEGATIVE.INTEGRATION_TESTS.map((t) => t.Name)];
    results = await runCatalogue(want, { TRAFFICGEN: 'Software', VSWITCH: 'OvsDpdkVhost', TRAFFICGEN_DURATION: 2 }, resultsRoot, 'int', {
      integration: true,
      confFiles: [negFile],
      validate: true,
    });
  });

  after(() => {
    rmSync(resultsRoot, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  for (const name of FUNCTIONAL) {
    it(`${name}: every step passes its validation; the row says OK`, () => {
      const r = results.find((x) => x.name === name)!;
      expect(r.status, JSON.stringify(r.error)).to.equal('passed');
      expect(r.facts.vswitch).to.equal('OvsDpdkVhost');
      expect(r.rows).to.have.length(1);
      expect(r.rows[0]).to.include({ status: 'OK', details: '' });
    });
  }

  it('2pvp_udp_dest_flows: two guests in parallel forward traffic; counters of generator and switch agree', () => {
    const r = results.find((x) => x.name === '2pvp_udp_dest_flows')!;
    expect(r.status, JSON.stringify(r.error)).to.equal('passed');
    expect(r.facts.guests).to.equal(2);
    expect(Number(r.rows[0]!.throughput_rx_fps)).to.be.greaterThan(0);
    // No TestSteps: VSPERF reports it like a performance testcase (no status/details columns).
    expect(r.rows[0]).to.not.have.property('status');
    const checked = r.trials.filter((t) => t.counterCheck);
    expect(checked.length).to.be.greaterThan(0);
    expect(
      checked.every((t) => t.counterCheck!.consistent),
      JSON.stringify(checked.map((t) => t.counterCheck)),
    ).to.equal(true);
  });

  it('an assert that does not hold fails the testcase at that step', () => {
    const r = results.find((x) => x.name === 'neg_assert')!;
    expect(r.status).to.equal('failed');
    expect(r.error?.code).to.equal('E_STEP_FAILED');
    expect(r.error?.message).to.match(/^step 2: tools assert \['1 == 2'\]: .*AssertionError/);
    expect(r.rows[0]).to.include({ status: 'FAILED' });
  });

  it('a connection to a deleted port fails (the switch does not have it)', () => {
    const r = results.find((x) => x.name === 'neg_flow_gone')!;
    expect(r.status).to.equal('failed');
    expect(r.error?.message).to.match(/^step 6: vswitch add_connection .*KeyError: port dpdk0 is not on bridge int_br0/);
  });

  it("vswitch steps act on a p2p deployment's bridge ($VSWITCH_BRIDGE_NAME), validated by its flow dump; traffic still passes", () => {
    const r = results.find((x) => x.name === 'p2p_steps_on_deployment')!;
    expect(r.status, JSON.stringify(r.error)).to.equal('passed');
    expect(r.rows).to.have.length(1);
    expect(r.rows[0]).to.include({ status: 'OK', details: '' });
    expect(Number(r.rows[0]!.throughput_rx_fps)).to.be.greaterThan(0);
  });

  it('VNF0 in a deployment without guests fails with one line', () => {
    const r = results.find((x) => x.name === 'neg_vnf0_in_p2p')!;
    expect(r.status).to.equal('failed');
    expect(r.error?.message).to.equal(
      "step 0: VNF0 execute_and_wait ['ls']: E_STEP_UNSUPPORTED: VNF with index 0 is not running (deployment p2p has 0 guest(s))",
    );
  });

  it('a third physical port on a 2-port sandbox fails with one line naming what is missing', () => {
    const r = results.find((x) => x.name === 'neg_third_phy_port')!;
    expect(r.status).to.equal('failed');
    expect(r.error?.message).to.match(/^step 3: vswitch add_phy_port .*the sandbox testbed has 2 physical port\(s\)/);
    expect(r.error?.message).to.not.include('\n');
  });

  it('leaves nothing behind', async () => {
    const scope = mergeScopes(...results.map((r) => scopeOf(r.facts)));
    expect(await leftovers(scope)).to.deep.equal(NOTHING);
  });
});
