import { expect } from 'chai';
import { DriverError } from '../../../../framework/errors.js';
import { IxNetworkGenerator } from '../../../../trafficgen/grpc/backends/ixnetwork/backend.js';
import type { PortSpec, TrialSpec } from '../../../../framework/api/trafficgen.js';
import { FakeIxNetwork } from '../../../fixtures/ixnetwork-fake/server.js';

const PORTS: PortSpec[] = [
  { name: '10.0.0.5;1;1', speedMbps: 10_000 },
  { name: '10.0.0.5;1;2', speedMbps: 10_000 },
];

function trial(over: Partial<TrialSpec> = {}): TrialSpec {
  return {
    stream: {
      frameSize: 64,
      l2: { srcMac: '00:00:00:00:00:01', dstMac: '00:00:00:00:00:02' },
      l3: { enabled: true, version: 4, proto: 'udp', srcIp: '1.1.1.1', dstIp: '90.90.90.90' },
      l4: { enabled: true, srcPort: 3000, dstPort: 3001 },
      vlan: { enabled: false, id: 0, priority: 0, cfi: 0 },
      multistream: 0,
      streamType: 'L4',
    },
    bidir: true,
    rate: { unit: 'fps', value: 100_000 },
    latency: true,
    durationS: 1,
    ...over,
  };
}

describe('trafficgen/grpc IxNetwork backend against the fake IxNetwork REST server', function () {
  this.timeout(30_000);
  let fake: FakeIxNetwork;
  let gen: IxNetworkGenerator | undefined;

  afterEach(async () => {
    await gen?.close();
    gen = undefined;
    await fake.close();
  });

  it('runs a duration trial (Linux flavour, 307 redirect, login, session, ports, traffic item, Flow Statistics) and tears the session down', async () => {
    fake = new FakeIxNetwork({ capacityFps: 60_000, redirect: true });
    const url = await fake.start();
    gen = new IxNetworkGenerator({ baseUrl: url, platform: 'linux', user: 'admin', password: 'admin', pollMs: 50 });
    await gen.connect(PORTS);
    expect([...fake.vports.values()].map((v) => v.assignedTo)).to.deep.equal(['10.0.0.5:1:1', '10.0.0.5:1:2']);
    const r = await gen.runTrial(trial());
    expect(r.directions).to.have.length(2);
    for (const d of r.directions) {
      // 100 kfps offered for 1 s, the fake DUT forwards 60 kfps.
      expect(d.txFrames).to.be.within(95_000, 105_000);
      expect(d.rxFrames).to.be.within(57_000, 63_000);
      expect(d.lostFrames).to.equal(d.txFrames - d.rxFrames);
      expect(d.latency?.avgNs).to.equal(2500);
    }
    expect(r.lossPct).to.be.within(37, 43);
    expect(r.offeredFps).to.equal(100_000);
    expect(r.achievedTxFps).to.be.within(95_000, 105_000);
    expect(r.generatorLimited).to.equal(false);
    expect(fake.log).to.include('POST /ixnetworkweb/api/v1/auth/session');
    expect(fake.log.some((l) => /POST .*\/traffic\/operations\/apply$/.test(l))).to.equal(true);
    await gen.close();
    gen = undefined;
    expect(fake.sessions.size).to.equal(0);
  });

  it('runs a fixed-frame-count trial at % line rate with IMIX on the Windows flavour', async () => {
    fake = new FakeIxNetwork({ platform: 'windows' });
    const url = await fake.start();
    gen = new IxNetworkGenerator({ baseUrl: url, platform: 'windows', pollMs: 50 });
    await gen.connect(PORTS);
    const r = await gen.runTrial(trial({ durationS: undefined, frames: 20_000, bidir: false, rate: { unit: 'pct', value: 1 }, stream: { ...trial().stream, imixGenome: 'aaag' } }));
    expect(r.directions).to.have.length(1);
    expect(r.txFrames).to.be.within(19_990, 20_010);
    expect(r.rxFrames).to.equal(r.txFrames);
    expect(r.lossPct).to.equal(0);
  });

  it('fails a trial with a DriverError carrying the server message when an async operation fails, then recovers', async () => {
    fake = new FakeIxNetwork({});
    const url = await fake.start();
    gen = new IxNetworkGenerator({ baseUrl: url, platform: 'linux', user: 'admin', password: 'admin', pollMs: 50 });
    await gen.connect(PORTS);
    fake.failOnce.set('apply', 'Error in L2/L3 Traffic Apply');
    let err: unknown;
    try {
      await gen.runTrial(trial());
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(DriverError);
    expect((err as DriverError).operation).to.equal('apply');
    expect((err as Error).message).to.match(/Error in L2\/L3 Traffic Apply/);
    expect(fake.trafficState).to.not.equal('started');
    const r = await gen.runTrial(trial({ bidir: false }));
    expect(r.txFrames).to.be.greaterThan(90_000);
  });

  it('rejects a wrong password with a DriverError that names the login step', async () => {
    fake = new FakeIxNetwork({});
    const url = await fake.start();
    gen = new IxNetworkGenerator({ baseUrl: url, platform: 'linux', user: 'admin', password: 'nope', pollMs: 50 });
    let err: unknown;
    try {
      await gen.connect(PORTS);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(DriverError);
    expect((err as Error).message).to.match(/login.*401.*Invalid username or password/);
  });

  it('rejects a port that is not a chassis;card;port location', async () => {
    fake = new FakeIxNetwork({});
    const url = await fake.start();
    gen = new IxNetworkGenerator({ baseUrl: url, platform: 'linux', user: 'admin', password: 'admin', pollMs: 50 });
    let err: unknown;
    try {
      await gen.connect([{ name: 'veth0', speedMbps: 10_000 }, PORTS[1]!]);
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).to.match(/port 0 "veth0" is not an IXIA location/);
  });
});
