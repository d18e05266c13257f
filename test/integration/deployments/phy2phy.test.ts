/**
 * phy2phy on the real stack: a private OVS-DPDK (and the plain OVS, and no switch) on the sandbox
 * testbed, real frames through it, counters cross-checked, and nothing of ours left afterwards.
 */
import { expect } from 'chai';
import { DriverError } from '../../../framework/errors.js';
import type { Deployment, SwitchCounters, Topology } from '../../../framework/api/deployment.js';
import type { OvsSwitch } from '../../../deployments/vswitch/ovs.js';
import { ifaceCounters, leftovers, SandboxFixture, sendFrames } from './helpers.js';

const fx = new SandboxFixture();

async function deploy(name = 'p2p'): Promise<{ dep: Deployment; topo: Topology }> {
  const d = await fx.deploy(name);
  expect(fx.scope!.tags).to.have.length(1);
  return d;
}

describe('deployments: phy2phy on the sandbox (integration)', function () {
  this.timeout(120_000);

  afterEach(() => fx.release());

  it('OvsDpdkVhost: sets up, forwards real frames both ways, counters agree, tears down clean', async () => {
    fx.use({ VSWITCH: 'OvsDpdkVhost' });
    const { dep, topo } = await deploy('phy2phy');
    expect(topo.generatorPorts).to.have.length(2);
    const [g0, g1] = topo.generatorPorts;
    expect(g0!.netns).to.match(/^vsd-/);
    expect(g1!.netns).to.equal(g0!.netns);
    expect(topo.facts.vswitch).to.equal('OvsDpdkVhost');
    expect(String(topo.facts.vswitch_version)).to.match(/^3\.\d+\.\d+ \(DPDK \d+/);
    expect(topo.facts.flows_installed).to.equal(2);
    expect(String(topo.facts.flows)).to.include('in_port=1').and.include('actions=output:2');
    const sw = topo.vswitch as OvsSwitch;
    expect(sw.pids().vswitchd).to.be.a('number');

    await topo.beforeTrial!();
    const rx1 = await ifaceCounters(g1!.netns!, g1!.name);
    await sendFrames(g0!.netns!, g0!.name, 1000);
    await new Promise((r) => setTimeout(r, 300));
    const c = (await topo.afterTrial!()) as unknown as SwitchCounters;
    const rx1b = await ifaceCounters(g1!.netns!, g1!.name);
    expect(rx1b.rxPackets - rx1.rxPackets, 'frames at generator port 1').to.equal(1000);
    expect(c.vswitch).to.equal('OvsDpdkVhost');
    expect(c.generatorPorts![0]!.rxFromGenerator).to.equal(1000);
    expect(c.generatorPorts![1]!.txToGenerator).to.equal(1000);
    // The wire as the veths' kernel counters saw it: a third observer next to sender and switch.
    expect(c.generatorPorts![0]!.wire).to.deep.include({ toSwitch: 1000, droppedToSwitch: 0, switchDropped: 0 });
    expect(c.generatorPorts![1]!.wire).to.deep.include({ toSwitch: 0, toGenerator: 1000 });
    expect((c.extra!.pmd as Array<{ packetsReceived: number }>).reduce((a, p) => a + p.packetsReceived, 0)).to.be.at.least(1000);

    // Reverse direction through the second flow.
    await topo.beforeTrial!();
    await sendFrames(g1!.netns!, g1!.name, 200);
    await new Promise((r) => setTimeout(r, 300));
    const back = (await topo.afterTrial!()) as unknown as SwitchCounters;
    expect(back.generatorPorts![1]!.rxFromGenerator).to.equal(200);
    expect(back.generatorPorts![0]!.txToGenerator).to.equal(200);
    expect(back.generatorPorts![1]!.wire).to.deep.include({ toSwitch: 200, toGenerator: 0 });
    expect(back.generatorPorts![0]!.wire).to.deep.include({ toSwitch: 0, toGenerator: 200 });

    await dep.teardown();
    await dep.teardown(); // idempotent
    expect((await leftovers(fx.scope!)).processes).to.deep.equal([]);
  });

  it('OvsDpdkVhost: a vswitchd killed mid-testcase is reported with its log tail', async () => {
    fx.use({ VSWITCH: 'OvsDpdkVhost', SANDBOX_PORT_IO: 'af_packet' });
    const { topo } = await deploy();
    const sw = topo.vswitch as OvsSwitch;
    expect(topo.health!.aborted).to.equal(false);
    process.kill(sw.pids().vswitchd!, 'SIGKILL');
    for (let i = 0; i < 100 && !topo.health!.aborted; i++) await new Promise((r) => setTimeout(r, 20));
    expect(topo.health!.aborted).to.equal(true);
    const reason = topo.health!.reason as DriverError;
    expect(reason).to.be.instanceOf(DriverError);
    expect(reason.message).to.match(/ovs-vswitchd \(pid \d+\) killed by SIGKILL unexpectedly/);
    expect(reason.message).to.match(/dpdk|bridge|netdev/); // lines of the real log
    let err: unknown;
    try {
      await topo.afterTrial!();
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(DriverError);
  });

  it('FRAME_MOD=vlan (phy2phy_tput_mod_vlan): frames leave the switch with a VLAN tag', async () => {
    fx.use({ VSWITCH: 'OvsDpdkVhost', FRAME_MOD: 'vlan' });
    const { topo } = await deploy();
    expect(String(topo.facts.flows)).to.include('push_vlan:0x8100');
    expect(topo.facts.frame_modification).to.equal('vlan');
    const [g0, g1] = topo.generatorPorts;
    await topo.beforeTrial!();
    const before = await ifaceCounters(g1!.netns!, g1!.name);
    await sendFrames(g0!.netns!, g0!.name, 300);
    await new Promise((r) => setTimeout(r, 300));
    const after = await ifaceCounters(g1!.netns!, g1!.name);
    expect(after.rxPackets - before.rxPackets).to.equal(300);
    // 60-byte frames arrive as 64 bytes: the 4-byte 802.1Q tag was pushed.
    expect(after.rxBytes - before.rxBytes).to.equal(300 * 64);
  });

  it('pre-installed multistream flows (L4): one flow per stream and direction, traffic matches them', async () => {
    fx.use({ VSWITCH: 'OvsDpdkVhost', TRAFFIC: { multistream: 500, stream_type: 'L4', pre_installed_flows: 'Yes' } });
    const { topo } = await deploy();
    expect(topo.facts.flows_installed).to.equal(1000);
    const flows = await topo.vswitch!.dumpFlows(topo.bridge!);
    expect(flows).to.have.length(1000);
    expect(flows.some((f) => /tp_dst=3500\b/.test(f))).to.equal(true);
    const [g0, g1] = topo.generatorPorts;
    const before = await ifaceCounters(g1!.netns!, g1!.name);
    await sendFrames(g0!.netns!, g0!.name, 500, 500);
    await new Promise((r) => setTimeout(r, 300));
    const after = await ifaceCounters(g1!.netns!, g1!.name);
    expect(after.rxPackets - before.rxPackets).to.equal(500);
    const hit = (await topo.vswitch!.dumpFlows(topo.bridge!)).filter((f) => /n_packets=1,/.test(f) && /in_port=1/.test(f));
    expect(hit).to.have.length(500);
  });

  it('OvsVanilla: plain ovs-vswitchd with the userspace datapath forwards frames', async () => {
    fx.use({ VSWITCH: 'OvsVanilla' });
    const { topo } = await deploy();
    expect(topo.facts.vswitch).to.equal('OvsVanilla');
    expect(String(topo.facts.vswitch_version)).to.match(/^3\.\d+\.\d+$/);
    const [g0, g1] = topo.generatorPorts;
    await topo.beforeTrial!();
    const before = await ifaceCounters(g1!.netns!, g1!.name);
    await sendFrames(g0!.netns!, g0!.name, 500);
    await new Promise((r) => setTimeout(r, 500));
    const after = await ifaceCounters(g1!.netns!, g1!.name);
    const c = (await topo.afterTrial!()) as unknown as SwitchCounters;
    expect(after.rxPackets - before.rxPackets).to.equal(500);
    expect(c.generatorPorts![0]!.rxFromGenerator).to.equal(500);
  });

  it('VSWITCH=none: generator ports are wired straight to each other', async () => {
    fx.use({ VSWITCH: 'none' });
    const { topo } = await deploy();
    expect(topo.vswitch).to.equal(undefined);
    expect(topo.facts.vswitch).to.equal('none');
    const [g0, g1] = topo.generatorPorts;
    const before = await ifaceCounters(g1!.netns!, g1!.name);
    await sendFrames(g0!.netns!, g0!.name, 100);
    const after = await ifaceCounters(g1!.netns!, g1!.name);
    expect(after.rxPackets - before.rxPackets).to.equal(100);
  });
});
