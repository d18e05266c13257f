/**
 * `npm run bench -- generator`: the Software generator's engine against dpdk-testpmd txonly on the same
 * veth pair, 64-byte frames (60 bytes on the wire, as RFC 2544 counts the FCS), TX on one core.
 *
 *  1. TX rate, counted the same way for every sender: the kernel RX counter of the peer veth over a
 *     window after a warm-up. Pairs: vsg-engine af_packet vs testpmd net_af_packet, vsg-engine af_xdp
 *     vs testpmd net_af_xdp, alternating ROUNDS times; the medians are compared (ratio = ours / testpmd).
 *     Also, per sender, the frames per CPU-second it used over the same window (utime + stime of all its
 *     threads; on a veth the receiver's softirq work runs in the sender's context and is charged to it):
 *     when other jobs share the TX core the wall-clock rate mostly measures the sender's share of the
 *     core, the per-CPU-second figure its cost per frame. Both ratios are reported; the goal is the first.
 *  2. RX counting at the rate TX reaches: a flat-out two-port trial through the driver; lost must be 0.
 *  3. Rate accuracy at 10 %, 50 % and 90 % of the engine's maximum (two-port trials, the normal path).
 *  4. dpdk backend: the engine vs testpmd on the same vdev (net_af_packet, net_af_xdp) as in 1; rate
 *     accuracy at 10/50/90 % and latency p50/p99 of the loss-free 10 % trial, both ports DPDK devices.
 *  5. the vhost sandbox's path by hand (private OVS-DPDK, two vhost-user ports, both directions), OVS's
 *     counters as the independent observer: flat out (the engine's cycles per frame, the PMD's), rate
 *     accuracy at 10/50/90 % of that maximum as the engine and as OVS saw it, and two queues per port
 *     (pmd-rxq-show) (BENCH_GENERATOR_P2P=0 skips).
 *  6. sandbox phy2phy_tput (64 B, 10 s trials): vhost-user ports + dpdk backend vs veth ports, with the
 *     OVS PMD's busy % at the reported rate and the row's validity verdict (BENCH_GENERATOR_SANDBOX=0 skips;
 *     BENCH_GENERATOR_SANDBOX_TYPES=vhost or =veth runs one of the two rows).
 *
 * BENCH_GENERATOR_VETH=0 runs only the vhost-user parts (the dpdk TX row into OVS, 5 and 6).
 *
 * Writes bench/results/generator.json as
 * {"results":[{"backend","ours_pps","testpmd_pps","ratio", "ours_pps_per_cpu","testpmd_pps_per_cpu","ratio_per_cpu",
 *   "rounds":[{ours_pps,testpmd_pps,ours_cpu,testpmd_cpu}…]}…],"rate_accuracy":[{"requested_pps","achieved_pps"}…],
 *  "load_avg":{"start":[1,5,15 min],"end":[…]}}.
 * Everything runs in namespaces vsg-bench-* created and removed here. The CPU is shared: figures are noisy.
 */
import { mkdirSync, writeFileSync, rmSync, readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { CleanupStack } from '../framework/runner/cleanup-stack.js';
import { Journal } from '../framework/host/journal.js';
import { Host } from '../framework/host/host.js';
import { exec } from '../framework/host/exec.js';
import { sleep } from '../framework/host/proc.js';
import { SoftwareGenerator, calibrationSpec } from '../trafficgen/software/driver.js';
import { defaultEnginePath } from '../trafficgen/software/engine-run.js';
import { sandboxPhy2phy, type SandboxFigure } from './_generator-sandbox.js';
import { TESTPMD_TXONLY_ARGS, vhostTx } from './_generator-vhost-tx.js';
import { vhostP2p, type VhostP2pTrial } from './_generator-vhost-p2p.js';

process.env.VSPERF_STATE_DIR ??= '/tmp/vsperf-software-bench';
const NS_A = 'vsg-bench-a';
const NS_B = 'vsg-bench-b';
const GEN = 'vsgb0';
const PEER = 'vsgb1';
const WARM_S = 1;
const WINDOW_S = 2;
/** Senders alternate this many times and the median is kept: the CPU is shared with other work. */
const ROUNDS = Number(process.env.BENCH_GENERATOR_ROUNDS ?? 5);
/** USER_HZ: the unit of utime/stime in /proc (100 on every Linux ABI). */
const CLK_TCK = 100;
const TX_CPU = 1;

async function peerRxPackets(): Promise<number> {
  const r = await exec(['ip', '-n', NS_B, '-s', '-j', 'link', 'show', 'dev', PEER]);
  const j = JSON.parse(r.stdout) as { stats64: { rx: { packets: number } } }[];
  return j[0]!.stats64.rx.packets;
}

/** CPU seconds used so far by all threads of process `pid` (utime + stime). */
function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    const st = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / CLK_TCK;
}

interface Measured {
  /** frames per second on the peer's RX counter */
  pps: number;
  /** CPU (cores) the sender used over the window */
  cpu: number;
}

/** Start a sender, wait WARM_S, count the peer's RX packets and the sender's CPU time over WINDOW_S, stop it. */
async function measure(host: Host, label: string, argv: string[]): Promise<Measured> {
  const child = await host.spawn(argv, { label: `stop ${label}`, graceMs: 3000, stdinPipe: true });
  try {
    // Start-up time differs a lot (testpmd's EAL init on a loaded box takes seconds): wait until the
    // peer sees traffic, then warm up.
    const first = await peerRxPackets();
    const deadline = Date.now() + 30_000;
    while ((await peerRxPackets()) - first < 1000) {
      if (!child.running) throw new Error(`${label} exited early: ${child.tail(8)}`);
      if (Date.now() > deadline) throw new Error(`${label} sent nothing within 30 s: ${child.tail(8)}`);
      await sleep(100);
    }
    await sleep(WARM_S * 1000);
    if (!child.running) throw new Error(`${label} exited early: ${child.tail(8)}`);
    const a = await peerRxPackets();
    const ca = cpuSeconds(child.pid);
    const t0 = process.hrtime.bigint();
    await sleep(WINDOW_S * 1000);
    const b = await peerRxPackets();
    const cb = cpuSeconds(child.pid);
    const t1 = process.hrtime.bigint();
    const dt = Number(t1 - t0) / 1e9;
    const pps = (b - a) / dt;
    const cpu = (cb - ca) / dt;
    console.log(`  ${label}: ${Math.round(pps)} pps, ${cpu.toFixed(2)} CPU, ${Math.round(pps / cpu)} frames/CPU-s`);
    return { pps, cpu: Math.max(cpu, 1e-3) };
  } finally {
    await child.stop(3000);
    await sleep(500); // let the kernel finish tearing down the sender's sockets
  }
}

function testpmd(vdev: string): string[] {
  // No hugepages needed (--no-huge): other components may hold them. TX lcore = TX_CPU.
  return [
    'ip',
    'netns',
    'exec',
    NS_A,
    'dpdk-testpmd',
    '-l',
    `0,${TX_CPU}`,
    '--main-lcore',
    '0',
    '-n',
    '1',
    '--no-pci',
    '--no-huge',
    '-m',
    '512',
    '--file-prefix',
    'vsgbench',
    `--vdev=${vdev}`,
    '--',
    ...TESTPMD_TXONLY_ARGS,
  ];
}

function ours(backend: string, vdev: string): string[] {
  // backend "dpdk:…": the engine's dpdk backend on the same vdev testpmd gets
  const port = backend.startsWith('dpdk') ? `${vdev}@${NS_A}#dpdk` : `${GEN}@${NS_A}#${backend}`;
  return [
    defaultEnginePath(),
    'gen',
    '--port',
    port,
    '--stream',
    'tx=0,rx=-1,rate=0,sizes=60,smac=02:00:00:00:00:01,dmac=02:00:00:00:00:02',
    '--duration',
    String(WARM_S + WINDOW_S + 30),
    '--cpus',
    String(TX_CPU),
    '--progress-ms',
    '0',
    '--no-latency',
  ];
}

async function main(): Promise<void> {
  const cleanup = new CleanupStack();
  const host = new Host(cleanup, new Journal(`bench-generator-${process.pid}`));
  const out = {
    results: [] as {
      backend: string;
      ours_pps: number;
      testpmd_pps: number;
      ratio: number;
      ours_pps_per_cpu: number;
      testpmd_pps_per_cpu: number;
      ratio_per_cpu: number;
      rounds: { ours_pps: number; testpmd_pps: number; ours_cpu: number; testpmd_cpu: number }[];
    }[],
    rate_accuracy: [] as { requested_pps: number; achieved_pps: number }[],
    dpdk_rate_accuracy: [] as {
      pct: number;
      requested_pps: number;
      achieved_pps: number;
      error_pct: number;
      rx_observed_pps: number | null;
      rx_error_pct: number | null;
      lost: number;
    }[],
    dpdk_latency_ns: null as null | { rate_pps: number; p50: number; p99: number; min: number; max: number },
    vhost_tx: null as null | {
      ours_pps: number;
      testpmd_pps: number;
      ratio: number;
      rounds: { sender: string; pps: number; pmd_busy_pct: number | null }[];
      error?: string;
    },
    vhost_p2p: null as null | { flat: VhostP2pTrial | null; accuracy: (VhostP2pTrial & { pct: number })[]; queues2: VhostP2pTrial | null },
    sandbox_phy2phy: [] as SandboxFigure[],
    sandbox_verdict: '',
    load_avg: { start: loadavg().map((x) => Number(x.toFixed(2))), end: [] as number[] },
  };
  try {
    for (const ns of [NS_A, NS_B]) {
      await host.createNetns(ns);
      await exec(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    }
    await host.createVethPair(GEN, PEER, { aNetns: NS_A, bNetns: NS_B });
    host.track({ kind: 'dir', id: host.journal.nextId('dir'), path: '/var/run/dpdk/vsgbench' }, 'rm testpmd runtime dir', () =>
      rmSync('/var/run/dpdk/vsgbench', { recursive: true, force: true }),
    );

    console.log(`TX rate, 64 B frames, one TX core (cpu ${TX_CPU}); peer RX counter over ${WINDOW_S} s after ${WARM_S} s warm-up`);
    const pairs: [string, string][] = [
      ['af_packet', `net_af_packet0,iface=${GEN}`],
      ['af_xdp', `net_af_xdp0,iface=${GEN},start_queue=0,queue_count=1`],
      ['dpdk:net_af_packet', `net_af_packet0,iface=${GEN}`],
      ['dpdk:net_af_xdp', `net_af_xdp0,iface=${GEN},start_queue=0,queue_count=1`],
    ];
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    // BENCH_GENERATOR_VETH=0: only the vhost-user rows (the veth rows take ~2 min per round)
    if (process.env.BENCH_GENERATOR_VETH !== '0') {
      for (const [backend, vdev] of pairs) {
        const os: Measured[] = [];
        const ts: Measured[] = [];
        for (let i = 0; i < ROUNDS; i++) {
          os.push(await measure(host, `vsg-engine ${backend}`, ours(backend, vdev)));
          ts.push(await measure(host, `testpmd ${vdev.split(',')[0]}`, testpmd(vdev)));
        }
        const o = median(os.map((m) => m.pps));
        const t = median(ts.map((m) => m.pps));
        const oc = median(os.map((m) => m.pps / m.cpu));
        const tc = median(ts.map((m) => m.pps / m.cpu));
        console.log(
          `  ${backend}: median ours ${Math.round(o)} pps, testpmd ${Math.round(t)} pps, ratio ${(o / t).toFixed(3)}; per CPU-second ${Math.round(oc)} vs ${Math.round(tc)}, ratio ${(oc / tc).toFixed(3)}`,
        );
        out.results.push({
          backend,
          ours_pps: Math.round(o),
          testpmd_pps: Math.round(t),
          ratio: Number((o / t).toFixed(3)),
          ours_pps_per_cpu: Math.round(oc),
          testpmd_pps_per_cpu: Math.round(tc),
          ratio_per_cpu: Number((oc / tc).toFixed(3)),
          rounds: os.map((m, i) => ({
            ours_pps: Math.round(m.pps),
            testpmd_pps: Math.round(ts[i]!.pps),
            ours_cpu: Number(m.cpu.toFixed(3)),
            testpmd_cpu: Number(ts[i]!.cpu.toFixed(3)),
          })),
        });
      }

      // RX counting and rate accuracy through the driver (two ports: TX on A, counted on B).
      const g = new SoftwareGenerator(host, { calibrateS: 2, calibrateBidir: false, cpus: [TX_CPU, 0] });
      await g.connect([
        { name: GEN, netns: NS_A, speedMbps: 10_000 },
        { name: PEER, netns: NS_B, speedMbps: 10_000 },
      ]);
      const max = g.capabilities().maxRateFps!;
      const flat = await g.runTrial({ ...calibrationSpec(64), rate: { unit: 'pct', value: 100 }, durationS: 3, drainS: 2 });
      console.log(
        `RX counting at the rate TX reaches (${flat.info?.backend}): tx ${flat.txFrames} at ${Math.round(flat.achievedTxFps)} fps, rx ${flat.rxFrames}, lost ${flat.lostFrames}, rx ring drops ${flat.info?.rxRingDrops}`,
      );
      for (const pct of [10, 50, 90]) {
        const req = Math.round((max * pct) / 100);
        const r = await g.runTrial({ ...calibrationSpec(64), rate: { unit: 'fps', value: req }, durationS: 3, drainS: 1 });
        console.log(
          `  ${pct} % of max ${Math.round(max)}: requested ${req} achieved ${Math.round(r.achievedTxFps)} (${((r.achievedTxFps / req - 1) * 100).toFixed(3)} %), lost ${r.lostFrames}`,
        );
        out.rate_accuracy.push({ requested_pps: req, achieved_pps: Math.round(r.achievedTxFps) });
      }
      await g.close();

      // dpdk backend on both ports (net_af_packet on the veths): rate accuracy and latency.
      const d = new SoftwareGenerator(host, { calibrateS: 2, calibrateBidir: false, backend: 'dpdk', cpus: [TX_CPU, 0] });
      await d.connect([
        { name: GEN, netns: NS_A, speedMbps: 10_000 },
        { name: PEER, netns: NS_B, speedMbps: 10_000 },
      ]);
      const dmax = d.capabilities().maxRateFps!;
      for (const pct of [10, 50, 90]) {
        const req = Math.round((dmax * pct) / 100);
        const r = await d.runTrial({ ...calibrationSpec(64), rate: { unit: 'fps', value: req }, durationS: 3, drainS: 1 });
        const err = (r.achievedTxFps / req - 1) * 100;
        // The receiver's view (its own clock): frames received over the time from the first to the last.
        const rcv = r.directions[0]?.receiver;
        const span = rcv?.firstRxMs !== undefined && rcv.lastRxMs !== undefined ? (rcv.lastRxMs - rcv.firstRxMs) / 1000 : 0;
        const rxPps = span > 0 ? (r.directions[0]!.rxFrames - 1) / span : null;
        const rxErr = rxPps === null ? null : (rxPps / req - 1) * 100;
        console.log(
          `  dpdk ${pct} % of max ${Math.round(dmax)}: requested ${req} achieved ${Math.round(r.achievedTxFps)} (${err.toFixed(3)} %), receiver saw ${rxPps?.toFixed(0)} (${rxErr?.toFixed(3)} %), lost ${r.lostFrames}`,
        );
        out.dpdk_rate_accuracy.push({
          pct,
          requested_pps: req,
          achieved_pps: Math.round(r.achievedTxFps),
          error_pct: Number(err.toFixed(4)),
          rx_observed_pps: rxPps === null ? null : Math.round(rxPps),
          rx_error_pct: rxErr === null ? null : Number(rxErr.toFixed(4)),
          lost: r.lostFrames,
        });
        const lat = r.directions[0]?.latency;
        if (!out.dpdk_latency_ns && r.lostFrames === 0 && lat?.percentilesNs) {
          out.dpdk_latency_ns = { rate_pps: req, p50: lat.percentilesNs.p50!, p99: lat.percentilesNs.p99!, min: lat.minNs, max: lat.maxNs };
          console.log(`  dpdk latency at ${req} fps (lost ${r.lostFrames}): p50 ${lat.percentilesNs.p50} ns, p99 ${lat.percentilesNs.p99} ns`);
        }
      }
      await d.close();
    }

    // The dpdk backend on net_virtio_user into OVS-DPDK (the vhost sandbox's path) vs testpmd, counted by OVS.
    if (process.env.BENCH_GENERATOR_VHOST !== '0') {
      console.log(`TX into OVS-DPDK over vhost-user (flow: drop), 64 B, sender on cpu 0, OVS PMD on cpu ${TX_CPU}; OVS rx_packets over ${WINDOW_S} s`);
      try {
        const rounds = await vhostTx(host, 0, TX_CPU, ROUNDS, WARM_S, WINDOW_S);
        const o = median(rounds.filter((r) => r.sender === 'vsg-engine').map((r) => r.pps));
        const t = median(rounds.filter((r) => r.sender === 'testpmd').map((r) => r.pps));
        out.vhost_tx = { ours_pps: o, testpmd_pps: t, ratio: Number((o / t).toFixed(3)), rounds };
        console.log(`  net_virtio_user: median ours ${o} pps, testpmd ${t} pps, ratio ${(o / t).toFixed(3)}`);
      } catch (e) {
        out.vhost_tx = { ours_pps: 0, testpmd_pps: 0, ratio: 0, rounds: [], error: (e as Error).message };
        console.error(`vhost TX comparison failed: ${(e as Error).message}`);
      }
    }

    if (process.env.BENCH_GENERATOR_P2P !== '0') {
      console.log(`vhost phy2phy by hand: private OVS-DPDK (PMD cpu ${TX_CPU}), engine loop cpu 0, 64 B both ways, OVS counters as observer`);
      // flat out, then 10/50/90 % of what OVS received flat out (the slower direction), then two queues per port
      const pcts = [10, 50, 90];
      const rs = await vhostP2p(host, TX_CPU, [0], (done) => {
        const max = done[0]?.ovs_rx_fps.length ? Math.min(...done[0].ovs_rx_fps) : 0;
        if (done.length === 0) return { rateFps: 0, durationS: 8, queues: 1 };
        if (done.length <= pcts.length && max > 0) return { rateFps: Math.round((max * pcts[done.length - 1]!) / 100), durationS: 10, queues: 1 };
        return done.some((r) => r.queues === 2) ? undefined : { rateFps: 0, durationS: 8, queues: 2 };
      });
      out.vhost_p2p = {
        flat: rs[0] ?? null,
        accuracy: rs.filter((r) => r.queues === 1 && r.rate_fps > 0).map((r, i) => ({ ...r, pct: pcts[i]! })),
        queues2: rs.find((r) => r.queues === 2) ?? null,
      };
    }
  } finally {
    const errors = await cleanup.unwind();
    host.journal.close();
    for (const e of errors) console.error(`cleanup: ${e.message}`);
  }
  if (process.env.BENCH_GENERATOR_SANDBOX !== '0') {
    // BENCH_GENERATOR_SANDBOX_TYPES=vhost: one row only (the goal's ratio needs both, measured in one window)
    const types = (process.env.BENCH_GENERATOR_SANDBOX_TYPES ?? 'vhost,veth').split(',').filter((t): t is 'vhost' | 'veth' => t === 'vhost' || t === 'veth');
    for (const pt of types) {
      const f = await sandboxPhy2phy(pt, Number(process.env.BENCH_GENERATOR_SANDBOX_S ?? 10));
      console.log(
        `sandbox phy2phy_tput (${pt}): ${f.throughput_rx_fps} fps, PMD busy ${f.pmd_busy_pct} %, validity ${f.validity} (${f.validity_reasons}), ${f.trials} trials in ${f.wall_s} s${f.error ? `, error ${f.error}` : ''}`,
      );
      out.sandbox_phy2phy.push(f);
    }
    const vh = out.sandbox_phy2phy.find((f) => f.port_type === 'vhost');
    const ve = out.sandbox_phy2phy.find((f) => f.port_type === 'veth');
    const ratio = vh?.throughput_rx_fps && ve?.throughput_rx_fps ? vh.throughput_rx_fps / ve.throughput_rx_fps : NaN;
    out.sandbox_verdict = `vhost ${vh?.throughput_rx_fps} fps vs veth ${ve?.throughput_rx_fps} fps (×${ratio.toFixed(1)}; goal ≥ 1 Mfps and ≥ ×10); limited by: ${
      (vh?.pmd_busy_pct ?? 0) >= 90
        ? `the switch (PMD ${vh?.pmd_busy_pct} % busy)`
        : `not the switch (PMD ${vh?.pmd_busy_pct} % busy): the generator or CPU contention (${vh?.validity_reasons})`
    }${
      vh?.first_loss
        ? `; the slowest trial that lost frames: ${vh.first_loss.rate_fps} fps offered, ${vh.first_loss.lost} lost, ${vh.first_loss.tx_full_drops} of them at the generator's full vhost-user TX ring (the switch's loss), PMD ${vh.first_loss.pmd_busy_pct} % busy`
        : ''
    }; the vhost row's counts against OVS's own port counters: ${vh ? `${vh.counter_check.consistent} of ${vh.counter_check.trials_checked} trials agree` : 'none'}`;
    console.log(out.sandbox_verdict);
  }
  out.load_avg.end = loadavg().map((x) => Number(x.toFixed(2)));
  const dir = join(process.cwd(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'generator.json'), JSON.stringify(out, null, 2) + '\n');
  console.log(JSON.stringify(out));
}

await main();
