import { expect } from 'chai';
import { DriverError } from '../../../../framework/errors.js';
import { IxNetworkBackend, IxNetworkGenerator } from '../../../../trafficgen/grpc/backends/ixnetwork/backend.js';
import type { PortSpec, StreamSpec, TrialSpec } from '../../../../framework/api/trafficgen.js';
import { basicStream } from '../../../../framework/api/example-spec.js';
import { FakeIxNetwork, type FieldWrite } from '../../../fixtures/ixnetwork-fake/server.js';
import { rejection } from '../../../helpers/rejection.js';

const PORTS: PortSpec[] = [
  { name: '10.0.0.5;1;1', speedMbps: 10_000 },
  { name: '10.0.0.5;1;2', speedMbps: 10_000 },
];

// VSPERF's default addresses: the expected IxNetwork payloads below name them.
const STREAM: StreamSpec = basicStream({
  l2: { srcMac: '00:00:00:00:00:01', dstMac: '00:00:00:00:00:02' },
  l3: { enabled: true, version: 4, proto: 'udp', srcIp: '1.1.1.1', dstIp: '90.90.90.90' },
});

function trial(over: Partial<TrialSpec> = {}, stream: Partial<StreamSpec> = {}): TrialSpec {
  return { stream: { ...STREAM, ...stream }, bidir: true, rate: { unit: 'fps', value: 100_000 }, latency: true, durationS: 1, drainS: 0.05, ...over };
}

/** The field writes of config element `ce` as { "stack fieldTypeId": body }. */
function fields(writes: readonly FieldWrite[], ce: number): Record<string, unknown> {
  return Object.fromEntries(writes.filter((w) => w.configElement === ce).map((w) => [`${w.stackTypeId} ${w.fieldTypeId}`, w.body]));
}

/** Stack order of config element `ce` in the fake's session. */
function stackOrder(fake: FakeIxNetwork, ce: number): string[] {
  const ti = [...fake.only().model.trafficItems.values()].pop()!;
  return ti.ces[ce - 1]!.stacks.map((s) => s.stackTypeId);
}

for (const links of ['relative', 'absolute'] as const) {
  describe(`trafficgen/grpc IxNetwork backend against the strict fake IxNetwork (${links} links)`, function () {
    this.timeout(30_000);
    let fake: FakeIxNetwork;
    let gen: IxNetworkGenerator | undefined;

    async function connect(o: ConstructorParameters<typeof FakeIxNetwork>[0] = {}, password = 'admin'): Promise<IxNetworkGenerator> {
      fake = new FakeIxNetwork({ links, opDelayMs: 5, ...o });
      const url = await fake.start();
      const platform = o?.platform ?? 'linux';
      gen = new IxNetworkGenerator(
        { baseUrl: url, platform, user: 'admin', password, pollMs: 20, portUpTimeoutMs: 5000 },
        undefined,
        'vsperf-tgshim/test/h/1/x',
      );
      await gen.connect(PORTS);
      return gen;
    }

    afterEach(async () => {
      await gen?.close();
      gen = undefined;
      await fake?.close();
    });

    it('runs a bidirectional duration trial (307 redirect, login, tagged session, ports, headers, Flow Statistics) and deletes the session', async () => {
      await connect({ capacityFps: 60_000, redirect: true });
      expect([...fake.only().model.vports.values()].map((v) => v.assignedTo)).to.deep.equal(['10.0.0.5:1:1', '10.0.0.5:1:2']);
      expect(fake.only().sessionName).to.equal('vsperf-tgshim/test/h/1/x');
      const r = await gen!.runTrial(trial());
      expect(r.directions).to.have.length(2);
      for (const d of r.directions) {
        // 100 kfps offered for 1 s, the fake DUT forwards 60 kfps.
        expect(d.txFrames).to.be.within(99_000, 101_000);
        expect(d.rxFrames).to.be.within(59_000, 61_000);
        expect(d.lostFrames).to.equal(d.txFrames - d.rxFrames);
        expect(d.latency?.avgNs).to.equal(2500);
      }
      expect(r.offeredFps).to.equal(100_000);
      expect(r.generatorLimited).to.equal(false);
      expect(fake.log).to.include('POST /ixnetworkweb/api/v1/auth/session');
      // Operation arguments are relative references whatever link style the server uses.
      const apply = fake.requests.find((q) => /\/traffic\/operations\/apply$/.test(q.path) && q.status !== 307);
      expect(apply?.body).to.deep.equal({ arg1: '/api/v1/sessions/1/ixnetwork/traffic' });
      expect(apply?.status).to.equal(202);
      // Forward headers on element 1, the swapped ones on element 2; integer duration.
      const w = fake.fieldWrites;
      expect(fields(w, 1)).to.deep.include({
        'ethernet ethernet.header.destinationAddress': { valueType: 'singleValue', singleValue: '00:00:00:00:00:02', auto: false },
        'ethernet ethernet.header.sourceAddress': { valueType: 'singleValue', singleValue: '00:00:00:00:00:01', auto: false },
        'ipv4 ipv4.header.srcIp': { valueType: 'singleValue', singleValue: '1.1.1.1', auto: false },
        'ipv4 ipv4.header.dstIp': { valueType: 'singleValue', singleValue: '90.90.90.90', auto: false },
        'udp udp.header.srcPort': { valueType: 'singleValue', singleValue: '3000', auto: false },
        'udp udp.header.dstPort': { valueType: 'singleValue', singleValue: '3001', auto: false },
      });
      expect(fields(w, 2)).to.deep.include({
        'ethernet ethernet.header.destinationAddress': { valueType: 'singleValue', singleValue: '00:00:00:00:00:01', auto: false },
        'ipv4 ipv4.header.dstIp': { valueType: 'singleValue', singleValue: '1.1.1.1', auto: false },
        'udp udp.header.dstPort': { valueType: 'singleValue', singleValue: '3000', auto: false },
      });
      expect(stackOrder(fake, 1)).to.deep.equal(['ethernet', 'ipv4', 'udp', 'fcs']);
      const tc = fake.requests
        .filter((q) => q.method === 'PATCH' && q.status !== 307 && q.path.endsWith('/configElement/1/transmissionControl'))
        .map((q) => q.body);
      expect(tc).to.deep.equal([{ type: 'fixedDuration' }, { duration: 1 }]);
      await gen!.close();
      gen = undefined;
      expect(fake.sessions.size).to.equal(0);
    });

    it('programs an 802.1Q tag (id, priority, cfi) after Ethernet', async () => {
      await connect();
      await gen!.runTrial(trial({ bidir: false, durationS: 0.2 }, { vlan: { enabled: true, id: 100, priority: 5, cfi: 1 } }));
      expect(stackOrder(fake, 1)).to.deep.equal(['ethernet', 'vlan', 'ipv4', 'udp', 'fcs']);
      expect(fields(fake.fieldWrites, 1)).to.deep.include({
        'vlan vlan.header.vlanTag.vlanID': { valueType: 'singleValue', singleValue: '100', auto: false },
        'vlan vlan.header.vlanTag.vlanUserPriority': { valueType: 'singleValue', singleValue: '5', auto: false },
        'vlan vlan.header.vlanTag.cfi': { valueType: 'singleValue', singleValue: '1', auto: false },
      });
      expect(gen!.capabilities()).to.include({ vlan: true, ipv6: true, imix: true, multistream: true });
    });

    it('programs IPv6 addresses on an ipv6 stack', async () => {
      await connect();
      await gen!.runTrial(trial({ durationS: 0.2 }, { l3: { enabled: true, version: 6, proto: 'udp', srcIp: '2001:db8::1', dstIp: '2001:db8::2' } }));
      expect(stackOrder(fake, 1)).to.deep.equal(['ethernet', 'ipv6', 'udp', 'fcs']);
      expect(fields(fake.fieldWrites, 1)).to.deep.include({
        'ipv6 ipv6.header.srcIP': { valueType: 'singleValue', singleValue: '2001:db8:0:0:0:0:0:1', auto: false },
        'ipv6 ipv6.header.dstIP': { valueType: 'singleValue', singleValue: '2001:db8:0:0:0:0:0:2', auto: false },
      });
      expect(fields(fake.fieldWrites, 2)).to.deep.include({
        'ipv6 ipv6.header.dstIP': { valueType: 'singleValue', singleValue: '2001:db8:0:0:0:0:0:1', auto: false },
      });
    });

    it('varies the stream_type field per flow: L2 MAC, L3 IP, L4 UDP port increments with the flow count; a wrapping range as a valueList', async () => {
      await connect();
      await gen!.runTrial(trial({ bidir: false, durationS: 0.2 }, { multistream: 1000, streamType: 'L3' }));
      expect(fields(fake.fieldWrites, 1)['ipv4 ipv4.header.dstIp']).to.deep.equal({
        valueType: 'increment',
        startValue: '90.90.90.90',
        stepValue: '0.0.0.1',
        countValue: '1000',
        auto: false,
      });
      fake.fieldWrites.length = 0;
      await gen!.runTrial(trial({ bidir: false, durationS: 0.2 }, { multistream: 256, streamType: 'L2' }));
      expect(fields(fake.fieldWrites, 1)['ethernet ethernet.header.destinationAddress']).to.deep.equal({
        valueType: 'increment',
        startValue: '00:00:00:00:00:02',
        stepValue: '00:00:00:00:00:01',
        countValue: '256',
        auto: false,
      });
      fake.fieldWrites.length = 0;
      await gen!.runTrial(trial({ bidir: false, durationS: 0.2 }, { multistream: 4, streamType: 'L4', l4: { enabled: true, srcPort: 1, dstPort: 65534 } }));
      expect(fields(fake.fieldWrites, 1)['udp udp.header.dstPort']).to.deep.equal({
        valueType: 'valueList',
        valueList: ['65534', '65535', '0', '1'],
        auto: false,
      });
    });

    it('sends IMIX as weightedPairs and a fractional duration as the exact frame count', async () => {
      await connect({ platform: links === 'relative' ? 'windows' : 'linux' });
      const r = await gen!.runTrial(trial({ durationS: 0.5, bidir: false, rate: { unit: 'pct', value: 1 } }, { imixGenome: 'aaag' }));
      const size = fake.requests.filter((q) => q.method === 'PATCH' && q.path.endsWith('/frameSize')).pop()?.body;
      expect(size).to.deep.equal({ type: 'weightedPairs', weightedPairs: [64, 3, 1518, 1] });
      // 1 % of 10G at an average of 427.5 bytes = 27 932.96 fps; 0.5 s → 13 966 frames.
      const tc = fake.requests.filter((q) => q.method === 'PATCH' && q.path.endsWith('/transmissionControl')).map((q) => q.body);
      expect(tc).to.deep.equal([{ type: 'fixedFrameCount' }, { frameCount: 13966 }]);
      expect(r.txFrames).to.equal(13966);
      expect(r.lossPct).to.equal(0);
    });

    it('a frame-count trial sends fixedFrameCount; learning uses sendL2L3Learning after apply', async () => {
      await connect();
      const r = await gen!.runTrial(trial({ durationS: undefined, frames: 20_000, learningS: 0.2 }));
      expect(r.txFrames).to.equal(40_000);
      expect(fake.only().model.learningSent).to.equal(1);
      const ops = fake.log.filter((l) => /traffic\/operations\/(apply|sendl2l3learning|start)$/.test(l)).map((l) => l.split('/').pop());
      expect(ops).to.deep.equal(['apply', 'sendl2l3learning', 'start']);
    });

    it('fails a trial with a DriverError carrying the server message when an async operation fails, then recovers', async () => {
      await connect();
      fake.failOnce.set('apply', 'Error in L2/L3 Traffic Apply');
      const err = await rejection(gen!.runTrial(trial({ durationS: 0.2 })));
      expect(err).to.be.instanceOf(DriverError);
      expect((err as DriverError).operation).to.equal('apply');
      expect(err.message).to.match(/Error in L2\/L3 Traffic Apply/);
      expect(fake.runningSessions()).to.deep.equal([]);
      const r = await gen!.runTrial(trial({ bidir: false, durationS: 0.2 }));
      expect(r.txFrames).to.equal(20_000);
    });

    it('rejects a wrong password with a DriverError that names the login step', async () => {
      const err = await rejection(connect({}, 'nope'));
      expect(err).to.be.instanceOf(DriverError);
      expect(err.message).to.match(/login.*401.*Invalid username or password/);
    });

    it('rejects a port that is not a chassis;card;port location', async () => {
      fake = new FakeIxNetwork({ links });
      const url = await fake.start();
      gen = new IxNetworkGenerator({ baseUrl: url, platform: 'linux', user: 'admin', password: 'admin', pollMs: 20 });
      const err = await rejection(gen.connect([{ name: 'veth0', speedMbps: 10_000 }, PORTS[1]!]));
      expect(err.message).to.match(/port 0 "veth0" is not an IXIA location/);
    });

    it('continuous traffic runs until stopped and reports the whole run', async () => {
      await connect();
      const run = await gen!.startContinuous(trial({ bidir: false }));
      expect(fake.runningSessions()).to.deep.equal([1]);
      await new Promise((r) => setTimeout(r, 300));
      expect((await run.poll()).txFrames).to.be.greaterThan(0);
      const res = await run.stop();
      expect(res.txFrames).to.be.greaterThan(20_000);
      expect(fake.runningSessions()).to.deep.equal([]);
    });

    it('cleanupStale deletes the sessions of a dead earlier instance (traffic stopped) and leaves live and foreign ones', async () => {
      fake = new FakeIxNetwork({ links });
      const url = await fake.start();
      const backend = new IxNetworkBackend({ baseUrl: url, platform: 'linux', user: 'admin', password: 'admin', pollMs: 20, shimName: 'test' });
      // A dead shim (pid 2^22+1 does not exist) left a session with traffic running.
      gen = (await backend.open()) as IxNetworkGenerator;
      await gen.connect(PORTS);
      const tag = fake.only().sessionName;
      await gen.startContinuous(trial({ bidir: false }));
      fake.only().sessionName = tag.replace(/\/\d+\/([^/]+)$/, '/4194305/$1');
      const dead = fake.only().id;
      // A session of a foreign tool and one of a live shim (this process, another name) stay.
      const foreign = new IxNetworkGenerator(
        { baseUrl: url, platform: 'linux', user: 'admin', password: 'admin', pollMs: 20 },
        undefined,
        `vsperf-tgshim/other/${tag.split('/')[2]}/${process.pid}/y`,
      );
      await foreign.connect(PORTS);
      const cleaned = await new IxNetworkBackend({
        baseUrl: url,
        platform: 'linux',
        user: 'admin',
        password: 'admin',
        pollMs: 20,
        shimName: 'test',
      }).cleanupStale();
      expect(cleaned).to.have.length(1);
      expect(cleaned[0]).to.match(new RegExp(`^/api/v1/sessions/${dead} .*traffic stopped, deleted$`));
      expect(fake.sessions.has(dead)).to.equal(false);
      expect(fake.sessions.size).to.equal(1);
      expect(fake.runningSessions()).to.deep.equal([]);
      await foreign.close();
      gen = undefined;
    });
  });
}

describe('trafficgen/grpc IxNetwork backend: stale cleanup on the Windows GUI (tagged traffic items)', function () {
  this.timeout(20_000);
  it('stops and deletes the traffic item a dead shim left running in the shared session, and only that', async () => {
    const fake = new FakeIxNetwork({ platform: 'windows', opDelayMs: 5 });
    const url = await fake.start();
    const opts = { baseUrl: url, platform: 'windows' as const, pollMs: 20, shimName: 'test' };
    const me = new IxNetworkBackend(opts);
    const host = me.tag.host;
    const dead = new IxNetworkGenerator(opts, undefined, `vsperf-tgshim/test/${host}/4194305/dead`);
    try {
      await dead.connect(PORTS);
      await dead.startContinuous(trial({ bidir: false }));
      expect(fake.runningSessions()).to.deep.equal([1]);
      expect(await new IxNetworkBackend({ ...opts, shimName: 'other' }).cleanupStale()).to.deep.equal([]);
      const cleaned = await me.cleanupStale();
      expect(cleaned).to.have.length(1);
      expect(cleaned[0]).to.match(
        /^\/api\/v1\/sessions\/1\/ixnetwork\/traffic\/trafficItem\/1 \(vsperf-tgshim\/test\/.*\/4194305\/dead\): traffic stopped, deleted$/,
      );
      expect(fake.runningSessions()).to.deep.equal([]);
      expect(fake.only().model.trafficItems.size).to.equal(0);
    } finally {
      await fake.close();
    }
  });
});

describe('strict fake IxNetwork: refuses what the real server refuses', function () {
  let fake: FakeIxNetwork;
  let url: string;
  let key: Record<string, string>;
  let ixn: string;

  async function req(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const r = await fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...key },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : undefined };
  }

  before(async () => {
    fake = new FakeIxNetwork({ opDelayMs: 5 });
    url = await fake.start();
    key = { 'x-api-key': fake.apiKey };
    await req('POST', '/api/v1/sessions', { applicationType: 'ixnrest' });
    await req('POST', '/api/v1/sessions/1/operations/start', {});
    await new Promise((r) => setTimeout(r, 20));
    ixn = '/api/v1/sessions/1/ixnetwork';
    await req('POST', `${ixn}/vport`, {});
    await req('POST', `${ixn}/vport`, {});
    await req('POST', `${ixn}/traffic/trafficItem`, { name: 't', trafficType: 'raw' });
    await req('POST', `${ixn}/traffic/trafficItem/1/endpointSet`, { sources: [`${ixn}/vport/1/protocols`], destinations: [`${ixn}/vport/2/protocols`] });
  });
  after(() => fake.close());

  const cases: Array<[string, string, string, unknown, RegExp]> = [
    ['a string duration', 'PATCH', '/traffic/trafficItem/1/configElement/1/transmissionControl', { duration: 'banana' }, /expected an integer/],
    ['a fractional duration', 'PATCH', '/traffic/trafficItem/1/configElement/1/transmissionControl', { duration: 1.5 }, /expected an integer/],
    ['a negative frame count', 'PATCH', '/traffic/trafficItem/1/configElement/1/transmissionControl', { frameCount: -5 }, /out of range/],
    [
      'type with other attributes',
      'PATCH',
      '/traffic/trafficItem/1/configElement/1/transmissionControl',
      { type: 'fixedDuration', duration: 1 },
      /type on its own/,
    ],
    ['a negative rate', 'PATCH', '/traffic/trafficItem/1/configElement/1/frameRate', { type: 'framesPerSecond', rate: -1 }, /out of range/],
    ['more than 100 % line rate', 'PATCH', '/traffic/trafficItem/1/configElement/1/frameRate', { type: 'percentLineRate', rate: 101 }, /above 100 percent/],
    ['frame size type bogus', 'PATCH', '/traffic/trafficItem/1/configElement/1/frameSize', { type: 'bogus' }, /is not one of/],
    ['odd weightedPairs', 'PATCH', '/traffic/trafficItem/1/configElement/1/frameSize', { type: 'weightedPairs', weightedPairs: [64, 1, 128] }, /pairs/],
    ['latency mode warp', 'PATCH', '/traffic/statistics/latency', { mode: 'warp' }, /is not one of cutThrough/],
    ['an unknown attribute', 'PATCH', '/traffic/trafficItem/1', { colour: 'red' }, /unknown or read-only attribute "colour"/],
    [
      'a bad MAC',
      'PATCH',
      '/traffic/trafficItem/1/configElement/1/stack/1/field/1',
      { valueType: 'singleValue', singleValue: 'zz:00:00:00:00:00' },
      /not a valid MAC/,
    ],
    [
      'a VLAN id as a number',
      'PATCH',
      '/traffic/trafficItem/1/configElement/1/stack/1/field/1',
      { valueType: 'singleValue', singleValue: 5 },
      /expected a string/,
    ],
    [
      'increment without count',
      'PATCH',
      '/traffic/trafficItem/1/configElement/1/stack/1/field/1',
      { valueType: 'increment', startValue: '00:00:00:00:00:01', stepValue: '00:00:00:00:00:01' },
      /needs countValue/,
    ],
    [
      'the same vport as source and destination',
      'POST',
      '/traffic/trafficItem/1/endpointSet',
      { sources: [`/api/v1/sessions/1/ixnetwork/vport/1/protocols`], destinations: [`/api/v1/sessions/1/ixnetwork/vport/1/protocols`] },
      /both source and destination/,
    ],
    [
      'an absolute reference in arg1',
      'POST',
      '/traffic/operations/apply',
      { arg1: 'https://10.0.0.1/ixnetworkweb/api/v1/sessions/1/ixnetwork/traffic' },
      /not a valid object reference/,
    ],
    ['trackBy in the create', 'POST', '/traffic/trafficItem', { name: 'x', trackBy: ['flowGroup0'] }, /trackBy cannot be set/],
  ];
  for (const [what, method, path, body, re] of cases) {
    it(`400 for ${what}`, async () => {
      const r = await req(method, `${ixn}${path}`, body);
      expect(r.status).to.equal(400);
      expect((r.body as { errors: Array<{ detail: string }> }).errors[0]!.detail).to.match(re);
    });
  }

  it('refuses generate with unassigned ports and start before apply; statistics views appear only after start', async () => {
    const gen = await req('POST', `${ixn}/traffic/trafficItem/operations/generate`, { arg1: [`${ixn}/traffic/trafficItem/1`] });
    expect(gen.status).to.equal(202);
    await new Promise((r) => setTimeout(r, 30));
    const st = await req('GET', (gen.body as { url: string }).url);
    expect(st.body).to.include({ state: 'ERROR' });
    expect((st.body as { message: string }).message).to.match(/is not assigned/);
    const start = await req('POST', `${ixn}/traffic/operations/start`, { arg1: `${ixn}/traffic` });
    await new Promise((r) => setTimeout(r, 30));
    expect((await req('GET', (start.body as { url: string }).url)).body).to.include({ state: 'ERROR' });
    const views = (await req('GET', `${ixn}/statistics/view`)).body as Array<{ caption: string }>;
    expect(views.map((v) => v.caption)).to.deep.equal(['Port Statistics']);
    // An immediate operation answers 200 SUCCESS with no poll url.
    const clear = await req('POST', `${ixn}/operations/clearstats`, { arg1: ['waitForPortStatsRefresh'] });
    expect(clear.status).to.equal(200);
    expect(clear.body).to.include({ state: 'SUCCESS', progress: 100, url: '' });
  });

  it('keeps one config tree per session', async () => {
    await req('POST', '/api/v1/sessions', {});
    await req('POST', '/api/v1/sessions/2/operations/start', {});
    await new Promise((r) => setTimeout(r, 20));
    expect(((await req('GET', '/api/v1/sessions/2/ixnetwork/vport')).body as unknown[]).length).to.equal(0);
    expect(((await req('GET', `${ixn}/vport`)).body as unknown[]).length).to.equal(2);
  });

  it('401 without the API key', async () => {
    const r = await fetch(`${url}${ixn}/vport`);
    expect(r.status).to.equal(401);
  });
});
