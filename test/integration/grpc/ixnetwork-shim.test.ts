/**
 * vsperf-tgshim with the ixnetwork backend (a real shim process) against the strict fake IxNetwork:
 * crash safety (kill -9 during continuous traffic, restart, nothing of ours left), the CleanupStale
 * admin RPC, and the shim's own checks of what reaches IxNetwork (rate above line rate, a duration
 * shorter than one frame, RunTrials bounds and authentication on stream open).
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { PortSpec } from '../../../framework/api/trafficgen.js';
import { basicTrialSpec } from '../../../framework/api/example-spec.js';
import { trafficToPb, trialToPb, portToPb } from '../../../trafficgen/grpc/convert.js';
import * as pb from '../../../trafficgen/grpc/gen/tgshim/v1/tgshim.js';
import { FakeIxNetwork } from '../../fixtures/ixnetwork-fake/server.js';
import { exec } from '../../../framework/host/exec.js';
import { pidAlive, ROOT, startShim, type RunningShim } from './helpers.js';

const IXPORTS: PortSpec[] = [
  { name: '10.0.0.5;1;1', speedMbps: 10_000 },
  { name: '10.0.0.5;1;2', speedMbps: 10_000 },
];
const TOKEN = 'ixn-shim-token-0123456789';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function md(token = TOKEN): grpc.Metadata {
  const m = new grpc.Metadata();
  m.set('authorization', `Bearer ${token}`);
  return m;
}

function unary<Req, Res>(fn: (req: Req, md: grpc.Metadata, cb: (e: grpc.ServiceError | null, r: Res) => void) => unknown, req: Req, m = md()): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, m, (e, r) => (e ? reject(e) : resolve(r))));
}

async function code(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
  } catch (e) {
    return { code: (e as grpc.ServiceError).code, details: (e as grpc.ServiceError).details };
  }
  throw new Error('expected a failure');
}

describe('tgshim ixnetwork backend: crash safety and shim-side validation (strict fake IxNetwork)', function () {
  this.timeout(60_000);
  let fake: FakeIxNetwork;
  let url: string;
  let dir: string;
  const shims: RunningShim[] = [];

  const shimArgs = (): string[] => [
    '--backend',
    'ixnetwork',
    '--ixnet-url',
    url,
    '--ixnet-user',
    'admin',
    '--ixnet-password-file',
    join(dir, 'pw'),
    '--ixnet-poll-ms',
    '20',
    '--name',
    'crash-test',
    '--token-file',
    join(dir, 'token'),
  ];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vsi-ixn-'));
    writeFileSync(join(dir, 'pw'), 'admin\n', { mode: 0o600 });
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
    fake = new FakeIxNetwork({ links: 'absolute', opDelayMs: 10 });
    url = await fake.start();
  });
  after(async () => {
    for (const s of shims) await s.stop();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
    for (const s of shims) expect(pidAlive(s.child.pid), `shim pid ${s.child.pid} still running`).to.equal(false);
  });

  it('kill -9 during continuous traffic: the restarted shim stops that traffic, deletes the session and keeps the lease', async () => {
    const port = await freePort();
    const args = [...shimArgs(), '--listen', `127.0.0.1:${port}`];
    const first = await startShim(args);
    shims.push(first);
    let client = new pb.TrafficGenShimServiceClient(first.address, grpc.credentials.createInsecure());
    const res = (await unary(client.reserve.bind(client), { clientName: 'crash-test', ports: IXPORTS.map(portToPb), leaseS: 60 })) as pb.ReserveResponse;
    await unary(client.startContinuous.bind(client), {
      sessionId: res.sessionId,
      traffic: trafficToPb(basicTrialSpec({ rate: { unit: 'pct', value: 10 }, bidir: true })),
    });
    client.close();
    expect(fake.runningSessions()).to.have.length(1);
    const leaked = fake.only();
    expect(leaked.sessionName).to.match(new RegExp(`^vsperf-tgshim/crash-test/[^/]+/${first.child.pid}/`));
    process.kill(first.child.pid, 'SIGKILL');
    await first.child.waitExit();
    // What a crash leaves: the session, with traffic running.
    expect(fake.runningSessions()).to.deep.equal([leaked.id]);
    const second = await startShim(args);
    shims.push(second);
    expect(fake.runningSessions()).to.deep.equal([]);
    expect([...fake.sessions.values()].filter((s) => s.sessionName.startsWith('vsperf-tgshim/'))).to.deep.equal([]);
    expect(second.output()).to.match(
      /cleaned up after an earlier shim \(start\): \/api\/v1\/sessions\/\d+ \(vsperf-tgshim\/crash-test\/.*traffic stopped, deleted/,
    );
    // The lease held across the restart: another client is refused, the old session id is answered clearly, the owner may reserve again.
    client = new pb.TrafficGenShimServiceClient(second.address, grpc.credentials.createInsecure());
    const other = await code(unary(client.reserve.bind(client), { clientName: 'intruder', ports: IXPORTS.map(portToPb), leaseS: 60 }));
    expect(other.code).to.equal(grpc.status.FAILED_PRECONDITION);
    expect(other.details).to.match(/ports are owned by crash-test \(lease from before the shim restarted, until /);
    const lost = await code(unary(client.renew.bind(client), { sessionId: res.sessionId }));
    expect(lost).to.deep.equal({
      code: grpc.status.NOT_FOUND,
      details: `session ${res.sessionId} was lost when the shim restarted (its traffic was stopped); call Reserve again`,
    });
    const again = (await unary(client.reserve.bind(client), { clientName: 'crash-test', ports: IXPORTS.map(portToPb), leaseS: 60 })) as pb.ReserveResponse;
    await unary(client.release.bind(client), { sessionId: again.sessionId });
    client.close();
    await second.stop();
    expect(fake.sessions.size).to.equal(0);
  });

  describe('one shim', () => {
    let shim: RunningShim;
    let client: pb.TrafficGenShimServiceClient;
    let session: string;
    before(async () => {
      shim = await startShim(shimArgs());
      shims.push(shim);
      client = new pb.TrafficGenShimServiceClient(shim.address, grpc.credentials.createInsecure());
      const r = (await unary(client.reserve.bind(client), { clientName: 'vsi', ports: IXPORTS.map(portToPb), leaseS: 60 })) as pb.ReserveResponse;
      session = r.sessionId;
      expect(r.capabilities).to.include({ vlan: true, ipv6: true, imix: true, multistream: true });
    });
    after(async () => {
      await unary(client.release.bind(client), { sessionId: session }).catch(() => undefined);
      client.close();
      await shim.stop();
    });

    it('CleanupStale (admin RPC) finds nothing of a live shim and needs the token', async () => {
      const r = (await unary(client.cleanupStale.bind(client), {})) as pb.CleanupStaleResponse;
      expect(r.cleaned).to.deep.equal([]);
      expect(fake.sessions.size).to.equal(1);
      expect((await code(unary(client.cleanupStale.bind(client), {}, md('wrong-token-0123456789')))).code).to.equal(grpc.status.UNAUTHENTICATED);
    });

    it('INVALID_ARGUMENT for a rate above the line rate and a duration shorter than one frame', async () => {
      const run = (over: Parameters<typeof basicTrialSpec>[0]): Promise<unknown> =>
        new Promise((resolve, reject) => {
          const call = client.runTrial({ sessionId: session, trial: trialToPb(basicTrialSpec(over)), progressIntervalMs: 0 }, md());
          call.on('data', () => undefined);
          call.on('error', reject);
          call.on('end', resolve);
        });
      const fast = await code(run({ rate: { unit: 'fps', value: 1e10 }, durationS: 1 }));
      expect(fast.code).to.equal(grpc.status.INVALID_ARGUMENT);
      expect(fast.details).to.match(
        /^trial\.traffic\.rate\.fps: 10000000000 fps is above the line rate of port 0 \(14880952 fps for 64-byte frames at 10000 Mbit\/s\)/,
      );
      const short = await code(run({ rate: { unit: 'fps', value: 1000 }, durationS: 1e-9 }));
      expect(short.code).to.equal(grpc.status.INVALID_ARGUMENT);
      expect(short.details).to.match(/^trial\.duration_s: 1e-9 s is shorter than one frame at 1000 fps/);
      const wrap = await code(
        run({
          rate: { unit: 'fps', value: 1000 },
          durationS: 1,
          stream: { ...basicTrialSpec().stream, multistream: 5000, streamType: 'L4', l4: { enabled: true, srcPort: 1, dstPort: 65000 } },
        }),
      );
      expect(wrap.code).to.equal(grpc.status.INVALID_ARGUMENT);
      expect(wrap.details).to.match(/^trial\.traffic\.stream\.l4\.dst_port: 5000 flows from 65000 wrap the field/);
      const cont = await code(
        unary(client.startContinuous.bind(client), { sessionId: session, traffic: trafficToPb(basicTrialSpec({ rate: { unit: 'fps', value: 2e7 } })) }),
      );
      expect(cont.details).to.match(/^traffic\.rate\.fps: .* above the line rate/);
      expect(fake.runningSessions()).to.deep.equal([]);
    });

    it('RunTrials: UNAUTHENTICATED when the stream opens, before any message; RESOURCE_EXHAUSTED beyond 64 queued requests', async () => {
      const noAuth = client.runTrials(new grpc.Metadata());
      const st = await new Promise<grpc.StatusObject>((resolve) =>
        noAuth
          .on('status', resolve)
          .on('error', () => undefined)
          .on('data', () => undefined),
      );
      expect(st.code).to.equal(grpc.status.UNAUTHENTICATED);
      const call = client.runTrials(md());
      const results: unknown[] = [];
      const ended = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve).on('error', () => undefined));
      call.on('data', (m: pb.RunTrialsResponse) => m.event?.event?.$case === 'result' && results.push(m));
      const req = { run: { sessionId: session, trial: trialToPb(basicTrialSpec({ durationS: undefined, frames: 1000 })), progressIntervalMs: 0 } };
      for (let i = 0; i < 100; i++) call.write(req);
      const end = await ended;
      expect(end.code).to.equal(grpc.status.RESOURCE_EXHAUSTED);
      expect(end.details).to.match(/too many queued RunTrials requests \(64 on this stream\)/);
      expect(results.length).to.be.below(64);
      call.end();
    });
  });

  it('vsperf --trafficgen IxNet --dry-run pvp_tput shows the headers the backend will program', async () => {
    const r = await exec(
      [
        process.execPath,
        join(ROOT, 'bin', 'vsperf.js'),
        '--trafficgen',
        'IxNet',
        '--dry-run',
        'pvp_tput',
        '--test-params',
        "TRAFFIC={'multistream':1000,'stream_type':'L3','vlan':{'enabled':True,'id':10,'priority':3}}",
      ],
      { env: { ...process.env, VSPERF_STATE_DIR: dir } },
    );
    expect(r.code, r.stderr).to.equal(0);
    const plan = r.stdout
      .slice(r.stdout.indexOf('IxNetwork traffic item'))
      .split('\n')
      .map((l) => l.trim().replace(/\s+/g, ' '));
    expect(plan.slice(1, 11)).to.deep.equal([
      'port 0 → 1:',
      'ethernet destinationAddress=02:00:00:00:00:02 sourceAddress=02:00:00:00:00:01',
      'vlan vlanUserPriority=3 cfi=0 vlanID=10',
      'ipv4 srcIp=1.1.1.1 dstIp=90.90.90.90 increment 0.0.0.1 ×1000',
      'udp srcPort=3000 dstPort=3001',
      'port 1 → 0:',
      'ethernet destinationAddress=02:00:00:00:00:01 sourceAddress=02:00:00:00:00:02',
      'vlan vlanUserPriority=3 cfi=0 vlanID=10',
      'ipv4 srcIp=90.90.90.90 dstIp=1.1.1.1 increment 0.0.0.1 ×1000',
      'udp srcPort=3001 dstPort=3000',
    ]);
  });
});
