/**
 * TrialHooks.beforeRelease through a real vsperf-tgshim on loopback (tgshim.v1.4: hold_for_release,
 * `held`, ReleaseTrial). The shim wraps the test plugin generator VsiSlow, which holds its "ports" after
 * the traffic while the hook runs and records in a marker file when it let them go. The client's hook
 * must run while the generator still holds them, on RunTrial and on the RunTrials stream; a hook error
 * fails the trial and still releases them; a client that never sends ReleaseTrial, or vanishes, cannot
 * keep them past the shim's hold limit; a caller without the hook gets no hold.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ShimClient, type ShimClientOptions } from '../../../trafficgen/grpc/client.js';
import * as pb from '../../../trafficgen/grpc/gen/tgshim/v1/tgshim.js';
import { API_MINOR, trialToPb } from '../../../trafficgen/grpc/convert.js';
import type { PortSpec, TrialSpec } from '../../../framework/api/trafficgen.js';
import { basicTrialSpec } from '../../../framework/api/example-spec.js';
import { rejection } from '../../helpers/rejection.js';
import { pidAlive, ROOT, startShim, type RunningShim } from './helpers.js';

const PLUGIN = join(ROOT, 'dist', 'test', 'integration', 'grpc', 'slow-generator.js');
const PORTS: PortSpec[] = [
  { name: 'vsh-p0', speedMbps: 10_000 },
  { name: 'vsh-p1', speedMbps: 10_000 },
];
const trial = (durationS = 0.3): TrialSpec => basicTrialSpec({ rate: { unit: 'fps', value: 100_000 }, latency: false, durationS });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('tgshim: the trial hook before the release over gRPC (integration)', function () {
  this.timeout(60_000);
  let dir: string;
  let shim: RunningShim;
  const marker = (): string => readFileSync(join(dir, 'traffic'), 'utf8');
  const opts = (over: Partial<ShimClientOptions> = {}): ShimClientOptions => ({
    address: shim.address,
    callTimeoutMs: 5000,
    retries: 1,
    clientName: 'vsh-test',
    ...over,
  });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vsh-marker-'));
    shim = await startShim(['--plugin', PLUGIN, '--generator', 'VsiSlow', '--hold-limit-s', '2'], { VSI_SLOW_MARKER_DIR: dir });
  });

  after(async () => {
    await shim.stop();
    rmSync(dir, { recursive: true, force: true });
    expect(pidAlive(shim.child.pid), 'shim still running').to.equal(false);
    // The scratch directory the shim made for its sessions goes with it.
    expect(existsSync(join(tmpdir(), `vsperf-tgshim-${shim.child.pid}`)), 'shim work dir left behind').to.equal(false);
  });

  for (const trialStream of [true, false]) {
    it(`runs the hook while the generator holds its ports, then releases them (${trialStream ? 'RunTrials stream' : 'RunTrial calls'})`, async () => {
      const d = await ShimClient.open(opts({ trialStream }));
      expect(d.shimInfo().apiMinor).to.equal(API_MINOR);
      await d.connect(PORTS);
      for (let i = 0; i < 2; i++) {
        const seen: string[] = [];
        const r = await d.runTrial(trial(), undefined, undefined, {
          beforeRelease: async () => {
            seen.push(marker());
            await sleep(300);
            seen.push(marker());
          },
        });
        expect(seen, 'the generator held its ports through the hook').to.deep.equal(['holding', 'holding']);
        expect(marker(), 'released when runTrial returned').to.equal('released');
        expect(r.txFrames).to.equal(30_000);
      }
      // Without a hook the generator is given none: no hold.
      await d.runTrial(trial());
      expect(marker()).to.equal('finished');
      await d.close();
    });
  }

  it("a hook's error fails the trial, after the release", async () => {
    const d = await ShimClient.open(opts());
    await d.connect(PORTS);
    const e = await rejection(
      d.runTrial(trial(), undefined, undefined, {
        beforeRelease: async () => {
          throw new Error('switch counters unreadable');
        },
      }),
    );
    expect(e.message).to.equal('switch counters unreadable');
    expect(marker()).to.equal('released');
    // The session goes on.
    expect((await d.runTrial(trial())).txFrames).to.equal(30_000);
    await d.close();
  });

  it("a hook slower than the shim's hold fails the trial with E_TIMEOUT, before the shim lets go", async () => {
    const d = await ShimClient.open(opts());
    await d.connect(PORTS);
    let atLimit = '';
    const t0 = Date.now();
    const e = await rejection(
      d.runTrial(trial(), undefined, undefined, {
        beforeRelease: async () => {
          await sleep(1500);
          atLimit = marker();
        },
      }),
    );
    // The hold is 2 s, so the read gets 1 s; the timeout is the trial's error, and the ports are released.
    expect((e as { code?: string }).code).to.equal('E_TIMEOUT');
    expect(e.message).to.match(/the read before the ports' release timed out after 1000 ms/);
    expect(Date.now() - t0).to.be.below(10_000);
    await sleep(600);
    expect(atLimit, 'the slow read itself ran while the ports were already released').to.equal('released');
    expect(shim.output(), 'released by the client, not at the limit').to.not.match(/no ReleaseTrial/);
    await d.close();
  });

  it('an abort during the hook ends the trial at once', async () => {
    const d = await ShimClient.open(opts());
    await d.connect(PORTS);
    const ac = new AbortController();
    const e = await rejection(
      d.runTrial(trial(), ac.signal, undefined, {
        beforeRelease: async () => {
          setTimeout(() => ac.abort(), 100);
          await sleep(900);
        },
      }),
    );
    expect((e as { code?: string }).code).to.equal('E_ABORTED');
    await sleep(300);
    expect(marker()).to.equal('released');
    await d.close();
  });

  describe('a client that does not release (raw tgshim.v1 calls)', () => {
    let raw: pb.TrafficGenShimServiceClient;
    let sessionId = '';
    const unary = <Req, Res>(fn: (r: Req, cb: (e: grpc.ServiceError | null, v?: Res) => void) => unknown, req: Req): Promise<Res> =>
      new Promise((resolve, reject) => fn(req, (e, v) => (e ? reject(e) : resolve(v!))));

    before(async () => {
      raw = new pb.TrafficGenShimServiceClient(shim.address, grpc.credentials.createInsecure());
      const ok = await unary<pb.ReserveRequest, pb.ReserveResponse>(raw.reserve.bind(raw), {
        clientName: 'vsh-raw',
        ports: PORTS.map((p) => ({ ...pb.Port.create(), name: p.name, speedMbps: p.speedMbps })),
        leaseS: 0,
      });
      sessionId = ok.sessionId;
    });

    after(async () => {
      await unary(raw.release.bind(raw), { sessionId });
      raw.close();
    });

    it('the shim releases the ports at its hold limit and sends the result', async () => {
      const events: string[] = [];
      let heldAt = 0;
      await new Promise<void>((resolve, reject) => {
        const call = raw.runTrial({ sessionId, trial: trialToPb(trial()), progressIntervalMs: 0, holdForRelease: true });
        call.on('data', (m: pb.RunTrialResponse) => {
          if (m.event?.$case === 'held') {
            heldAt = Date.now();
            events.push(`held ${m.event.held.limitMs} ${marker()}`);
          } else if (m.event?.$case === 'result') events.push(`result ${marker()}`);
        });
        call.on('error', reject);
        call.on('end', resolve);
      });
      expect(events).to.deep.equal(['held 2000 holding', 'result released']);
      expect(Date.now() - heldAt, 'held until the limit').to.be.at.least(1900);
      expect(shim.output()).to.match(/no ReleaseTrial 2000 ms after the trial's traffic ended; releasing the ports/);
      // Nothing is held any more: ReleaseTrial says so.
      expect(await unary<pb.ReleaseTrialRequest, pb.ReleaseTrialResponse>(raw.releaseTrial.bind(raw), { sessionId })).to.deep.equal({ released: false });
    });

    it('a client that vanishes while held (its call cancelled) gets the ports released at once', async () => {
      const call = raw.runTrial({ sessionId, trial: trialToPb(trial()), progressIntervalMs: 0, holdForRelease: true });
      const held = new Promise<void>((resolve) => call.on('data', (m: pb.RunTrialResponse) => m.event?.$case === 'held' && resolve()));
      call.on('error', () => undefined);
      await held;
      expect(marker()).to.equal('holding');
      call.cancel();
      await sleep(300);
      expect(marker()).to.equal('released');
    });

    it('ReleaseTrial during the hold lets the trial end with its result', async () => {
      let released: Promise<pb.ReleaseTrialResponse> | undefined;
      let atResult = '';
      const limitWarnings = (): number => shim.output().match(/no ReleaseTrial/g)?.length ?? 0;
      const warned = limitWarnings();
      await new Promise<void>((resolve, reject) => {
        const call = raw.runTrial({ sessionId, trial: trialToPb(trial()), progressIntervalMs: 0, holdForRelease: true });
        call.on('data', (m: pb.RunTrialResponse) => {
          if (m.event?.$case === 'held') released = unary<pb.ReleaseTrialRequest, pb.ReleaseTrialResponse>(raw.releaseTrial.bind(raw), { sessionId });
          else if (m.event?.$case === 'result') atResult = marker();
        });
        call.on('error', reject);
        call.on('end', resolve);
      });
      expect(await released).to.deep.equal({ released: true });
      expect(atResult).to.equal('released');
      expect(limitWarnings(), 'released by the call, not at the limit').to.equal(warned);
    });
  });
});
