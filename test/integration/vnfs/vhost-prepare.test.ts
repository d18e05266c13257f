/**
 * MIGRATION_PREPARE_PORTS on a real OVS-DPDK: a fresh vhost-user client port reconfigures the datapath
 * when its first device arrives (the control: OVS logs a PMD rx-queue assignment), a prepared port
 * does not when the next device arrives; the primer leaves no process, socket or EAL runtime dir.
 * The device arrivals are real virtio-user frontends (dpdk-testpmd), OVS's own log is the observer.
 */
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { OvsSwitch } from '../../../deployments/vswitch/ovs.js';
import { DriverError } from '../../../framework/errors.js';
import { makeCtx, processesMentioning, releaseCtx, testLog, type TestCtx } from './helpers.js';

/** OVS-DPDK reassigns PMD rx queues when the datapath reconfigures (a port added, a port's first device). */
const REASSIGN = /Performing pmd to rx queue assignment/g;

function count(log: string, re: RegExp): number {
  return (log.match(re) ?? []).length;
}

describe('vnfs: vhost-user ports prepared for their first device (real OVS-DPDK, integration)', function () {
  this.timeout(120_000);
  let ctx: TestCtx;
  let ovs: OvsSwitch;
  const runDir = `/tmp/vsv-prep-${process.pid}`;

  beforeEach(async () => {
    rmSync(runDir, { recursive: true, force: true });
    ctx = makeCtx({ VSWITCH_PMD_CPU_MASK: '2', DPDK_SOCKET_MEM: ['256'] }, 'vsv-prep');
    ovs = new OvsSwitch({
      name: 'OvsDpdkVhost',
      dpdk: true,
      settings: ctx.settings,
      host: ctx.host,
      log: testLog,
      runDir,
      filePrefix: `vsvprep${process.pid}`,
    });
    ctx.cleanup.defer('stop OVS', () => ovs.stop());
  });

  afterEach(async () => {
    await releaseCtx(ctx);
    expect(processesMentioning(runDir), 'processes of the test left').to.deep.equal([]);
    expect(
      existsSync('/var/run/dpdk') ? readdirSync('/var/run/dpdk').filter((d) => d.startsWith(`vsprime-${process.pid}-`)) : [],
      'primer EAL dirs',
    ).to.deep.equal([]);
    rmSync(runDir, { recursive: true, force: true });
  });

  it("a fresh port's first device reconfigures the datapath; once prepared, the next device does not", async () => {
    await ovs.start();
    await ovs.addBridge('vsvprep0');
    const p = await ovs.addVhostPort('vsvprep0', 'vhp0', 1);
    const log = () => readFileSync(ovs.logFile(), 'utf8');
    // The add-port's own reassignment is logged before add-port returns; wait until the log is quiet.
    let before = count(log(), REASSIGN);
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const n = count(log(), REASSIGN);
      if (n === before && i > 4) break;
      before = n;
    }

    // The first device ever on the port (the primer is one): OVS reconfigures. This is what a fresh
    // migration destination paid inside its switch-over.
    const ms1 = await ovs.prepareVhostPorts('vsvprep0', ['vhp0']);
    expect(ms1).to.be.above(0);
    const afterFirst = log();
    expect(count(afterFirst, /vHost Device '[^']*vhp0' has been added/g), 'first device added').to.equal(1);
    expect(count(afterFirst, REASSIGN), 'reassignment on the first device').to.be.above(before);

    // A second device on the prepared port (what the migrated guest's QEMU is): added, no reassignment.
    await ovs.prepareVhostPorts('vsvprep0', ['vhp0']);
    const afterSecond = log();
    expect(count(afterSecond, /vHost Device '[^']*vhp0' has been added/g), 'second device added').to.equal(2);
    expect(count(afterSecond, REASSIGN), 'no reassignment on a prepared port').to.equal(count(afterFirst, REASSIGN));

    // Nothing of the primer left: its socket is gone (the QEMU that comes next creates its own), its link is down.
    expect(existsSync(p.socketPath!), 'primer socket removed').to.equal(false);
    expect(await ovs.waitLinksUp('vsvprep0', ['vhp0'], 0)).to.deep.equal(['vhp0']);
    expect(processesMentioning(join(runDir, 'vhp0')), 'primer process').to.deep.equal([]);
  });

  it('a port that exists but never comes up: the timeout, in one line naming it and what to do, and nothing left', async () => {
    await ovs.start();
    await ovs.addBridge('vsvprep0');
    // A real vhost-user client port whose socket is somewhere else: the primer serves <run dir>/vhpdown,
    // OVS keeps trying the other path, the port stays down until the deadline.
    await ovs.vsctl(
      [
        'add-port',
        'vsvprep0',
        'vhpdown',
        '--',
        'set',
        'Interface',
        'vhpdown',
        'type=dpdkvhostuserclient',
        `options:vhost-server-path=${join(runDir, 'elsewhere')}`,
      ],
      'add-port vhpdown',
    );
    expect(await ovs.waitLinksUp('vsvprep0', ['vhpdown'], 0), 'the port exists, down').to.deep.equal(['vhpdown']);
    const err = await ovs.prepareVhostPorts('vsvprep0', ['vhpdown'], 3000).then(
      () => undefined,
      (e: unknown) => e as DriverError,
    );
    expect(err).to.be.instanceOf(DriverError);
    expect(err!.message).not.to.contain('\n');
    expect(err!.message).to.match(/vhost-user port\(s\) vhpdown of bridge vsvprep0 still down 3 s after a virtio-user frontend started on \S+\/vhpdown$/);
    expect(err!.hint).to.match(/ovs-vsctl list Interface vhpdown.*MIGRATION_PREPARE_PORTS=false/);
    expect(err!.brief()).not.to.contain('\n');
    // The primer is gone with its socket; afterEach checks processes and EAL dirs.
    expect(existsSync(join(runDir, 'vhpdown')), 'primer socket removed').to.equal(false);
  });
});
