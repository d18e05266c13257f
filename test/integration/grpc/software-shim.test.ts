/**
 * The Ixia driver against a shim wrapping the real Software generator on a veth pair in two network
 * namespaces (vsi-sa ↔ vsi-sb): real frames through the whole gRPC path, the conformance kit, and a
 * shim killed mid-trial (no engine left, the next shim releases the dead one's journal). Leftover audit.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeTrafficGenerator } from '../../../framework/conformance/index.js';
import { DriverError } from '../../../framework/errors.js';
import { exec } from '../../../framework/host/exec.js';
import { Host } from '../../../framework/host/host.js';
import { Journal } from '../../../framework/host/journal.js';
import { isAlive } from '../../../framework/host/proc.js';
import { CleanupStack } from '../../../framework/runner/cleanup-stack.js';
import { ShimClient } from '../../../trafficgen/grpc/client.js';
import type { PortSpec, TrialSpec } from '../../../framework/api/trafficgen.js';
import { makePki, startShim, STATE_DIR, tlsShimArgs, type RunningShim, type TestPki } from './helpers.js';
import { basicTrialSpec } from '../../../framework/api/example-spec.js';

const PORTS: PortSpec[] = [
  { name: 'vsis0', netns: 'vsi-sa', speedMbps: 10_000 },
  { name: 'vsis1', netns: 'vsi-sb', speedMbps: 10_000 },
];

function trial(over: Partial<TrialSpec> = {}): TrialSpec {
  return basicTrialSpec({ rate: { unit: 'fps', value: 10_000 }, latency: true, ...over });
}

async function ourNetns(): Promise<string[]> {
  const r = await exec(['ip', '-j', 'netns', 'list'], { allowFail: true });
  return (r.stdout.trim() ? (JSON.parse(r.stdout) as { name: string }[]) : []).map((x) => x.name).filter((n) => n.startsWith('vsi-s'));
}

function shimJournals(pid: number): string[] {
  const dir = join(STATE_DIR, 'journal');
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.startsWith(`tgshim-${pid}-`))
        .map((f) => join(dir, f))
    : [];
}

describe('tgshim wrapping the Software generator on a veth pair (integration)', function () {
  this.timeout(120_000);
  let host: Host;
  let pki: TestPki;
  let work: string;
  let conf: string;
  const shims: RunningShim[] = [];

  const shimArgs = (): string[] => tlsShimArgs(pki, ['--generator', 'Software', '--conf-file', conf]);
  const open = (shim: RunningShim): Promise<ShimClient> =>
    ShimClient.open({
      address: shim.address,
      tls: { caPem: pki.pem(pki.caCert), certPem: pki.pem(pki.clientCert), keyPem: pki.pem(pki.clientKey), serverName: 'localhost' },
      token: pki.token,
      retries: 1,
    });

  before(async () => {
    expect(process.getuid?.(), 'runs as root (netns, raw sockets)').to.equal(0);
    expect(await ourNetns(), 'leftovers of an earlier run').to.deep.equal([]);
    host = new Host(new CleanupStack(), new Journal(`vsi-grpc-it-${process.pid}`));
    for (const ns of ['vsi-sa', 'vsi-sb']) {
      await host.createNetns(ns);
      await exec(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    }
    await host.createVethPair('vsis0', 'vsis1', { aNetns: 'vsi-sa', bNetns: 'vsi-sb' });
    pki = await makePki();
    work = mkdtempSync(join(tmpdir(), 'vsi-sw-'));
    conf = join(work, 'software.json');
    writeFileSync(conf, JSON.stringify({ TRAFFICGEN_SOFTWARE_CALIBRATE_S: 0 }));
  });

  after(async () => {
    for (const s of shims) await s.stop();
    const errors = await host.cleanup.unwind();
    host.journal.close();
    pki?.remove();
    rmSync(work, { recursive: true, force: true });
    expect(errors.map((e) => e.message)).to.deep.equal([]);
    expect(await ourNetns()).to.deep.equal([]);
    for (const s of shims) {
      expect(isAlive(s.child.pid), `shim ${s.child.pid}`).to.equal(false);
      expect(
        shimJournals(s.child.pid).flatMap((f) => Journal.read(f)),
        `live resources of shim ${s.child.pid}`,
      ).to.deep.equal([]);
    }
  });

  describeTrafficGenerator(
    'Ixia via vsperf-tgshim wrapping Software (real frames on veth, mutual TLS + token)',
    async () => {
      const shim = await startShim(shimArgs());
      shims.push(shim);
      return { generator: await open(shim), ports: PORTS, close: () => shim.stop() };
    },
    { lossFreeRateFps: 10_000 },
  );

  it("beforeRelease runs while the shim's engine still holds its ports (tgshim.v1.4 hold_for_release); the engine exits after it", async () => {
    const shim = await startShim(shimArgs());
    shims.push(shim);
    const d = await open(shim);
    await d.connect(PORTS);
    const engines = (): number[] =>
      shimJournals(shim.child.pid)
        .flatMap((f) => Journal.read(f))
        .flatMap((e) => (e.kind === 'process' && isAlive(e.pid) ? [e.pid] : []));
    const inHook: number[][] = [];
    const r = await d.runTrial(trial({ durationS: undefined, frames: 2000 }), undefined, undefined, {
      beforeRelease: async () => {
        inHook.push(engines());
        await new Promise((res) => setTimeout(res, 500));
        inHook.push(engines());
      },
    });
    expect(r.rxFrames, 'real frames crossed the veth pair').to.equal(2000);
    expect(inHook.length, 'the hook ran once').to.equal(2);
    expect(inHook[0]!.length, 'the engine held its ports through the hook').to.equal(1);
    expect(inHook[1], 'the same engine, 500 ms into the hook').to.deep.equal(inHook[0]);
    expect(isAlive(inHook[0]![0]!), 'the engine has exited when runTrial returns').to.equal(false);
    await d.close();
  });

  it("a shim killed mid-trial: clear DriverError, no engine left, the next shim releases the dead one's journal", async () => {
    const shim = await startShim(shimArgs());
    shims.push(shim);
    const d = await open(shim);
    await d.connect(PORTS);
    const first = await d.runTrial(trial({ durationS: undefined, frames: 2000 }));
    expect(first.rxFrames, 'real frames crossed the veth pair').to.equal(2000);
    const p = d.runTrial(trial({ durationS: 8 }));
    await new Promise((r) => setTimeout(r, 2500));
    const journals = shimJournals(shim.child.pid);
    const engines = journals.flatMap((f) => Journal.read(f)).filter((e) => e.kind === 'process');
    expect(engines.length, 'the engine runs under the shim during the trial').to.be.at.least(1);
    process.kill(shim.child.pid, 'SIGKILL');
    const e = await p.then(
      () => undefined,
      (x: unknown) => x as Error,
    );
    expect(e).to.be.instanceOf(DriverError);
    expect(e!.message).to.match(/died or the connection dropped during the trial/);
    await d.close();
    await shim.child.waitExit();
    // The engine notices its controller is gone (stdin EOF) and exits.
    const deadline = Date.now() + 5000;
    while (engines.some((x) => x.kind === 'process' && isAlive(x.pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    for (const x of engines) if (x.kind === 'process') expect(isAlive(x.pid), `engine pid ${x.pid}`).to.equal(false);
    // The next shim start releases what the dead one journalled (XDP programs, processes) and drops its journal.
    const next = await startShim(shimArgs());
    shims.push(next);
    for (const f of journals) expect(existsSync(f), f).to.equal(false);
    const d2 = await open(next);
    await d2.connect(PORTS);
    expect((await d2.runTrial(trial({ durationS: undefined, frames: 1000 }))).rxFrames).to.equal(1000);
    await d2.close();
  });
});
