/**
 * The Ixia driver against a real vsperf-tgshim process on loopback, over TLS (server + client
 * certificates) with a bearer token: conformance, credentials, ownership, bad input, cancellation,
 * a killed shim and graceful shutdown. Ends with a leftover audit.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { FakeIxNetwork } from '../../fixtures/ixnetwork-fake/server.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, service as healthService } from 'grpc-health-check';
import { describeTrafficGenerator } from '../../../framework/conformance/index.js';
import { AbortedError, DriverError, TimeoutError } from '../../../framework/errors.js';
import { exec } from '../../../framework/host/exec.js';
import { ShimClient, type ShimClientOptions } from '../../../trafficgen/grpc/client.js';
import * as pb from '../../../trafficgen/grpc/gen/tgshim/v1/tgshim.js';
import { API_MINOR, trialToPb } from '../../../trafficgen/grpc/convert.js';
import type { PortSpec, TrialSpec } from '../../../framework/api/trafficgen.js';
import type { DriverContext } from '../../../framework/api/driver.js';
import { makePki, pidAlive, ROOT, SHIM_BIN, startShim, tlsShimArgs, type RunningShim, type TestPki } from './helpers.js';
import { basicTrialSpec } from '../../../framework/api/example-spec.js';
import { rejection } from '../../helpers/rejection.js';

const PORTS: PortSpec[] = [
  { name: 'vsi-p0', speedMbps: 10_000 },
  { name: 'vsi-p1', speedMbps: 10_000 },
];
const SLOW_PLUGIN = join(ROOT, 'dist', 'test', 'integration', 'grpc', 'slow-generator.js');

function trial(over: Partial<TrialSpec> = {}): TrialSpec {
  return basicTrialSpec({ rate: { unit: 'fps', value: 100_000 }, latency: false, ...over });
}

describe('tgshim over gRPC (integration)', function () {
  const pki: { v?: TestPki } = {};
  const shims: RunningShim[] = [];

  function clientOpts(k: TestPki, shim: RunningShim, over: Partial<ShimClientOptions> = {}): ShimClientOptions {
    return {
      address: shim.address,
      tls: { caPem: k.pem(k.caCert), certPem: k.pem(k.clientCert), keyPem: k.pem(k.clientKey), serverName: 'localhost' },
      token: k.token,
      callTimeoutMs: 5000,
      retries: 1,
      clientName: 'vsi-test',
      ...over,
    };
  }

  before(async function () {
    this.timeout(60_000);
    pki.v = await makePki();
  });

  after(async () => {
    for (const s of shims) await s.stop();
    pki.v?.remove();
    // Leftover audit: every shim we started is gone.
    for (const s of shims) expect(pidAlive(s.child.pid), `shim pid ${s.child.pid} still running`).to.equal(false);
  });

  describeTrafficGenerator(
    'Ixia via vsperf-tgshim (software backend wrapping Simulated, mutual TLS + token)',
    async () => {
      const k = pki.v!;
      const shim = await startShim(tlsShimArgs(k, ['--generator', 'Simulated']));
      shims.push(shim);
      const generator = await ShimClient.open(clientOpts(k, shim));
      return { generator, ports: PORTS, close: () => shim.stop() };
    },
    // Simulated computes its trials (nothing to abort midway) and reaches any rate up to the line.
    { lossFreeRateFps: 100_000, computesInstantly: true, unreachableRateFps: 'none' },
  );

  describe('tgshim: Ixia driver and shim over TLS + token', function () {
    this.timeout(60_000);
    let shim: RunningShim;
    let k: TestPki;

    before(async () => {
      k = pki.v!;
      shim = await startShim(tlsShimArgs(k, ['--generator', 'Simulated']));
      shims.push(shim);
    });

    it('an IP shim address without a server name: the certificate is checked against the IP, and Node prints no DEP0123 warning', async () => {
      const client = join(ROOT, 'dist', 'trafficgen', 'grpc', 'client.js');
      const script = `import { ShimClient } from ${JSON.stringify(client)}; import { readFileSync as r } from 'node:fs';
        const d = await ShimClient.open({ address: ${JSON.stringify(shim.address)}, tls: { caPem: r(${JSON.stringify(k.caCert)}), certPem: r(${JSON.stringify(k.clientCert)}), keyPem: r(${JSON.stringify(k.clientKey)}) }, token: ${JSON.stringify(k.token)}, retries: 0 });
        console.log('backend', d.shimInfo().backend); await d.close();`;
      const ok = await exec([process.execPath, '--input-type=module', '-e', script], { timeoutMs: 20_000 });
      expect(ok.stdout).to.match(/backend software/);
      expect(ok.stderr).to.not.match(/DEP0123|ServerName to an IP address/);
    });

    it('serves grpc.health.v1 and reports the backend, version and capabilities', async () => {
      const Health = grpc.makeClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'Health');
      const creds = grpc.credentials.createSsl(k.pem(k.caCert), k.pem(k.clientKey), k.pem(k.clientCert));
      const hc = new Health(shim.address, creds, { 'grpc.ssl_target_name_override': 'localhost' }) as unknown as {
        check(req: { service: string }, cb: (e: Error | null, r: { status: string }) => void): void;
        close(): void;
      };
      const st = await new Promise<{ status: string }>((res, rej) => hc.check({ service: 'tgshim.v1.TrafficGenShimService' }, (e, r) => (e ? rej(e) : res(r))));
      hc.close();
      expect(st.status).to.equal('SERVING');
      const d = await ShimClient.open(clientOpts(k, shim));
      expect(d.shimInfo()).to.include({ backend: 'software', generator: 'Simulated', apiMinor: API_MINOR });
      expect(API_MINOR, 'RunTrials is api_minor 1').to.be.at.least(1);
      expect(d.capabilities().simulatesDut).to.equal(true);
      await d.close();
    });

    it('returns the same counters as the wrapped generator run directly', async () => {
      const { createSimulated } = await import('../../../trafficgen/simulated/driver.js');
      const { loadShimSettings } = await import('../../../trafficgen/grpc/shim-cli.js');
      // Both trial paths: the RunTrials stream (default) and one RunTrial call per trial; a fresh direct
      // generator each time, as the shim opens a fresh one per session (same trial sequence, same numbers).
      for (const trialStream of [true, false]) {
        const direct = await createSimulated({ settings: loadShimSettings([]) } as unknown as DriverContext);
        await direct.connect(PORTS);
        const d = await ShimClient.open({ ...clientOpts(k, shim), trialStream });
        await d.connect(PORTS);
        try {
          for (const spec of [trial({ rate: { unit: 'pct', value: 100 }, bidir: true, latency: true }), trial({ durationS: undefined, frames: 12_345 })]) {
            const a = await direct.runTrial(spec);
            const b = await d.runTrial(spec);
            expect(b.txFrames).to.equal(a.txFrames);
            expect(b.rxFrames).to.equal(a.rxFrames);
            expect(b.lossPct).to.be.closeTo(a.lossPct, 1e-9);
            expect(b.directions.map((x) => [x.fromPort, x.toPort, x.txFrames, x.rxFrames])).to.deep.equal(
              a.directions.map((x) => [x.fromPort, x.toPort, x.txFrames, x.rxFrames]),
            );
            expect(b.latency?.avgNs).to.equal(a.latency?.avgNs);
            expect(b.simulated).to.equal(true);
            expect(b.info?.shim_backend).to.equal('software');
          }
        } finally {
          await d.close();
        }
      }
    });

    it('runs continuous traffic with live counters and stops it with the counters of the whole run', async () => {
      const d = await ShimClient.open(clientOpts(k, shim));
      try {
        await d.connect(PORTS);
        expect(d.capabilities().continuous).to.equal(true);
        const run = await d.startContinuous!(trial({ rate: { unit: 'fps', value: 50_000 } }));
        // The shim speaks tgshim.v1.3, so the client offers the mark (live migration sends it after its warm-up).
        expect(d.shimInfo().apiMinor).to.equal(API_MINOR);
        await run.mark!();
        const busy = await rejection(d.runTrial(trial()));
        expect(busy.message).to.match(/traffic is already running \(continuous\)/);
        await new Promise((r) => setTimeout(r, 1200));
        const live = await run.poll();
        const r = await run.stop();
        expect(r.txFrames).to.be.greaterThan(0);
        expect(live.elapsedS, 'live counters must have streamed during 1.2 s of traffic').to.be.greaterThan(0).and.below(10);
        expect((await d.runTrial(trial())).txFrames, 'trials run again after the continuous run').to.be.greaterThan(0);
      } finally {
        await d.close();
      }
    });

    it('rejects a wrong token and a missing token with a DriverError about credentials', async () => {
      for (const token of ['wrong-token-0123456789', undefined]) {
        const e = await rejection(ShimClient.open(clientOpts(k, shim, { token })));
        expect(e).to.be.instanceOf(DriverError);
        expect(e.message).to.match(/rejected the credentials: (wrong|missing) bearer token/);
        expect((e as DriverError).hint).to.match(/TOKEN_FILE/);
      }
    });

    it('rejects a client without a certificate, with an untrusted certificate, without TLS, or not trusting the shim', async () => {
      const cases: Array<[string, Partial<ShimClientOptions>]> = [
        ['no client certificate', { tls: { caPem: k.pem(k.caCert), serverName: 'localhost' } }],
        [
          'client certificate from another CA',
          { tls: { caPem: k.pem(k.caCert), certPem: k.pem(k.otherClientCert), keyPem: k.pem(k.otherClientKey), serverName: 'localhost' } },
        ],
        ['shim CA not trusted', { tls: { caPem: k.pem(k.otherCaCert), certPem: k.pem(k.clientCert), keyPem: k.pem(k.clientKey), serverName: 'localhost' } }],
        ['plaintext', { tls: undefined }],
      ];
      // A DriverError about TLS or reachability, not a TimeoutError: the handshake failure itself ended the call.
      for (const [what, over] of cases) {
        const e = await rejection(ShimClient.open(clientOpts(k, shim, { ...over, callTimeoutMs: 3000 })));
        expect(e, what).to.be.instanceOf(DriverError);
        expect(e, what).not.to.be.instanceOf(TimeoutError);
        expect(e.message, what).to.match(/TLS with shim|is unreachable/);
      }
    });

    it('lets one client own the ports; a second gets a clear error naming the owner', async () => {
      const a = await ShimClient.open(clientOpts(k, shim, { clientName: 'vsi-owner' }));
      const b = await ShimClient.open(clientOpts(k, shim, { clientName: 'vsi-second' }));
      try {
        await a.connect(PORTS);
        const e = await rejection(b.connect(PORTS));
        expect(e).to.be.instanceOf(DriverError);
        expect(e.message).to.match(/ports are owned by vsi-owner since/);
        await a.close();
        await b.connect(PORTS);
        expect((await b.runTrial(trial())).txFrames).to.be.greaterThan(0);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('a client that stops renewing loses the ports when its lease expires', async () => {
      const raw = new pb.TrafficGenShimServiceClient(shim.address, grpc.credentials.createSsl(k.pem(k.caCert), k.pem(k.clientKey), k.pem(k.clientCert)), {
        'grpc.ssl_target_name_override': 'localhost',
      });
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${k.token}`);
      const ports = PORTS.map((p) => ({ ...pb.Port.create(), name: p.name, speedMbps: p.speedMbps }));
      const res = await new Promise<pb.ReserveResponse>((ok, ko) =>
        raw.reserve({ clientName: 'vsi-silent', ports, leaseS: 1 }, md, (e, r) => (e ? ko(e) : ok(r))),
      );
      expect(res.leaseS).to.equal(1);
      const b = await ShimClient.open(clientOpts(k, shim, { clientName: 'vsi-next' }));
      try {
        expect((await rejection(b.connect(PORTS))).message).to.match(/owned by vsi-silent/);
        await new Promise((r) => setTimeout(r, 2600));
        await b.connect(PORTS);
        expect((await b.runTrial(trial())).txFrames).to.be.greaterThan(0);
      } finally {
        await b.close();
        raw.close();
      }
    });

    it('reports a server that does not serve tgshim.v1 as a version mismatch', async () => {
      const server = new grpc.Server();
      new HealthImplementation({ '': 'SERVING' }).addToServer(server);
      const port = await new Promise<number>((ok, ko) =>
        server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? ko(e) : ok(p))),
      );
      try {
        const e = await rejection(ShimClient.open({ address: `127.0.0.1:${port}`, retries: 0 }));
        expect(e).to.be.instanceOf(DriverError);
        expect(e.message).to.match(/does not serve tgshim\.v1 \(version mismatch\?\)/);
      } finally {
        server.forceShutdown();
      }
    });

    describe('INVALID_ARGUMENT naming the field', () => {
      let raw: pb.TrafficGenShimServiceClient;
      let sessionId: string;
      const md = (): grpc.Metadata => {
        const m = new grpc.Metadata();
        m.set('authorization', `Bearer ${k.token}`);
        return m;
      };
      const unary = <Req, Res>(fn: (r: Req, m: grpc.Metadata, cb: (e: grpc.ServiceError | null, r: Res) => void) => unknown, req: Req): Promise<Res> =>
        new Promise((res, rej) => fn(req, md(), (e, r) => (e ? rej(e) : res(r))));
      const runTrial = (req: pb.RunTrialRequest): Promise<grpc.ServiceError | undefined> =>
        new Promise((res) => {
          const c = raw.runTrial(req, md());
          c.on('data', () => undefined);
          c.on('error', (e: grpc.ServiceError) => res(e));
          c.on('end', () => res(undefined));
        });

      /** Requests on one RunTrials stream, the client side closed after the last; the results and the end status. */
      const runTrials = (reqs: pb.RunTrialRequest[]): Promise<{ results: number; error?: grpc.ServiceError }> =>
        new Promise((res) => {
          const c = raw.runTrials(md());
          let results = 0;
          c.on('data', (m: pb.RunTrialsResponse) => (m.event?.event?.$case === 'result' ? results++ : undefined));
          c.on('error', (e: grpc.ServiceError) => res({ results, error: e }));
          c.on('end', () => res({ results }));
          for (const run of reqs) c.write({ run });
          c.end();
        });

      before(async () => {
        raw = new pb.TrafficGenShimServiceClient(shim.address, grpc.credentials.createSsl(k.pem(k.caCert), k.pem(k.clientKey), k.pem(k.clientCert)), {
          'grpc.ssl_target_name_override': 'localhost',
        });
        const r = await unary<pb.ReserveRequest, pb.ReserveResponse>(raw.reserve.bind(raw), { clientName: 'vsi-raw', ports: [], leaseS: 0 }).catch(
          (e: grpc.ServiceError) => e,
        );
        expect((r as grpc.ServiceError).code).to.equal(grpc.status.INVALID_ARGUMENT);
        expect((r as grpc.ServiceError).details).to.match(/^ports: needs at least 2 ports/);
        const ok = await unary<pb.ReserveRequest, pb.ReserveResponse>(raw.reserve.bind(raw), {
          clientName: 'vsi-raw',
          ports: [
            { ...pb.Port.create(), name: 'a', speedMbps: 10_000 },
            { ...pb.Port.create(), name: 'b', speedMbps: 10_000 },
          ],
          leaseS: 0,
        });
        sessionId = ok.sessionId;
      });

      after(async () => {
        await unary(raw.release.bind(raw), { sessionId });
        raw.close();
      });

      const good = (): pb.TrialSpec => trialToPb(trial({ rate: { unit: 'fps', value: 1000 } }));

      const cases: Array<[string, (t: pb.TrialSpec) => void, RegExp]> = [
        ['frame size 20', (t) => (t.traffic!.stream!.frameSize = 20), /^trial\.traffic\.stream\.frame_size: 20 bytes is out of range 64\.\.9000 bytes/],
        ['rate 150 %', (t) => (t.traffic!.rate = { value: { $case: 'pct', pct: 150 } }), /^trial\.traffic\.rate\.pct: 150 % is out of range/],
        ['no rate', (t) => (t.traffic!.rate = undefined), /^trial\.traffic\.rate: is required/],
        ['NaN fps', (t) => (t.traffic!.rate = { value: { $case: 'fps', fps: Number.NaN } }), /^trial\.traffic\.rate\.fps: must be a finite number/],
        ['no duration or frames', (t) => (t.length = undefined), /^trial\.length: one of duration_s or frames is required/],
        ['negative duration', (t) => (t.length = { $case: 'durationS', durationS: -1 }), /^trial\.duration_s: -1 s is out of range/],
        ['zero frames', (t) => (t.length = { $case: 'frames', frames: 0n }), /^trial\.frames: 0 is out of range/],
        ['bad MAC', (t) => (t.traffic!.stream!.l2!.dstMac = 'zz:00'), /^trial\.traffic\.stream\.l2\.dst_mac: "zz:00" is not a MAC address/],
        ['bad IP', (t) => (t.traffic!.stream!.l3!.srcIp = '300.1.1.1'), /^trial\.traffic\.stream\.l3\.src_ip: "300\.1\.1\.1" is not an IPv4 address/],
        ['VLAN id 5000', (t) => (t.traffic!.stream!.vlan!.id = 5000), /^trial\.traffic\.stream\.vlan\.id: 5000 is out of range 0\.\.4095/],
        ['UDP port 70000', (t) => (t.traffic!.stream!.l4!.srcPort = 70_000), /^trial\.traffic\.stream\.l4\.src_port: 70000 is out of range/],
        ['learning 100 s', (t) => (t.learningS = 100), /^trial\.learning_s: 100 s is out of range 0\.\.60 s/],
        ['IMIX letter', (t) => (t.traffic!.stream!.imixGenome = 'ax'), /^trial\.traffic\.stream\.imix_genome: letter "x"/],
      ];
      for (const [what, mutate, re] of cases) {
        it(`rejects ${what}`, async () => {
          const t = good();
          mutate(t);
          const e = await runTrial({ sessionId, trial: t, progressIntervalMs: 0 });
          expect(e?.code, what).to.equal(grpc.status.INVALID_ARGUMENT);
          expect(e?.details).to.match(re);
        });
      }

      it('RunTrials: runs the trials of one stream in order and ends after the last; a bad one ends it with INVALID_ARGUMENT naming run.trial…', async () => {
        const ok = await runTrials([
          { sessionId, trial: good(), progressIntervalMs: 0 },
          { sessionId, trial: good(), progressIntervalMs: 0 },
        ]);
        expect(ok).to.deep.equal({ results: 2 });
        const bad = good();
        bad.traffic!.stream!.frameSize = 20;
        const r = await runTrials([
          { sessionId, trial: good(), progressIntervalMs: 0 },
          { sessionId, trial: bad, progressIntervalMs: 0 },
          { sessionId, trial: good(), progressIntervalMs: 0 },
        ]);
        expect(r.results, 'the trial before the bad one ran; none after it').to.equal(1);
        expect(r.error?.code).to.equal(grpc.status.INVALID_ARGUMENT);
        expect(r.error?.details).to.match(/^run\.trial\.traffic\.stream\.frame_size: 20 bytes is out of range/);
        const empty = await new Promise<grpc.ServiceError | undefined>((res) => {
          const c = raw.runTrials(md());
          c.on('data', () => undefined);
          c.on('error', (e: grpc.ServiceError) => res(e));
          c.on('end', () => res(undefined));
          c.write({});
          c.end();
        });
        expect(empty?.code).to.equal(grpc.status.INVALID_ARGUMENT);
        expect(empty?.details).to.equal('run: is required');
      });

      it('MarkContinuous (tgshim.v1.3): FAILED_PRECONDITION without continuous traffic; the Simulated generator answers marked false', async () => {
        const mark = raw.markContinuous.bind(raw);
        const e = await unary<pb.MarkContinuousRequest, pb.MarkContinuousResponse>(mark, { sessionId }).catch((x: grpc.ServiceError) => x);
        expect((e as grpc.ServiceError).code).to.equal(grpc.status.FAILED_PRECONDITION);
        expect((e as grpc.ServiceError).details).to.equal('no continuous traffic is running');
        await unary(raw.startContinuous.bind(raw), { sessionId, traffic: good().traffic });
        try {
          // Simulated keeps no receiver timeline: the mark means nothing to it, and says so.
          expect(await unary<pb.MarkContinuousRequest, pb.MarkContinuousResponse>(mark, { sessionId })).to.deep.equal({ marked: false });
        } finally {
          await unary(raw.stopContinuous.bind(raw), { sessionId });
        }
        const e2 = await unary<pb.MarkContinuousRequest, pb.MarkContinuousResponse>(mark, { sessionId: 'nope' }).catch((x: grpc.ServiceError) => x);
        expect((e2 as grpc.ServiceError).code).to.equal(grpc.status.NOT_FOUND);
      });

      it('rejects a missing session id and an unknown one', async () => {
        const e1 = await runTrial({ sessionId: '', trial: good(), progressIntervalMs: 0 });
        expect(e1?.code).to.equal(grpc.status.INVALID_ARGUMENT);
        expect(e1?.details).to.match(/^session_id: is required/);
        const e2 = await runTrial({ sessionId: 'nope', trial: good(), progressIntervalMs: 0 });
        expect(e2?.code).to.equal(grpc.status.NOT_FOUND);
      });

      it('rejects bytes that are not a protobuf message', async () => {
        const e = await new Promise<grpc.ServiceError>((res) => {
          raw.makeUnaryRequest(
            '/tgshim.v1.TrafficGenShimService/Reserve',
            (b: Buffer) => b,
            (b: Buffer) => b,
            Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]),
            md(),
            (err) => res(err as grpc.ServiceError),
          );
        });
        expect(e.code).to.equal(grpc.status.INVALID_ARGUMENT);
        expect(e.details).to.match(/^ReserveRequest: malformed protobuf message/);
      });

      it('a good trial passes on the same session (the session survived the bad requests)', async () => {
        expect(await runTrial({ sessionId, trial: good(), progressIntervalMs: 0 })).to.equal(undefined);
      });
    });
  });

  describe('tgshim: ixnetwork backend through the shim against the fake IxNetwork REST server', function () {
    this.timeout(60_000);
    let fake: FakeIxNetwork;
    let shim: RunningShim;
    let k: TestPki;
    const IXPORTS: PortSpec[] = [
      { name: '10.0.0.5;1;1', speedMbps: 10_000 },
      { name: '10.0.0.5;1;2', speedMbps: 10_000 },
    ];

    before(async () => {
      k = pki.v!;
      fake = new FakeIxNetwork({ capacityFps: 70_000, redirect: true });
      const url = await fake.start();
      writeFileSync(join(k.dir, 'ixpw'), 'admin\n');
      shim = await startShim(
        tlsShimArgs(k, [
          '--backend',
          'ixnetwork',
          '--ixnet-url',
          url,
          '--ixnet-user',
          'admin',
          '--ixnet-password-file',
          join(k.dir, 'ixpw'),
          '--ixnet-poll-ms',
          '50',
        ]),
      );
      shims.push(shim);
    });
    after(async () => {
      await shim.stop();
      await fake.close();
    });

    it('runs trials through the shim, reports a failed async operation clearly, and releases the IxNetwork session', async () => {
      const d = await ShimClient.open(clientOpts(k, shim));
      try {
        expect(d.shimInfo().backend).to.equal('ixnetwork');
        await d.connect(IXPORTS);
        expect(fake.sessions.size).to.equal(1);
        const r = await d.runTrial(trial({ bidir: true, latency: true }));
        expect(r.directions).to.have.length(2);
        for (const x of r.directions) {
          expect(x.txFrames).to.be.within(95_000, 105_000);
          expect(x.rxFrames).to.be.within(66_000, 74_000);
        }
        expect(r.latency?.avgNs).to.equal(2500);
        fake.failOnce.set('apply', 'Error in L2/L3 Traffic Apply');
        const e = await rejection(d.runTrial(trial()));
        expect(e).to.be.instanceOf(DriverError);
        expect(e.message).to.match(/IxNetwork apply: operation apply ended in ERROR: Error in L2\/L3 Traffic Apply/);
        const again = await d.runTrial(trial({ durationS: undefined, frames: 5000 }));
        expect(again.txFrames).to.equal(5000);
      } finally {
        await d.close();
      }
      expect(fake.sessions.size, 'IxNetwork session deleted on release').to.equal(0);
    });
  });

  describe('tgshim: cancellation, a killed shim and graceful shutdown (slow generator plugin)', function () {
    this.timeout(60_000);
    let k: TestPki;
    let markerDir: string;
    const marker = (): string => readFileSync(join(markerDir, 'traffic'), 'utf8');

    before(() => {
      k = pki.v!;
      markerDir = mkdtempSync(join(tmpdir(), 'vsi-marker-'));
    });
    after(() => rmSync(markerDir, { recursive: true, force: true }));

    const slowShim = async (): Promise<RunningShim> => {
      const s = await startShim(tlsShimArgs(k, ['--plugin', SLOW_PLUGIN, '--generator', 'VsiSlow']), { VSI_SLOW_MARKER_DIR: markerDir });
      shims.push(s);
      return s;
    };

    it('an aborted run stops the traffic on the shim and the ports are usable at once', async () => {
      const shim = await slowShim();
      const d = await ShimClient.open(clientOpts(k, shim));
      await d.connect(PORTS);
      const ac = new AbortController();
      const progress: number[] = [];
      const p = d.runTrial(trial({ durationS: 20 }), ac.signal, (c) => progress.push(c.txFrames));
      await new Promise((r) => setTimeout(r, 1500));
      ac.abort();
      const e = await rejection(p);
      expect(e).to.be.instanceOf(AbortedError);
      await new Promise((r) => setTimeout(r, 300));
      expect(marker()).to.equal('stopped-by-abort');
      expect(progress.length, 'live counters streamed while the trial ran').to.be.at.least(1);
      const r = await d.runTrial(trial({ durationS: 0.3 }));
      expect(r.txFrames).to.equal(30_000);
      await d.close();
      await shim.stop();
    });

    it('closing the driver during a trial fails the trial at once and stops the traffic on the shim', async () => {
      const shim = await slowShim();
      const d = await ShimClient.open(clientOpts(k, shim));
      await d.connect(PORTS);
      const p = rejection(d.runTrial(trial({ durationS: 20 })));
      await new Promise((r) => setTimeout(r, 1500));
      await d.close();
      const e = await p;
      expect(e).to.be.instanceOf(DriverError);
      expect(e.message).to.match(/driver closed during the trial/);
      await new Promise((r) => setTimeout(r, 300));
      expect(marker()).to.match(/^stopped/);
      await shim.stop();
    });

    it('a shim killed mid-trial gives a clear DriverError and leaves nothing running', async () => {
      const shim = await slowShim();
      const d = await ShimClient.open(clientOpts(k, shim));
      await d.connect(PORTS);
      const first = await d.runTrial(trial({ durationS: 0.2 }));
      expect(first.txFrames).to.equal(20_000);
      const p = d.runTrial(trial({ durationS: 20 }));
      await new Promise((r) => setTimeout(r, 1000));
      process.kill(shim.child.pid, 'SIGKILL');
      const e = await rejection(p);
      expect(e).to.be.instanceOf(DriverError);
      expect(e.message).to.match(/died or the connection dropped during the trial/);
      await d.close();
      await shim.child.waitExit();
      expect(pidAlive(shim.child.pid)).to.equal(false);
    });

    it('SIGTERM during a trial stops the traffic, fails the trial cleanly and exits 0', async () => {
      const shim = await slowShim();
      const d = await ShimClient.open(clientOpts(k, shim));
      await d.connect(PORTS);
      const p = d.runTrial(trial({ durationS: 20 }));
      await new Promise((r) => setTimeout(r, 1000));
      process.kill(shim.child.pid, 'SIGTERM');
      const e = await rejection(p);
      expect(e).to.be.instanceOf(DriverError);
      const st = await shim.child.waitExit();
      expect(st.code).to.equal(0);
      expect(marker()).to.equal('stopped-by-abort');
      expect(shim.output()).to.match(/SIGTERM: stopping traffic/);
      await d.close();
    });

    it('rides out a shim restart: calls after the handshake wait for the reconnect', async () => {
      const first = await startShim(tlsShimArgs(k, ['--generator', 'Simulated']));
      shims.push(first);
      const d = await ShimClient.open(clientOpts(k, first, { callTimeoutMs: 15_000 }));
      try {
        await first.stop();
        const connecting = d.connect(PORTS);
        await new Promise((r) => setTimeout(r, 700));
        const second = await startShim(tlsShimArgs(k, ['--generator', 'Simulated', '--listen', first.address]));
        shims.push(second);
        await connecting;
        expect((await d.runTrial(trial())).txFrames).to.equal(100_000);
      } finally {
        await d.close();
      }
    });

    it('refuses to listen beyond loopback without TLS and a token', async () => {
      const r = await exec([process.execPath, SHIM_BIN, '--listen', '0.0.0.0:0', '--generator', 'Simulated'], { allowFail: true, timeoutMs: 20_000 });
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/refusing to listen on 0\.0\.0\.0:0 without TLS and a token/);
      const r2 = await exec([process.execPath, SHIM_BIN, '--listen', '0.0.0.0:0', '--generator', 'Simulated', '--token-file', k.tokenFile], {
        allowFail: true,
        timeoutMs: 20_000,
      });
      expect(r2.code).to.equal(2);
    });
  });
});
