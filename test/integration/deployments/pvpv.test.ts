/**
 * pvpv on the real stack: OVS-DPDK, two QEMU guests in parallel (QemuDpdkVhostUser, DPDK l2fwd in one,
 * testpmd in the other, each forwarding between its two NICs), one stream per guest (pxp-plan: generator port 0 → guest k by UDP dst port 3001+k →
 * generator port 1). Real frames go through both guests; each guest's share is counted on its own
 * vhost-user ports, so a guest that does not forward fails the test. One setup for the whole file
 * (two TCG boots are the expensive part), torn down and audited in `after`.
 */
import { expect } from 'chai';
import type { Deployment, SwitchCounters, Topology } from '../../../framework/api/deployment.js';
import { ifaceCounters, leftovers, makeCtx, NOTHING, scopeOf, sendFrames, type Scope, type TestCtx } from './helpers.js';

/** Frames the switch sent towards each guest (its eth0 port, delivered or dropped) and got back from it (its eth1 port) over one trial. */
function perGuest(c: SwitchCounters): { toGuest: number; fromGuest: number }[] {
  const port = (n: number) => c.ports.find((p) => p.name === `dpdkvhostuserclient${n}`)!;
  return [0, 1].map((g) => ({ toGuest: port(2 * g).txPackets + port(2 * g).txDropped, fromGuest: port(2 * g + 1).rxPackets }));
}

describe('deployments: pvpv with two QEMU guests in parallel (integration)', function () {
  this.timeout(240_000);
  let t: TestCtx | undefined;
  let dep: Deployment | undefined;
  let topo: Topology | undefined;
  let scope: Scope | undefined;

  /** One counted burst of `n` frames split over the two streams; returns per-guest and generator-side counts. */
  async function trial(n: number): Promise<{ guests: { toGuest: number; fromGuest: number }[]; atGenerator: number; c: SwitchCounters }> {
    const [g0, g1] = topo!.generatorPorts;
    await topo!.beforeTrial!();
    const before = await ifaceCounters(g1!.netns!, g1!.name);
    await sendFrames(g0!.netns!, g0!.name, n, 2, 10);
    await new Promise((r) => setTimeout(r, 1500));
    const after = await ifaceCounters(g1!.netns!, g1!.name);
    const c = (await topo!.afterTrial!()) as unknown as SwitchCounters;
    return { guests: perGuest(c), atGenerator: after.rxPackets - before.rxPackets, c };
  }

  before(async () => {
    // Both DPDK loopback apps, one per guest (the kernel bridge has the pvp tests).
    t = makeCtx({ VSWITCH: 'OvsDpdkVhost', VNF: 'QemuDpdkVhostUser', GUEST_NICS_NR: [2], GUEST_LOOPBACK: ['l2fwd', 'testpmd'] });
    dep = await (await t.registry.create('deployment', 'pvpv', t.ctx)).build(t.ctx);
    topo = await dep.setup(t.ctx.signal);
    scope = scopeOf(topo.facts, t.workDir);
    // Learning frames on both streams, then 2 s (an idle TCG guest forwards only the first frame of its first burst).
    const g0 = topo.generatorPorts[0]!;
    await sendFrames(g0.netns!, g0.name, 20, 2, 10);
    await new Promise((r) => setTimeout(r, 2000));
  });

  after(async () => {
    try {
      await dep?.teardown();
    } finally {
      const { errors, live } = await t!.dispose();
      expect(errors).to.deep.equal([]);
      expect(live, 'journal entries left').to.deep.equal([]);
      const left = await leftovers(scope ?? { tags: [], dirs: [t!.workDir] });
      expect(left, JSON.stringify(left)).to.deep.equal(NOTHING);
    }
  });

  it('splits the traffic by stream and both guests forward their share', async () => {
    expect(topo!.guests).to.have.length(2);
    expect(topo!.facts).to.deep.include({ guests: 2, guest_topology: 'parallel' });
    expect(topo!.trafficOverrides).to.deep.equal({ multistream: 2, stream_type: 'L4' });
    const flows = String(topo!.facts.flows);
    expect(flows).to.include('tp_dst=3001').and.include('actions=output:3');
    expect(flows).to.include('tp_dst=3002').and.include('actions=output:5');
    const r = await trial(300);
    // The switch dispatches exactly: 150 frames per guest.
    expect(r.c.generatorPorts![0]!.rxFromGenerator).to.equal(300);
    expect(
      r.guests.map((g) => g.toGuest),
      'frames the switch sent to each guest',
    ).to.deep.equal([150, 150]);
    // Each guest must forward its own share (the TCG guests on a loaded 2-core box may drop a few).
    for (const [i, g] of r.guests.entries()) expect(g.fromGuest, `frames forwarded by guest ${i}`).to.be.at.least(135);
    expect(r.atGenerator, 'frames back at generator port 1').to.equal(r.guests[0]!.fromGuest + r.guests[1]!.fromGuest);
    expect(r.c.generatorPorts![1]!.txToGenerator).to.equal(r.atGenerator);
  });

  it('a guest that stops forwarding shows in its own counts (guest 1 stopped)', async () => {
    await topo!.guests![1]!.stop();
    const r = await trial(100);
    expect(r.guests[1]!.fromGuest, 'stopped guest forwarded nothing').to.equal(0);
    expect(r.guests[0]!.fromGuest, 'guest 0 still forwards its share').to.be.at.least(45);
    expect(r.atGenerator).to.equal(r.guests[0]!.fromGuest);
  });
});
