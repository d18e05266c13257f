/**
 * pvp on the real stack: OVS-DPDK with two dpdkvhostuserclient ports, a QEMU guest from the VNF driver
 * (QemuDpdkVhostUser, bridging eth0/eth1), flows installed before the guest boots; frames go
 * generator port 0 → OVS → guest → OVS → generator port 1. Then nothing of ours is left.
 */
import { expect } from 'chai';
import type { SwitchCounters } from '../../../framework/api/deployment.js';
import { ifaceCounters, leftovers, makeCtx, NOTHING, scopeOf, sendFrames, type Scope, type TestCtx } from './helpers.js';

describe('deployments: pvp with a QEMU guest (integration)', function () {
  this.timeout(240_000);
  let t: TestCtx | undefined;

  /** pvp with one guest running `loopback`: frames cross it, counters agree, nothing is left. */
  async function forwardsThroughGuest(loopback: string): Promise<void> {
    let scope: Scope | undefined;
    t = makeCtx({ VSWITCH: 'OvsDpdkVhost', VNF: 'QemuDpdkVhostUser', GUEST_NICS_NR: [2], GUEST_LOOPBACK: [loopback] });
    try {
      const factory = await t.registry.create('deployment', 'pvp', t.ctx);
      const dep = await factory.build(t.ctx);
      const topo = await dep.setup(t.ctx.signal);
      scope = scopeOf(topo.facts, t.workDir);
      expect(topo.guests).to.have.length(1);
      expect(topo.facts.guests).to.equal(1);
      expect(topo.facts.flows_installed).to.equal(4);
      expect(String(topo.facts.flows)).to.include('in_port=1').and.include('actions=output:3');
      const [g0, g1] = topo.generatorPorts;
      // Learning frames first, then 2 s, as an RFC 2544 trial does: right after boot an idle TCG guest
      // forwarded only the first frame of a burst (seen on a quiet box); after one learning burst it forwards all.
      await sendFrames(g0!.netns!, g0!.name, 20, 0, 10);
      await new Promise((r) => setTimeout(r, 2000));
      await topo.beforeTrial!();
      const before = await ifaceCounters(g1!.netns!, g1!.name);
      // The TCG guest forwards some 10-30 kpps here: send slowly.
      await sendFrames(g0!.netns!, g0!.name, 300, 0, 10);
      await new Promise((r) => setTimeout(r, 1000));
      const after = await ifaceCounters(g1!.netns!, g1!.name);
      const c = (await topo.afterTrial!()) as unknown as SwitchCounters;
      const got = after.rxPackets - before.rxPackets;
      expect(c.generatorPorts![0]!.rxFromGenerator).to.equal(300);
      // The switch's side is exact; the TCG guest on a loaded 2-core box may drop a few.
      expect(got, 'frames back from the guest').to.be.at.least(270);
      expect(c.generatorPorts![1]!.txToGenerator).to.equal(got);
      const vhu = c.ports.find((p) => p.name === 'dpdkvhostuserclient0')!;
      expect(vhu.txPackets + vhu.txDropped).to.equal(300);
      await dep.teardown();
    } finally {
      const { errors, live } = await t.dispose();
      t = undefined;
      expect(errors).to.deep.equal([]);
      expect(live).to.deep.equal([]);
    }
    const left = await leftovers(scope!);
    expect(left, JSON.stringify(left)).to.deep.equal(NOTHING);
  }

  it('forwards frames through the guest (kernel bridge) and tears down clean', () => forwardsThroughGuest('linux_bridge'));

  // DPDK's l2fwd polls the virtio NICs through uio_pci_generic inside the TCG guest.
  it('forwards frames through a guest running DPDK l2fwd and tears down clean', () => forwardsThroughGuest('l2fwd'));

  // testpmd prints its ready line with printf: the image preloads coreutils' libstdbuf so that it
  // reaches the log (a 4 KiB stdio buffer held it back, and the guest looked stuck after its mbuf pool).
  it('forwards frames through a guest running DPDK testpmd (VSPERF default) and tears down clean', () => forwardsThroughGuest('testpmd'));

  // One guest with each DPDK app (the kernel bridge is in the pvp tests above and in pvpv).
  it('pvvp: two guests in series (testpmd, then l2fwd) forward frames (PHY1 → VM1 → VM2 → PHY2) and tear down clean', async () => {
    let scope: Scope | undefined;
    t = makeCtx({ VSWITCH: 'OvsDpdkVhost', VNF: 'QemuDpdkVhostUser', GUEST_NICS_NR: [2], GUEST_LOOPBACK: ['testpmd', 'l2fwd'] });
    try {
      const dep = await (await t.registry.create('deployment', 'pvvp', t.ctx)).build(t.ctx);
      const topo = await dep.setup(t.ctx.signal);
      scope = scopeOf(topo.facts, t.workDir);
      expect(topo.guests).to.have.length(2);
      expect(String(topo.facts.flows)).to.include('in_port=4 actions=output:5');
      const [g0, g1] = topo.generatorPorts;
      // Learning frames first, then 2 s (see the pvp test above).
      await sendFrames(g0!.netns!, g0!.name, 20, 0, 10);
      await new Promise((r) => setTimeout(r, 2000));
      await topo.beforeTrial!();
      const before = await ifaceCounters(g1!.netns!, g1!.name);
      await sendFrames(g0!.netns!, g0!.name, 200, 0, 10);
      await new Promise((r) => setTimeout(r, 1500));
      const after = await ifaceCounters(g1!.netns!, g1!.name);
      const c = (await topo.afterTrial!()) as unknown as SwitchCounters;
      const got = after.rxPackets - before.rxPackets;
      expect(got, 'frames through both guests').to.be.at.least(180);
      expect(c.ports.find((p) => p.name === 'dpdkvhostuserclient2')!.txPackets, 'VM1 → VM2 hop').to.be.at.least(180);
      await dep.teardown();
    } finally {
      const { errors, live } = await t.dispose();
      t = undefined;
      expect(errors).to.deep.equal([]);
      expect(live).to.deep.equal([]);
    }
    const left = await leftovers(scope!);
    expect(left, JSON.stringify(left)).to.deep.equal(NOTHING);
  });
});
