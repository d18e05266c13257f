/**
 * VSPERF's DPDK regression testcases (conf/integration/01b) on the sandbox with a real OVS-DPDK:
 * a rate-limiter and a QoS testcase, whose steps name VSPERF's private `$_OVSDPDK_*` values and call
 * `$TOOLS['ovs-appctl'] -t ovs-vswitchd` as VSPERF writes it, and `vswitch restart` (VSPERF's
 * ovsdpdk_vhostuser_sock_dir, and a testcase of ours that checks what a restart keeps and loses in
 * the switch's own tables).
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestcaseResult } from '../../../framework/results/types.js';
import { leftovers, mergeScopes, NOTHING, runCatalogue, scopeOf } from '../deployments/helpers.js';

const VSPERF = ['ovsdpdk_rate_create_phy_port', 'ovsdpdk_qos_create_no_cir', 'ovsdpdk_vhostuser_sock_dir'];

const OURS = {
  INTEGRATION_TESTS: [
    {
      // A restart keeps the configuration database (bridge, ports) and loses the flows; a new daemon answers.
      Name: 'restart_keeps_config',
      Deployment: 'clean',
      vSwitch: 'OvsDpdkVhost',
      TestSteps: [
        ['vswitch', 'add_switch', 'int_br0'],
        ['vswitch', 'add_phy_port', 'int_br0'],
        ['vswitch', 'add_phy_port', 'int_br0'],
        ['vswitch', 'add_flow', 'int_br0', { in_port: '1', actions: ['output:2'], idle_timeout: '0' }],
        ['#pid0', 'tools', 'exec_shell', 'cat $TOOLS["ovs_var_tmp"]/ovs-vswitchd.pid', '(\\d+)'],
        ['vswitch', 'restart'],
        ['#pid1', 'tools', 'exec_shell', 'cat $TOOLS["ovs_var_tmp"]/ovs-vswitchd.pid', '(\\d+)'],
        ['tools', 'assert', '#STEP[pid0] != #STEP[pid1]'],
        ['#ports', 'vswitch', 'get_ports', 'int_br0'],
        ['tools', 'assert', "#STEP[ports] == [['dpdk0', 1], ['dpdk1', 2]]"],
        ['#flows', 'vswitch', 'dump_flows', 'int_br0'],
        ['tools', 'assert', 'len(#STEP[flows]) == 0'],
        // The bare tool reaches the new daemon (pid file and <name>.<pid>.ctl under OVS_RUNDIR).
        ['tools', 'exec_shell', '$TOOLS["ovs-appctl"] -t ovs-vswitchd version', '(Open vSwitch)'],
        ['tools', 'assert', 'len(#STEP[-1]) == 1'],
        ['vswitch', 'del_switch', 'int_br0'],
      ],
    },
  ],
};

describe('--integration: VSPERF DPDK regression steps ($_OVSDPDK_* names, ovs-appctl -t, restart) on OVS-DPDK (integration)', function () {
  this.timeout(300_000);
  const resultsRoot = '/tmp/vsd-int-regr-results';
  const dir = mkdtempSync(join(tmpdir(), 'vsd-int-regr-'));
  let results: TestcaseResult[] = [];
  const result = (name: string): TestcaseResult => results.find((r) => r.name === name)!;

  before(async () => {
    const ours = join(dir, 'ours.json');
    writeFileSync(ours, JSON.stringify(OURS));
    results = await runCatalogue(
      [...VSPERF, ...OURS.INTEGRATION_TESTS.map((t) => t.Name)],
      { TRAFFICGEN: 'Software', TRAFFICGEN_DURATION: 1 },
      resultsRoot,
      'regr',
      {
        integration: true,
        confFiles: [ours],
        validate: true,
      },
    );
  });

  after(() => {
    rmSync(resultsRoot, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  for (const name of VSPERF) {
    it(`${name}: every step passes its validation`, () => {
      const r = result(name);
      expect(r.status, JSON.stringify(r.error)).to.equal('passed');
      expect(r.rows[0]).to.include({ status: 'OK', details: '' });
    });
  }

  it('restart: a new ovs-vswitchd with the same bridge and ports, no flows, reached by the bare ovs-appctl', () => {
    const r = result('restart_keeps_config');
    expect(r.status, JSON.stringify(r.error)).to.equal('passed');
  });

  it('leaves nothing behind', async () => {
    expect(await leftovers(mergeScopes(...results.map((r) => scopeOf(r.facts))))).to.deep.equal(NOTHING);
  });
});
