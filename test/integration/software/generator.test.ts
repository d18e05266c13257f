/**
 * Software generator on real veth pairs in network namespaces this test creates (prefix vsg-it).
 * Needs root and the built engine (`npm run build`); a missing piece fails, never skips.
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { isAlive, sleep, waitUntil } from '../../../framework/host/proc.js';
import { runJanitor } from '../../../framework/host/janitor.js';
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AbortedError, CapabilityError, DriverError, EnvironmentError } from '../../../framework/errors.js';
import type { Host } from '../../../framework/host/host.js';
import { exec } from '../../../framework/host/exec.js';
import { SoftwareGenerator, calibrationSpec } from '../../../trafficgen/software/driver.js';
import { DpdkSetupError } from '../../../trafficgen/software/dpdk.js';
import type { PortSpec, TrialSpec, LiveCounters } from '../../../framework/api/trafficgen.js';
import { enginePids, forwarderModel, linksList, makeHost, netnsList, quietNetns, startForwarder, stopForwarder, vethPair } from './helpers.js';

const NS_A = 'vsg-it-a';
const NS_B = 'vsg-it-b';
const NS_F = 'vsg-it-f';
const SPEED = 10_000;

function spec(over: Partial<TrialSpec> & { frameSize?: number } = {}): TrialSpec {
  const base = calibrationSpec(over.frameSize ?? 64);
  const { frameSize: _f, ...rest } = over;
  // A long drain costs nothing when all frames arrive (the engine ends it early) and absorbs a
  // starved softirq on this shared 2-core box.
  return { ...base, rate: { unit: 'fps', value: 10_000 }, durationS: 1, drainS: 3, ...rest } as TrialSpec;
}

describe('Software generator on veth pairs (integration)', function () {
  this.timeout(60_000);
  let host: Host;
  const pair: PortSpec[] = [
    { name: 'vsgi0', netns: NS_A, speedMbps: SPEED },
    { name: 'vsgi1', netns: NS_B, speedMbps: SPEED },
  ];

  before(async () => {
    expect(process.getuid?.(), 'integration tests run as root').to.equal(0);
    host = makeHost('software-it');
    for (const ns of [NS_A, NS_B, NS_F]) {
      await host.createNetns(ns);
      await quietNetns(ns);
    }
    await vethPair(host, 'vsgi0', NS_A, 'vsgi1', NS_B);
    // forwarder path: vsgf0 (A) → vsgf1 (F) ─forwarder→ vsgf2 (F) → vsgf3 (A)
    await vethPair(host, 'vsgf0', NS_A, 'vsgf1', NS_F);
    await vethPair(host, 'vsgf2', NS_F, 'vsgf3', NS_A);
    // a port that is down, and one with a small MTU
    await vethPair(host, 'vsgd0', NS_A, 'vsgd1', NS_B);
    await exec(['ip', '-n', NS_A, 'link', 'set', 'vsgd0', 'down']);
    await vethPair(host, 'vsgm0', NS_A, 'vsgm1', NS_B, 1000);
    await vethPair(host, 'vsgj0', NS_A, 'vsgj1', NS_B, 9000);
  });

  after(async () => {
    const errors = await host.cleanup.unwind();
    host.journal.close();
    expect(errors.map((e) => e.message)).to.deep.equal([]);
    // leftover audit: nothing of ours survives
    expect(await netnsList('vsg-it')).to.deep.equal([]);
    expect(await linksList('vsg')).to.deep.equal([]);
    expect(enginePids()).to.deep.equal([]);
  });

  afterEach(() => {
    expect(enginePids(), 'no engine left running after a test').to.deep.equal([]);
  });

  async function connected(ports: PortSpec[] = pair): Promise<SoftwareGenerator> {
    const g = new SoftwareGenerator(host, { calibrateS: 0, backend: 'af_packet' });
    await g.connect(ports);
    return g;
  }

  it('sends N frames and receives exactly N, in sequence, with positive latency and a complete histogram', async () => {
    const g = await connected();
    const r = await g.runTrial(spec({ durationS: undefined, frames: 10_000, rate: { unit: 'fps', value: 50_000 } }));
    await g.close();
    expect(r.txFrames).to.equal(10_000);
    expect(r.rxFrames, JSON.stringify(r.info)).to.equal(10_000);
    expect(r.lostFrames).to.equal(0);
    expect(r.reordered).to.equal(0);
    expect(r.duplicated).to.equal(0);
    expect(r.foreign).to.equal(0);
    const lat = r.latency!;
    expect(lat.minNs).to.be.greaterThan(0);
    expect(lat.avgNs).to.be.at.least(lat.minNs).and.at.most(lat.maxNs);
    expect(lat.samples).to.equal(10_000);
    expect(lat.histogram!.counts.reduce((a, b) => a + b, 0)).to.equal(r.rxFrames);
    expect(lat.percentilesNs.p50).to.be.at.most(lat.percentilesNs.p99!);
    expect(r.directions).to.have.length(1);
    expect(r.info?.backend).to.equal('af_packet');
  });

  it('10 kpps for 2 s sends 20000 frames ± 0.5 % and reports live counters', async () => {
    // TX thread at SCHED_FIFO (TRAFFICGEN_SOFTWARE_RT_PRIORITY): this 2-core box is shared with other
    // jobs, and a TX thread kept off the CPU for 200 ms would (rightly) report generator-limited.
    const g = new SoftwareGenerator(host, { calibrateS: 0, backend: 'af_packet', rtPriority: 10 });
    await g.connect(pair);
    const seen: LiveCounters[] = [];
    const r = await g.runTrial(spec({ durationS: 2, rate: { unit: 'fps', value: 10_000 } }), undefined, (c) => seen.push(c));
    await g.close();
    expect(r.txFrames).to.be.within(19_900, 20_100);
    expect(r.achievedTxFps).to.be.within(9_950, 10_050);
    expect(r.durationS).to.be.within(1.99, 2.05);
    expect(r.rxFrames, JSON.stringify(r.info)).to.equal(r.txFrames);
    expect(r.generatorLimited).to.equal(false);
    expect(seen.length).to.be.at.least(4);
    expect(seen.at(-1)!.txFrames).to.be.greaterThan(seen[0]!.txFrames);
  });

  it('runs bidirectional trials with one stream per direction', async () => {
    const g = await connected();
    const r = await g.runTrial(spec({ bidir: true, durationS: undefined, frames: 5_000, rate: { unit: 'fps', value: 20_000 } }));
    await g.close();
    expect(
      r.directions.map((d) => [d.fromPort, d.toPort, d.txFrames, d.rxFrames, d.lostFrames]),
      JSON.stringify(r.info),
    ).to.deep.equal([
      [0, 1, 5_000, 5_000, 0],
      [1, 0, 5_000, 5_000, 0],
    ]);
    expect(r.txFrames).to.equal(10_000);
  });

  it('sends multistream, VLAN-tagged, IPv6 and IMIX frames without loss', async () => {
    const g = await connected();
    const base = calibrationSpec(128).stream;
    const variants: TrialSpec['stream'][] = [
      { ...base, multistream: 64, streamType: 'L3' },
      { ...base, multistream: 1000, streamType: 'L2' },
      { ...base, vlan: { enabled: true, id: 100, priority: 3, cfi: 0 } },
      { ...base, frameSize: 128, l3: { enabled: true, version: 6, proto: 'udp', srcIp: 'fd00::1', dstIp: 'fd00::2' } },
      { ...base, imixGenome: 'aaaaaaaddddg' },
    ];
    for (const stream of variants) {
      const r = await g.runTrial({ ...spec({ durationS: undefined, frames: 3_000, rate: { unit: 'fps', value: 20_000 } }), stream });
      expect([r.txFrames, r.rxFrames, r.lostFrames], JSON.stringify([stream, r.info])).to.deep.equal([3_000, 3_000, 0]);
      if (stream.imixGenome) expect(r.txBytes).to.equal((3_000 / 12) * (7 * 60 + 4 * 508 + 1514));
    }
    await g.close();
  });

  it('measures a forwarder that drops every 7th, duplicates every 11th and reorders every 13th frame exactly', async () => {
    const fwd = await startForwarder(host, [
      '--in',
      `vsgf1@${NS_F}`,
      '--out',
      `vsgf2@${NS_F}`,
      '--drop-every',
      '7',
      '--dup-every',
      '11',
      '--reorder-every',
      '13',
    ]);
    const g = await connected([
      { name: 'vsgf0', netns: NS_A, speedMbps: SPEED },
      { name: 'vsgf3', netns: NS_A, speedMbps: SPEED },
    ]);
    const n = 10_000;
    const r = await g.runTrial(spec({ durationS: undefined, frames: n, rate: { unit: 'fps', value: 20_000 }, drainS: 1 }));
    await g.close();
    const f = await stopForwarder(fwd);
    const want = forwarderModel(n, 7, 11, 13);
    expect(f.received).to.equal(n);
    expect({ rx: r.rxFrames, duplicated: r.duplicated, reordered: r.reordered, lost: r.lostFrames }, JSON.stringify([f, r.info])).to.deep.equal(want);
    expect(r.txFrames).to.equal(n);
    expect(r.lossPct).to.be.closeTo((want.lost / n) * 100, 1e-9);
    expect(r.directions[0]!.maxGapMs).to.be.greaterThan(0);
  });

  async function xdpAttached(ns: string, dev: string): Promise<boolean> {
    const r = await exec(['ip', '-j', '-d', '-n', ns, 'link', 'show', 'dev', dev]);
    return JSON.stringify(JSON.parse(r.stdout)).includes('"xdp"');
  }

  it('runs on AF_XDP when asked, says so in the result, and removes its XDP programs', async () => {
    const g = new SoftwareGenerator(host, { calibrateS: 0, backend: 'af_xdp' });
    await g.connect(pair);
    const r = await g.runTrial(spec({ bidir: true, durationS: undefined, frames: 5_000, rate: { unit: 'fps', value: 20_000 } }));
    await g.close();
    expect(r.info?.backend).to.equal('af_xdp');
    expect([r.txFrames, r.rxFrames, r.lostFrames, r.duplicated, r.reordered]).to.deep.equal([10_000, 10_000, 0, 0, 0]);
    expect(r.latency!.minNs).to.be.greaterThan(0);
    expect(await xdpAttached(NS_A, 'vsgi0')).to.equal(false);
    expect(await xdpAttached(NS_B, 'vsgi1')).to.equal(false);
  });

  it('by default sends with AF_XDP and receives with AF_PACKET, honours per-port choices, falls back for jumbo frames', async () => {
    const g = new SoftwareGenerator(host, { calibrateS: 0 });
    await g.connect(pair);
    const r = await g.runTrial(spec({ durationS: undefined, frames: 2_000 }));
    await g.close();
    expect([r.info?.backend, r.info?.port0Backend, r.info?.port1Backend]).to.deep.equal(['mixed', 'af_xdp', 'af_packet']);
    expect(r.rxFrames).to.equal(2_000);
    await g.connect([
      { ...pair[0]!, backend: 'af_packet' },
      { ...pair[1]!, backend: 'af_xdp' },
    ]);
    const m = await g.runTrial(spec({ durationS: undefined, frames: 2_000 }));
    await g.close();
    expect([m.info?.backend, m.info?.port0Backend, m.info?.port1Backend]).to.deep.equal(['mixed', 'af_packet', 'af_xdp']);
    expect(m.rxFrames).to.equal(2_000);
    await g.connect([
      { name: 'vsgj0', netns: NS_A, speedMbps: SPEED },
      { name: 'vsgj1', netns: NS_B, speedMbps: SPEED },
    ]);
    const j = await g.runTrial(spec({ frameSize: 9018, durationS: undefined, frames: 2_000 }));
    await g.close();
    expect(j.info?.backend).to.equal('af_packet');
    expect([j.txFrames, j.rxFrames, j.rxBytes]).to.deep.equal([2_000, 2_000, 2_000 * 9014]);
  });

  it('removes the XDP program when an AF_XDP trial is aborted', async () => {
    const g = new SoftwareGenerator(host, { calibrateS: 0, backend: 'af_xdp' });
    await g.connect(pair);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 500);
    let err: unknown;
    try {
      await g.runTrial(spec({ durationS: 20 }), ac.signal);
    } catch (e) {
      err = e;
    }
    await g.close();
    expect(err).to.be.instanceOf(AbortedError);
    expect(await xdpAttached(NS_B, 'vsgi1')).to.equal(false);
  });

  it('never leaves an engine (or its XDP program) behind when the driver process is SIGKILLed', async () => {
    const probe = join(fileURLToPath(import.meta.url), '..', 'orphan-probe.js');
    const child = spawn(process.execPath, [probe, 'vsgi0', NS_A, 'vsgi1', NS_B], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, VSPERF_STATE_DIR: '/tmp/vsperf-software-test-orphan' },
    });
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      const t = setTimeout(() => reject(new Error('probe printed no engine pid')), 15_000);
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const l = buf.split('\n').find((x) => x.includes('enginePids'));
        if (l) {
          clearTimeout(t);
          resolve(l);
        }
      });
    });
    const pids = (JSON.parse(line) as { enginePids: number[] }).enginePids;
    expect(pids).to.have.length(1);
    expect(await xdpAttached(NS_B, 'vsgi1')).to.equal(true);
    child.kill('SIGKILL');
    const gone = await waitUntil(() => !isAlive(pids[0]!), 5_000);
    expect(gone, `engine ${pids[0]} outlived its driver`).to.equal(true);
    expect(await xdpAttached(NS_B, 'vsgi1')).to.equal(false);
    // The killed driver's journal still lists the engine and the XDP ports: the janitor clears them.
    const released = await runJanitor({ dir: '/tmp/vsperf-software-test-orphan/journal' });
    expect(released).to.be.at.least(3);
    rmSync('/tmp/vsperf-software-test-orphan', { recursive: true, force: true });
  });

  it('sends learning frames before the counted phase and keeps them out of the counters', async () => {
    const g = await connected();
    const r = await g.runTrial(spec({ durationS: undefined, frames: 2_000, learningS: 0.5 }));
    await g.close();
    expect([r.txFrames, r.rxFrames, r.lostFrames, r.foreign]).to.deep.equal([2_000, 2_000, 0, 0]);
    expect(Number(r.info?.learningFramesRx)).to.be.within(400, 600); // 1000 fps for 0.5 s
  });

  it('stops the engine at once on abort and throws AbortedError', async () => {
    const g = await connected();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 400);
    let err: unknown;
    try {
      await g.runTrial(spec({ durationS: 20 }), ac.signal);
    } catch (e) {
      err = e;
    }
    await g.close();
    // The abort path, not the trial's end: the engine of a 20 s trial was killed, and nothing is left.
    expect(err).to.be.instanceOf(AbortedError);
    expect((err as Error).message).to.match(/aborted; engine \(pid \d+\) stopped/);
    expect(enginePids()).to.deep.equal([]);
  });

  it('runs continuous traffic until stopped', async () => {
    const g = await connected();
    const run = await g.startContinuous!({ ...spec(), rate: { unit: 'fps', value: 20_000 } });
    await new Promise((r) => setTimeout(r, 1200));
    const live = await run.poll();
    expect(live.txFrames).to.be.greaterThan(5_000);
    const r = await run.stop();
    await g.close();
    expect(r.txFrames).to.be.greaterThan(live.txFrames);
    expect(r.rxFrames).to.equal(r.txFrames);
    expect(r.info?.stoppedBy).to.equal('stop');
  });

  it('vsperf-gen runs a one-port and a two-port trial and prints the counters as JSON', () => {
    const bin = join(fileURLToPath(import.meta.url), '..', '..', '..', '..', '..', 'bin', 'vsperf-gen.js');
    const two = spawnSync(
      process.execPath,
      [bin, '-i', 'vsgi0', '-n', NS_A, '--rx-interface', 'vsgi1', '--rx-netns', NS_B, '-r', '20k', '-f', '3000', '-b', 'af_packet'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(two.status, two.stderr).to.equal(0);
    const r = JSON.parse(two.stdout) as { txFrames: number; rxFrames: number; latency: { samples: number; histogram?: unknown }; info: { backend: string } };
    expect([r.txFrames, r.rxFrames, r.latency.samples, r.info.backend]).to.deep.equal([3000, 3000, 3000, 'af_packet']);
    expect(r.latency.histogram).to.equal(undefined);
    const one = spawnSync(process.execPath, [bin, '-i', 'vsgi0', '-n', NS_A, '-r', '5000', '-d', '0.5'], { encoding: 'utf8', timeout: 30_000 });
    expect(one.status, one.stderr).to.equal(0);
    const o = JSON.parse(one.stdout) as { txFrames: number; rxFrames: number; directions: { fromPort: number; toPort: number }[] };
    expect(o.txFrames).to.be.within(2490, 2510);
    expect(o.rxFrames).to.equal(0); // nothing loops the frames back on a plain veth
    expect(o.directions[0]).to.include({ fromPort: 0, toPort: 0 });
    const bad = spawnSync(process.execPath, [bin, '-i', 'vsgnope9', '-n', NS_A], { encoding: 'utf8', timeout: 30_000 });
    expect(bad.status).to.equal(3);
    expect(bad.stderr.trim()).to.match(/^vsperf-gen: E_ENV: port 0: interface vsgnope9 not found in network namespace vsg-it-a/);
  });

  describe('dpdk backend (DPDK net_af_packet devices on the veths)', () => {
    it('counts every frame both ways against a kernel AF_PACKET port, with positive latency from the TSC clock', async () => {
      const g = new SoftwareGenerator(host, { calibrateS: 0, backend: 'af_packet' });
      try {
        await g.connect([{ ...pair[0]!, backend: 'dpdk' }, pair[1]!]);
        const r = await g.runTrial(spec({ bidir: true, durationS: undefined, frames: 5000 } as Partial<TrialSpec>));
        expect(r.directions).to.have.length(2);
        for (const d of r.directions) {
          expect(d.txFrames, `${d.fromPort}→${d.toPort}`).to.equal(5000);
          expect(d.rxFrames, `${d.fromPort}→${d.toPort}`).to.equal(5000);
          expect(d.lostFrames).to.equal(0);
          // TX stamped by the kernel clock, RX by the TSC mapped to it (or the reverse): a bad mapping goes negative or huge
          expect(d.latency!.minNs).to.be.greaterThan(0);
          expect(d.latency!.minNs).to.be.below(50_000_000);
        }
      } finally {
        await g.close();
      }
    });

    it('both ports DPDK devices (net_pcap and net_af_packet): one polling loop per core, every frame counted, the kernel counters agree', async () => {
      const kernelCount = async (ns: string, dev: string): Promise<{ rx: number; tx: number }> => {
        const j = JSON.parse((await exec(['ip', '-n', ns, '-s', '-j', 'link', 'show', 'dev', dev])).stdout) as {
          stats64: { rx: { packets: number }; tx: { packets: number } };
        }[];
        return { rx: j[0]!.stats64.rx.packets, tx: j[0]!.stats64.tx.packets };
      };
      const g = new SoftwareGenerator(host, { calibrateS: 0, backend: 'dpdk', cpus: [0, 1] });
      try {
        await g.connect([
          { ...pair[0]!, backend: 'dpdk', devargs: 'net_pcap0,iface=vsgi0' },
          { ...pair[1]!, backend: 'dpdk' },
        ]);
        const before = await kernelCount(NS_B, 'vsgi1');
        const r = await g.runTrial(spec({ bidir: true, durationS: undefined, frames: 4000 } as Partial<TrialSpec>));
        const after = await kernelCount(NS_B, 'vsgi1');
        for (const d of r.directions) {
          expect([d.txFrames, d.rxFrames, d.lostFrames], `${d.fromPort}→${d.toPort}`).to.deep.equal([4000, 4000, 0]);
          expect(d.latency!.minNs).to.be.greaterThan(0);
        }
        expect(r.info?.port0Backend).to.equal('dpdk');
        expect(r.info?.generatorBusyPct, 'the loops report their busy share').to.be.a('number');
        // The independent observer: the veth under net_af_packet saw exactly the frames each way.
        expect([after.rx - before.rx, after.tx - before.tx]).to.deep.equal([4000, 4000]);
      } finally {
        await g.close();
      }
    });

    it('two queues per port on two cores (net_af_packet qpairs=2): flows spread over both TX and RX queues, every frame counted once, the kernel counters agree', async () => {
      const kernelCount = async (ns: string, dev: string): Promise<{ rx: number; tx: number }> => {
        const j = JSON.parse((await exec(['ip', '-n', ns, '-s', '-j', 'link', 'show', 'dev', dev])).stdout) as {
          stats64: { rx: { packets: number }; tx: { packets: number } };
        }[];
        return { rx: j[0]!.stats64.rx.packets, tx: j[0]!.stats64.tx.packets };
      };
      const g = new SoftwareGenerator(host, { calibrateS: 0, backend: 'dpdk', cpus: [0, 1], queues: 2 });
      try {
        await g.connect([
          { ...pair[0]!, backend: 'dpdk' },
          { ...pair[1]!, backend: 'dpdk' },
        ]);
        const base = spec({ bidir: true, durationS: undefined, frames: 6001 } as Partial<TrialSpec>);
        const before = await kernelCount(NS_B, 'vsgi1');
        // 64 flows varying the UDP port: the kernel's fanout hash spreads them over the receiving sockets.
        const r = await g.runTrial({ ...base, stream: { ...base.stream, multistream: 64, streamType: 'L4' } });
        const after = await kernelCount(NS_B, 'vsgi1');
        for (const d of r.directions) {
          // A sender per TX queue, each with its own sequence space: merged exactly, nothing seen as lost, reordered or duplicated.
          expect([d.txFrames, d.rxFrames, d.lostFrames, d.duplicated, d.reordered], `${d.fromPort}→${d.toPort}`).to.deep.equal([6001, 6001, 0, 0, 0]);
          expect(d.latency!.samples).to.equal(6001);
          expect(d.latency!.histogram!.counts.reduce((a, b) => a + b, 0)).to.equal(6001);
          expect(d.maxGapMs ?? 0, 'no gap: the lanes of RSS-split queues are put back together').to.equal(0);
        }
        for (const i of [0, 1]) {
          // 6001 frames over two lanes: 3001 on queue 0, 3000 on queue 1.
          expect(r.info?.[`port${i}TxQueues`], `port ${i} TX queues`).to.equal('3001/3000');
          const rxq = String(r.info?.[`port${i}RxQueues`]).split('/').map(Number);
          expect(rxq, `port ${i} RX queues`).to.have.length(2);
          expect(Math.min(...rxq), `port ${i}: both RX queues got frames`).to.be.greaterThan(0);
          expect(rxq[0]! + rxq[1]!).to.be.at.least(6001);
        }
        // The independent observer: the veth under net_af_packet saw exactly the frames each way.
        expect([after.rx - before.rx, after.tx - before.tx]).to.deep.equal([6001, 6001]);
      } finally {
        await g.close();
      }
    });

    it('paced frames leave in bursts of TX burst (16 at 20 kfps) and one by one with a burst of 1, as tcpdump on the receiving veth sees them; every frame counted', async () => {
      // The wire's view (kernel timestamps taken when the veth passes the frame on): frames closer than
      // `gapS` left together. At 20 kfps a frame is due every 50 µs, so 16 are due after 750 µs, before
      // the 2 ms wait: bursts of 16 every 800 µs. With a burst of 1 each frame leaves when due, 50 µs apart.
      const groupsOnWire = async (txBurst: number, gapS: number): Promise<{ sizes: number[]; frames: number; tx: number; rx: number; capErr: string }> => {
        const pcap = join(tmpdir(), `vsg-it-burst-${process.pid}-${txBurst}.pcap`);
        const cap = spawn(
          'ip',
          ['netns', 'exec', NS_B, 'tcpdump', '-i', 'vsgi1', '--immediate-mode', '-U', '-n', '-B', '16384', '--time-stamp-precision=nano', '-w', pcap, 'udp'],
          {
            stdio: ['ignore', 'ignore', 'pipe'],
          },
        );
        let capErr = '';
        cap.stderr!.on('data', (d: Buffer) => (capErr += d.toString()));
        // both ports DPDK devices (net_af_packet on the veths): the polling loops, which pace in bursts
        const g = new SoftwareGenerator(host, { calibrateS: 0, backend: 'dpdk', txBurst, txBurstWaitUs: 2000 });
        try {
          expect(await waitUntil(() => capErr.includes('listening on'), 10_000, 20), `tcpdump started: ${capErr}`).to.equal(true);
          await g.connect([
            { ...pair[0]!, backend: 'dpdk' },
            { ...pair[1]!, backend: 'dpdk' },
          ]);
          const r = await g.runTrial(spec({ rate: { unit: 'fps', value: 20_000 }, durationS: 1 }));
          const d = r.directions[0]!;
          // the capture's last block is handed over after libpcap's timeout (1 s): wait for it
          await sleep(1200);
          cap.kill('SIGINT');
          await new Promise((res) => (cap.exitCode !== null ? res(undefined) : cap.once('exit', res)));
          const text = spawnSync('tcpdump', ['-r', pcap, '-n', '-tt', '--time-stamp-precision=nano'], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout;
          const ts = text
            .split('\n')
            .filter((l) => l.trim())
            .map((l) => Number(l.split(' ')[0]));
          const sizes: number[] = [];
          for (let i = 0; i < ts.length; i++) {
            if (i === 0 || ts[i]! - ts[i - 1]! > gapS) sizes.push(0);
            sizes[sizes.length - 1]!++;
          }
          expect(capErr, 'tcpdump dropped nothing').to.match(/\b0 packets dropped by kernel/);
          return { sizes, frames: ts.length, tx: d.txFrames, rx: d.rxFrames, capErr };
        } finally {
          if (cap.exitCode === null) cap.kill('SIGINT');
          await g.close();
          rmSync(pcap, { force: true });
        }
      };
      const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const burst = await groupsOnWire(16, 200e-6);
      expect([burst.tx, burst.rx, burst.frames], `sent, counted, seen on the wire (${burst.capErr.trim()})`).to.deep.equal([20_000, 20_000, 20_000]);
      expect(median(burst.sizes), `groups on the wire: ${burst.sizes.slice(0, 20).join(' ')}…`).to.equal(16);
      // a late loop (a shared core) sends two bursts' worth at once: groups of 16 or a multiple, never fewer but the last
      expect(burst.sizes.slice(0, -1).filter((n) => n % 16 !== 0).length, 'groups that are not whole bursts').to.be.at.most(burst.sizes.length / 20);
      const single = await groupsOnWire(1, 20e-6);
      expect([single.tx, single.rx, single.frames], single.capErr.trim()).to.deep.equal([20_000, 20_000, 20_000]);
      expect(median(single.sizes), `groups with a burst of 1: ${single.sizes.slice(0, 20).join(' ')}…`).to.equal(1);
      expect(single.sizes.length, 'frames 50 µs apart: most leave alone').to.be.greaterThan(10_000);
    });

    it('a DPDK device that cannot be probed is one EnvironmentError naming it', async () => {
      const g = new SoftwareGenerator(host, { calibrateS: 0, backend: 'dpdk' });
      try {
        await g.connect([{ name: 'vsgnope0', netns: NS_A, speedMbps: SPEED }]);
        const e = await g.runTrial(spec({ durationS: 0.2 })).then(
          () => undefined,
          (x: unknown) => x as Error,
        );
        expect(e).to.be.instanceOf(DpdkSetupError);
        expect((e as DpdkSetupError).check).to.equal('no-device');
        expect(e!.message).to.match(/could not probe device net_af_packet0,iface=vsgnope0/);
        expect(enginePids()).to.deep.equal([]);
        // The EAL was up when the probe failed: its runtime directory is gone, and --in-memory left no hugepage file.
        expect(readdirSync('/var/run/dpdk').filter((d) => d.startsWith(`vsg-${process.pid}-`))).to.deep.equal([]);
        expect(readdirSync('/dev/hugepages').filter((f) => /vsg/.test(f))).to.deep.equal([]);
      } finally {
        await g.close();
      }
    });

    it('a PCI port that does not exist is one EnvironmentError before anything is bound', async () => {
      const g = new SoftwareGenerator(host, { calibrateS: 0, backend: 'dpdk' });
      const e = await g.connect([{ name: 'nic0', pci: '0000:ff:1f.7', speedMbps: SPEED }]).then(
        () => undefined,
        (x: unknown) => x as Error,
      );
      expect(e).to.be.instanceOf(EnvironmentError);
      expect(e!.message).to.match(/PCI device 0000:ff:1f.7 .* not found/);
      await g.close();
    });
  });

  describe('bad input: one clear error, nothing left running', () => {
    async function failure(fn: () => Promise<unknown>): Promise<Error> {
      try {
        await fn();
      } catch (e) {
        expect(enginePids()).to.deep.equal([]);
        return e as Error;
      }
      throw new Error('expected an error');
    }

    it('unknown interface', async () => {
      const g = new SoftwareGenerator(host, { calibrateS: 0 });
      const e = await failure(() => g.connect([{ name: 'vsgnope0', netns: NS_A, speedMbps: SPEED }]));
      expect(e).to.be.instanceOf(EnvironmentError);
      expect(e.message).to.match(/interface vsgnope0 not found in network namespace vsg-it-a/);
    });

    it('unknown network namespace', async () => {
      const g = new SoftwareGenerator(host, { calibrateS: 0 });
      const e = await failure(() => g.connect([{ name: 'vsgi0', netns: 'vsg-it-nosuch', speedMbps: SPEED }]));
      expect(e).to.be.instanceOf(EnvironmentError);
      expect(e.message).to.match(/vsg-it-nosuch/);
    });

    it('interface down', async () => {
      const g = new SoftwareGenerator(host, { calibrateS: 0 });
      const e = await failure(() => g.connect([{ name: 'vsgd0', netns: NS_A, speedMbps: SPEED }, pair[1]!]));
      expect(e).to.be.instanceOf(EnvironmentError);
      expect(e.message).to.match(/vsgd0 in network namespace vsg-it-a is down/);
    });

    it('frame larger than the MTU', async () => {
      const g = await connected([
        { name: 'vsgm0', netns: NS_A, speedMbps: SPEED },
        { name: 'vsgm1', netns: NS_B, speedMbps: SPEED },
      ]);
      const e = await failure(() => g.runTrial(spec({ frameSize: 1518 })));
      // capabilities() announce the smallest port MTU + 18 as maxFrameSize; the API's trial check refuses above it
      expect(e).to.be.instanceOf(CapabilityError);
      expect(e.message).to.match(/Software does not support 1518-byte frames: at most 1018/);
      await g.close();
    });

    it('rate above line rate', async () => {
      const g = await connected([
        { name: 'vsgi0', netns: NS_A, speedMbps: 100 },
        { name: 'vsgi1', netns: NS_B, speedMbps: 100 },
      ]);
      const e = await failure(() => g.runTrial(spec({ rate: { unit: 'fps', value: 200_000 } })));
      expect(e).to.be.instanceOf(DriverError);
      expect(e.message).to.match(/rate 200000 fps is above the line rate of 148810 fps \(100 Mbit\/s at 64 B frames\)/);
      await g.close();
    });

    it('not root', async () => {
      const here = fileURLToPath(import.meta.url);
      const script = join(here, '..', 'nonroot-probe.js');
      const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', process.execPath, script], {
        encoding: 'utf8',
        env: { ...process.env, VSPERF_STATE_DIR: '/tmp/vsperf-software-test-nobody' },
        timeout: 20_000,
      });
      expect(r.status, r.stderr).to.equal(0);
      const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { name: string; code: string; message: string };
      expect(out.name).to.equal('EnvironmentError');
      expect(out.message).to.match(/needs root/);
      expect(enginePids()).to.deep.equal([]);
    });
  });
});
