import { expect } from 'chai';
import type { PortSpec } from '../../../../framework/api/trafficgen.js';
import { CapabilityError, type VsperfError } from '../../../../framework/errors.js';
import type { SshTarget } from '../../../../framework/host/ssh.js';
import { PlacedGenerator } from '../../../../framework/runner/placed-generator.js';
import { SimulatedDut } from '../../../../trafficgen/simulated/dut.js';
import { SimulatedGenerator } from '../../../../trafficgen/simulated/driver.js';
import { basicStream } from '../../../../framework/api/example-spec.js';

const gen: SshTarget = { name: 'gen', address: '192.0.2.4', user: 'root', keyFile: '/k/id', knownHosts: '/k/kh', roles: ['generator'] };

/** A real (simulated) generator that keeps the ports it was handed and whether it was closed. */
class Recording extends SimulatedGenerator {
  handed: readonly PortSpec[] | undefined;
  closed = 0;
  override async connect(ports: readonly PortSpec[]): Promise<void> {
    this.handed = ports;
    await super.connect(ports);
  }
  override async close(): Promise<void> {
    this.closed++;
    await super.close();
  }
}

// Told apart by their DUTs: the local one forwards 1 Mfps, the remote one 1000 fps.
const trial = { stream: basicStream(), bidir: false, rate: { unit: 'fps' as const, value: 5000 }, latency: false, durationS: 10 };

describe('PlacedGenerator: the generator runs where its ports are', () => {
  it('ports of this host: the local generator; nothing is opened elsewhere', async () => {
    const local = new Recording(new SimulatedDut({ capacityFps: 1e6 }));
    let opened = 0;
    const g = new PlacedGenerator(local, async () => (opened++, new Recording(new SimulatedDut({ capacityFps: 1000 }))));
    await g.connect([
      { name: 'a', speedMbps: 1000 },
      { name: 'b', speedMbps: 1000 },
    ]);
    expect((await g.runTrial(trial)).lossPct).to.equal(0);
    expect(opened).to.equal(0);
    expect(g.host).to.equal(undefined);
    await g.close();
    expect(local.closed).to.equal(1);
  });

  it('ports on a generator host: the remote generator, opened on that host, gets the ports without the route', async () => {
    const local = new Recording(new SimulatedDut({ capacityFps: 1e6 }));
    const remote = new Recording(new SimulatedDut({ capacityFps: 1000 }));
    const hosts: string[] = [];
    const g = new PlacedGenerator(local, async (h) => (hosts.push(h.name), remote));
    await g.connect([
      { name: 'fab0', speedMbps: 1000, host: gen },
      { name: 'fab1', speedMbps: 1000, host: gen },
    ]);
    expect(hosts).to.deep.equal(['gen']);
    expect(g.host).to.equal('gen');
    expect(remote.handed).to.deep.equal([
      { name: 'fab0', speedMbps: 1000 },
      { name: 'fab1', speedMbps: 1000 },
    ]);
    expect(local.handed).to.equal(undefined);
    // The trial ran on the remote generator (its DUT loses 80 % at 5000 fps).
    expect((await g.runTrial(trial)).lossPct).to.be.closeTo(80, 0.5);
    await g.close();
    expect(remote.closed).to.equal(1);
    expect(local.closed).to.equal(1);
  });

  it('close is idempotent: a second call is a no-op, concurrent calls share one close of each side', async () => {
    // Each side's close takes a while (a remote shim stops over SSH): the calls overlap.
    class Slow extends Recording {
      override async close(): Promise<void> {
        await new Promise((r) => setTimeout(r, 20));
        await super.close();
      }
    }
    const local = new Slow(new SimulatedDut({ capacityFps: 1e6 }));
    const remote = new Slow(new SimulatedDut({ capacityFps: 1000 }));
    const g = new PlacedGenerator(local, async () => remote);
    await g.connect([{ name: 'fab0', speedMbps: 1000, host: gen }]);
    const a = g.close();
    const b = g.close();
    expect(b).to.equal(a);
    await Promise.all([a, b]);
    await g.close();
    expect(remote.closed).to.equal(1);
    expect(local.closed).to.equal(1);
  });

  it('a close that failed is not repeated: a second call reports the same failure', async () => {
    let calls = 0;
    class Failing extends Recording {
      override async close(): Promise<void> {
        calls++;
        throw new Error('ssh: connection lost');
      }
    }
    const g = new PlacedGenerator(new Failing(new SimulatedDut({ capacityFps: 1e6 })), async () => new Recording(new SimulatedDut({ capacityFps: 1 })));
    const first = await g.close().then(
      () => undefined,
      (e: unknown) => e,
    );
    const second = await g.close().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((first as VsperfError).code).to.equal('E_CLEANUP');
    expect(second).to.equal(first);
    expect(calls).to.equal(1);
  });

  it('ports on two different hosts: refused in one line, nothing opened', async () => {
    let opened = 0;
    const g = new PlacedGenerator(
      new Recording(new SimulatedDut({ capacityFps: 1e6 })),
      async () => (opened++, new Recording(new SimulatedDut({ capacityFps: 1 }))),
    );
    let err: unknown;
    try {
      await g.connect([
        { name: 'fab0', speedMbps: 1000, host: gen },
        { name: 'eth1', speedMbps: 1000 },
      ]);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(CapabilityError);
    expect((err as Error).message).to.match(/gen and this host/);
    expect((err as Error).message).not.to.contain('\n');
    expect(opened).to.equal(0);
  });
});
