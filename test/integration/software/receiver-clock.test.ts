/**
 * The receiver's clock against an independent observer: tcpdump on the receiving port. A forwarder
 * that is frozen (SIGSTOP) for 250 ms holds the frames in its RX ring and then lets them all through:
 * nothing is lost, everything is late. That is what a live migration's stall looks like, and what
 * sequence numbers cannot show. The engine's longest receive silence must agree with the capture within
 * 2 ms, the lost frames exactly, and the frames held must count as delayed. Prefix vsg-itr.
 * Needs root, tcpdump and the built engine; a missing piece fails, never skips.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Host } from '../../../framework/host/host.js';
import { sleep } from '../../../framework/host/proc.js';
import { SoftwareGenerator, calibrationSpec } from '../../../trafficgen/software/driver.js';
import type { TrialSpec } from '../../../framework/api/trafficgen.js';
import { enginePids, linksList, makeHost, netnsList, quietNetns, startForwarder, stopForwarder, vethPair } from './helpers.js';
import { readTrailers } from './pcap.js';

const NS_A = 'vsg-itr-a';
const NS_F = 'vsg-itr-f';

async function tcpdump(ns: string, dev: string, file: string): Promise<ChildProcess> {
  const p = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', dev, '-U', '-n', '-B', '16384', '--time-stamp-precision=nano', '-w', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 10_000);
    p.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) {
        clearTimeout(t);
        resolve();
      }
    });
    p.on('exit', (c) => reject(new Error(`tcpdump exited ${c}: ${err}`)));
  });
  (p as ChildProcess & { errText: () => string }).errText = () => err;
  return p;
}

describe('receiver clock vs a capture of the wire (integration)', function () {
  this.timeout(90_000);
  let host: Host;
  let dir: string;

  before(async () => {
    expect(process.getuid?.(), 'integration tests run as root').to.equal(0);
    host = makeHost('software-itr');
    dir = mkdtempSync(join(tmpdir(), 'vsg-itr-'));
    for (const ns of [NS_A, NS_F]) {
      await host.createNetns(ns);
      await quietNetns(ns);
    }
    // vsgr0 (A) → vsgr1 (F) ─forwarder→ vsgr2 (F) → vsgr3 (A)
    await vethPair(host, 'vsgr0', NS_A, 'vsgr1', NS_F);
    await vethPair(host, 'vsgr2', NS_F, 'vsgr3', NS_A);
  });

  after(async () => {
    const errors = await host.cleanup.unwind();
    host.journal.close();
    rmSync(dir, { recursive: true, force: true });
    expect(errors.map((e) => e.message)).to.deep.equal([]);
    expect(await netnsList('vsg-itr')).to.deep.equal([]);
    expect(await linksList('vsgr')).to.deep.equal([]);
    expect(enginePids()).to.deep.equal([]);
  });

  it('a 250 ms stall with no loss: rx gap within 2 ms of the capture, lost frames exact, held frames delayed', async () => {
    const fwd = await startForwarder(host, ['--in', `vsgr1@${NS_F}`, '--out', `vsgr2@${NS_F}`, '--drop-every', '101']);
    const pcap = join(dir, 'rx.pcap');
    const cap = await tcpdump(NS_A, 'vsgr3', pcap);
    const g = new SoftwareGenerator(host, { calibrateS: 0, backend: 'af_packet' });
    await g.connect([
      { name: 'vsgr0', netns: NS_A, speedMbps: 10_000 },
      { name: 'vsgr3', netns: NS_A, speedMbps: 10_000 },
    ]);
    const spec = { ...calibrationSpec(64), rate: { unit: 'fps', value: 1000 }, latency: true } as TrialSpec;
    const run = await g.startContinuous!(spec);
    await sleep(1000);
    await run.mark!();
    await sleep(200);
    const windowStartMs = Date.now();
    process.kill(fwd.proc.pid!, 'SIGSTOP');
    await sleep(250);
    process.kill(fwd.proc.pid!, 'SIGCONT');
    await sleep(1000);
    const windowEndMs = Date.now();
    const r = await run.stop();
    await g.close();
    await stopForwarder(fwd);
    await sleep(300);
    cap.kill('SIGINT');
    await new Promise((res) => cap.once('exit', res));
    const errText = (cap as ChildProcess & { errText: () => string }).errText();
    expect(errText, 'tcpdump dropped nothing').to.match(/\b0 packets dropped by kernel/);

    const rcv = r.directions[0]!.receiver!;
    expect(rcv, 'the engine reports the receiver clock').to.be.an('object');
    // The capture: this run's frames (the most frequent tag), stream 0.
    const frames = readTrailers(pcap);
    const tags = new Map<number, number>();
    for (const f of frames) tags.set(f.tag, (tags.get(f.tag) ?? 0) + 1);
    const tag = [...tags.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    const mine = frames.filter((f) => f.tag === tag && f.stream === 0);
    let capGap = 0;
    for (let i = 1; i < mine.length; i++) {
      const t0 = mine[i - 1]!.tNs / 1e6;
      const t1 = mine[i]!.tNs / 1e6;
      if (t1 > windowStartMs - 50 && t0 < windowEndMs) capGap = Math.max(capGap, t1 - t0);
    }
    const engineGap = Math.max(...rcv.gapsMs.filter(([a, b]) => b > windowStartMs - 50 && a < windowEndMs).map(([a, b]) => b - a));
    const capLost = r.txFrames - new Set(mine.map((f) => f.seq)).size;
    expect(capGap, 'the stall is visible on the wire').to.be.above(200);
    expect(Math.abs(engineGap - capGap), `engine ${engineGap} ms vs capture ${capGap} ms`).to.be.at.most(2);
    expect(r.lostFrames, 'lost frames: engine vs capture').to.equal(capLost);
    expect(r.lostFrames).to.be.above(0); // every 101st frame dropped by the forwarder
    expect(rcv.delayedFrames, `delayed (threshold ${rcv.delayThresholdNs} ns)`).to.be.at.least(150);
    const bins = rcv.bins!;
    expect(
      bins.rxFrames.reduce((a, x) => a + x, 0),
      'bins hold every received frame',
    ).to.equal(r.rxFrames);
    expect(Math.max(...bins.maxLatencyUs) / 1000, 'the held frames waited ~250 ms').to.be.within(200, 400);
  });
});
