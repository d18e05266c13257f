/**
 * VSPERF's tunnel step operations (add_tunnel_port, add_route, set_tunnel_arp) through the real
 * runner in a `clean` testcase, on the sandbox with each OVS driver: every step validated in the
 * switch's own tables (ovs-vsctl show, ovs/route/show, tnl/arp/show), and a route to a bridge
 * without an address refused by OVS itself, named at its step.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../framework/log/logger.js';
import type { TestcaseResult } from '../../../framework/results/types.js';
import { leftovers, makeCtx, mergeScopes, NOTHING, runCatalogue, scopeOf } from '../deployments/helpers.js';
import { exec } from '../../../framework/host/exec.js';
import { VswitchSteps } from '../../../deployments/steps/vswitch-target.js';
import type { VSwitch } from '../../../framework/api/deployment.js';

const TESTCASES = {
  INTEGRATION_TESTS: [
    {
      Name: 'tunnel_steps',
      Deployment: 'clean',
      TestSteps: [
        ['vswitch', 'add_switch', 'tun_br0'],
        ['vswitch', 'add_switch', 'tun_ext'],
        ['#ext', 'vswitch', 'add_phy_port', 'tun_ext'],
        ['#t0', 'vswitch', 'add_tunnel_port', 'tun_br0', '192.168.240.10', 'vxlan', ['options:key=99']],
        ['#t1', 'vswitch', 'add_tunnel_port', 'tun_ext', '1.1.1.1', 'gre'],
        ['tools', 'assert', "#STEP[t0] == ['vxlan0', 1]"],
        // macros expand as text (VSPERF): a string result needs quotes around the macro
        ['tools', 'assert', "'#STEP[t1][0]' == 'gre0'"],
        ['vswitch', 'set_tunnel_arp', '192.168.240.10', '02:00:00:00:00:02', 'tun_ext'],
        ['#ports', 'vswitch', 'get_ports', 'tun_br0'],
        ['tools', 'assert', "#STEP[ports] == [['vxlan0', 1]]"],
        ['vswitch', 'del_switch', 'tun_br0'],
        ['vswitch', 'del_switch', 'tun_ext'],
      ],
    },
    {
      Name: 'neg_route_no_address',
      Deployment: 'clean',
      TestSteps: [
        ['vswitch', 'add_switch', 'tun_br0'],
        ['vswitch', 'add_route', 'tun_br0', '10.99.0.0/16', 'tun_br0'],
      ],
    },
  ],
};

for (const vswitch of ['OvsDpdkVhost', 'OvsVanilla']) {
  describe(`vswitch tunnel steps on the sandbox with ${vswitch} (integration)`, function () {
    this.timeout(300_000);
    let results: TestcaseResult[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'vsd-tun-'));
    const resultsRoot = join(dir, 'results');

    before(async () => {
      const file = join(dir, 'tunnel.json');
      writeFileSync(file, JSON.stringify(TESTCASES));
      const names = TESTCASES.INTEGRATION_TESTS.map((t) => t.Name);
      results = await runCatalogue(names, { TRAFFICGEN: 'Software', VSWITCH: vswitch }, resultsRoot, 'int', {
        integration: true,
        confFiles: [file],
        validate: true,
      });
    });

    after(() => rmSync(dir, { recursive: true, force: true }));

    it('add_tunnel_port, set_tunnel_arp: VSPERF names and ofports, each validated in the switch', () => {
      const r = results.find((x) => x.name === 'tunnel_steps')!;
      expect(r.status, JSON.stringify(r.error)).to.equal('passed');
      expect(r.facts.vswitch).to.equal(vswitch);
      expect(r.rows[0]).to.include({ status: 'OK', details: '' });
    });

    it('add_route out of a bridge without an address: refused by OVS, the step named in one line', () => {
      const r = results.find((x) => x.name === 'neg_route_no_address')!;
      expect(r.status).to.equal('failed');
      expect(r.error?.message).to.match(/^step 1: vswitch add_route .*ovs\/route\/add 10\.99\.0\.0\/16 tun_br0/);
      expect(r.error?.message).to.not.include('\n');
    });

    it('leaves nothing behind', async () => {
      expect(await leftovers(mergeScopes(...results.map((r) => scopeOf(r.facts))))).to.deep.equal(NOTHING);
    });
  });
}

/** add_route needs an address on the bridge (set by hand here; op2p sets it itself): each step's validation against OvsVanilla's tables. */
describe('vswitch tunnel steps on OvsVanilla in a namespace: add_route, set_tunnel_arp, add_tunnel_port validations (integration)', function () {
  this.timeout(120_000);
  const NS = `vst-${process.pid}`;
  const t = makeCtx({ VSWITCH: 'OvsVanilla' });

  let vswitch: VSwitch | undefined;

  after(async () => {
    await vswitch?.stop();
    const { errors, live } = await t.dispose();
    expect(errors).to.deep.equal([]);
    expect(live, 'journalled resources left').to.deep.equal([]);
  });

  it('each step is validated in the switch; a wrong expectation is not', async () => {
    await t.ctx.host.createNetns(NS);
    vswitch = await t.ctx.create('vswitch', 'OvsVanilla');
    vswitch.useNetns?.(NS);
    await vswitch.start();
    const steps = new VswitchSteps({ vswitch, phyPorts: [], testbedLabel: 'test', vhostServerMode: false, log: silentLogger });
    await steps.call('add_switch', ['vstbr']);
    // OVS routes a network out of a bridge only with an address of the bridge in that network
    await exec(['ip', '-n', NS, 'addr', 'add', '10.99.0.1/16', 'dev', 'vstbr']);
    await exec(['ip', '-n', NS, 'link', 'set', 'vstbr', 'up']);
    const route = ['vstbr', '10.99.0.0/16', 'vstbr'];
    expect(await steps.call('add_route', route)).to.equal(null);
    expect(await steps.validate('add_route', null, route)).to.equal(true);
    expect(await steps.validate('add_route', null, ['vstbr', '10.97.0.0/16', 'vstbr'])).to.equal(false);
    const arp = ['10.99.0.5', '02:00:00:00:00:0b', 'vstbr'];
    expect(await steps.call('set_tunnel_arp', arp)).to.equal(null);
    expect(await steps.validate('set_tunnel_arp', null, arp)).to.equal(true);
    expect(await steps.validate('set_tunnel_arp', null, ['10.99.0.5', '02:00:00:00:00:0c', 'vstbr'])).to.equal(false);
    const tun = ['vstbr', '10.99.0.5', 'geneve'];
    const res = await steps.call('add_tunnel_port', tun);
    expect(res).to.deep.equal(['geneve0', 1]);
    expect(await steps.validate('add_tunnel_port', res, tun)).to.equal(true);
    expect(await steps.validate('add_tunnel_port', res, ['vstbr', '10.99.0.6', 'geneve'])).to.equal(false);
    expect(await steps.validate('add_tunnel_port', res, ['vstbr', '10.99.0.5', 'vxlan'])).to.equal(false);
  });
});
