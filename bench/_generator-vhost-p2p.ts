/**
 * Part of `npm run bench -- generator`: the vhost sandbox's data path by hand, with OVS as the independent
 * observer. A private OVS-DPDK (PMD on one CPU) with two dpdkvhostuserclient ports and in_port flows both
 * ways; the engine (dpdk backend, net_virtio_user servers) sends 64 B frames on both and counts them back.
 * Per trial, next to the engine's own figures:
 *  - OVS rx_packets of each port over a window in the middle of the trial, read with host timestamps
 *    around each read: the sending rate as the switch saw it, with its bounds (the reads take
 *    milliseconds, so the window's length is known to within their duration);
 *  - OVS rx/tx_packets at the end (during the engine's drain, before it disconnects: OVS drops a vhost
 *    port's counters then), to hold against the engine's counts;
 *  - the PMD's processing share and cycles per packet over the window (pmd-stats), and which PMD polled
 *    which queue (pmd-rxq-show);
 *  - the engine loop's busy share and busy TSC cycles per frame moved (its own counters).
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { Settings } from '../framework/config/settings.js';
import type { Host } from '../framework/host/host.js';
import { sleep } from '../framework/host/proc.js';
import { silentLogger } from '../framework/log/logger.js';
import { parsePmdRxq, parsePmdStats, type PmdRxq } from '../deployments/ovs/parse.js';
import { OvsSwitch } from '../deployments/vswitch/ovs.js';
import { defaultEnginePath } from '../trafficgen/software/engine-run.js';
import { stopBenchOvs } from './_generator-vhost-tx.js';
import { SANDBOX_VHOST_RING } from '../deployments/testbed/sandbox.js';

export interface VhostP2pTrial {
  /** Offered per direction (fps; 0 = flat out). */
  readonly rate_fps: number;
  readonly queues: number;
  /** Descriptors per virtio ring (net_virtio_user queue_size). */
  readonly queue_size: number;
  /** Extra engine arguments of this trial (e.g. --tx-burst 1) and OVS other_config:tx-flush-interval (µs) during it. */
  readonly engine_args: readonly string[];
  readonly tx_flush_us: number;
  readonly duration_s: number;
  /** Per direction (0: port 0 → 1, 1: port 1 → 0). */
  readonly engine_tx: number[];
  readonly engine_rx: number[];
  readonly engine_achieved_fps: number[];
  readonly engine_lost: number[];
  readonly engine_tx_full_drops: number[];
  /** OVS rx_packets per second on the sending port over the window (mid estimate, and [low, high]). */
  readonly ovs_rx_fps: number[];
  readonly ovs_rx_fps_bounds: [number, number][];
  readonly ovs_window_s: number;
  /** OVS counters at the end of the trial, per port: rx = what the engine's port sent it, tx = what it forwarded to the engine. */
  readonly ovs_end: { rx: number; tx: number; tx_dropped: number }[];
  readonly pmd_busy_pct: number | null;
  readonly pmd_cycles_per_packet: number | null;
  readonly pmd_rxq: PmdRxq[];
  readonly loops: { cpu: number; busy_pct: number; cycles_per_frame: number; offcpu_pct: number; preempted: number }[];
  readonly latency_ns?: { avg: number; max: number }[];
  readonly error?: string;
}

const RUN_DIR = '/tmp/vsgb-p2p';
const BRIDGE = 'br0';

interface EngineStream {
  tx_frames: number;
  rx_frames: number;
  duplicated: number;
  achieved_fps: number;
  tx_full_drops: number;
  lat_avg_ns: number;
  lat_max_ns: number;
}

export interface VhostP2pSpec {
  readonly rateFps: number;
  readonly durationS: number;
  readonly queues: number;
  /** net_virtio_user queue_size (default: the sandbox's, SANDBOX_VHOST_RING). */
  readonly queueSize?: number;
  /** Engine binary (default: the built one): two builds alternated on one OVS compare like with like. */
  readonly enginePath?: string;
  /** Extra engine arguments (e.g. ['--tx-burst', '1']). */
  readonly engineArgs?: readonly string[];
  /** OVS other_config:tx-flush-interval for this trial (µs; OVS's default 0 = flush after every batch). */
  readonly txFlushUs?: number;
}

export interface VhostP2pOptions {
  /** Start OVS with its non-PMD threads off the PMD CPU (OvsSwitch.keepOffPmdCpus, as the vhost sandbox does). */
  readonly keepOffPmdCpus?: boolean;
  /** Called once frames flow in each trial, with the switch's pid (an observer that starts then). */
  readonly onFlowing?: (vswitchdPid: number, spec: VhostP2pSpec) => Promise<void> | void;
}

/**
 * One private OVS for a series of trials (each its own engine run): engine loops on `engineCpus`, PMD on
 * `pmdCpu`. `next` gets the trials so far and returns the next one's spec, or undefined to stop.
 */
export async function vhostP2p(
  host: Host,
  pmdCpu: number,
  engineCpus: readonly number[],
  next: (done: readonly VhostP2pTrial[]) => VhostP2pSpec | undefined,
  opts: VhostP2pOptions = {},
): Promise<VhostP2pTrial[]> {
  rmSync(RUN_DIR, { recursive: true, force: true });
  const settings = new Settings({ VSWITCH_PMD_CPU_MASK: (1 << pmdCpu).toString(16), DPDK_SOCKET_MEM: ['256'] } as never);
  const ovs = new OvsSwitch({ name: 'OvsDpdkVhost', dpdk: true, settings, host, log: silentLogger, runDir: RUN_DIR, filePrefix: 'vsgb-p2p-ovs' });
  const sock = (i: number): string => join(RUN_DIR, `g${i}.sock`);
  const out: VhostP2pTrial[] = [];
  const stats = async (): Promise<Map<number, { rx: number; tx: number; tx_dropped: number }>> =>
    new Map((await ovs.portStats(BRIDGE)).map((p) => [p.ofport, { rx: p.rxPackets, tx: p.txPackets, tx_dropped: p.txDropped }]));
  if (opts.keepOffPmdCpus) ovs.keepOffPmdCpus();
  try {
    await ovs.start();
    await ovs.addBridge(BRIDGE);
    for (const i of [0, 1]) await ovs.addPhyPort(BRIDGE, `g${i}`, { kind: 'vhost', socketPath: sock(i) }, i + 1);
    await ovs.addFlows(BRIDGE, [
      { type: 'raw', flow: 'in_port=1,actions=output:2' },
      { type: 'raw', flow: 'in_port=2,actions=output:1' },
    ]);
    for (let t = next(out); t; t = next(out)) {
      const qs = t.queueSize ?? SANDBOX_VHOST_RING;
      await ovs.vsctl(['set', 'Open_vSwitch', '.', `other_config:tx-flush-interval=${t.txFlushUs ?? 0}`]);
      const dev = (i: number): string => `net_virtio_user${i},path=${sock(i)},server=1,queue_size=${qs}${t.queues > 1 ? `,queues=${t.queues}` : ''}#dpdk`;
      const stream = (tx: number): string =>
        `tx=${tx},rx=${1 - tx},rate=${t.rateFps},sizes=60,smac=02:00:00:00:00:0${tx + 1},dmac=02:00:00:00:00:0${2 - tx},flows=64,vary=l3`;
      const argv = [
        t.enginePath ?? defaultEnginePath(),
        'gen',
        ...['--port', dev(0), '--port', dev(1), '--stream', stream(0), '--stream', stream(1)],
        ...['--duration', String(t.durationS), '--drain', '3', '--cpus', engineCpus.join(','), '--progress-ms', '0'],
        ...['--tx-drop-full', '--dpdk-prefix', 'vsgb-p2p-gen', '--queues', String(t.queues)],
        ...(t.engineArgs ?? []),
      ];
      const child = await host.spawn(argv, { label: 'stop vsg-engine', graceMs: 3000, stdinPipe: true });
      let stdout = '';
      child.proc.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
      try {
        // frames flow once OVS has connected both sockets (≤ ~1 s each) and the engine's t0 passed
        const deadline = Date.now() + 30_000;
        while (((await stats()).get(1)?.rx ?? 0) < 1000) {
          if (!child.running) throw new Error(`engine exited early: ${child.tail(8)}`);
          if (Date.now() > deadline) throw new Error(`OVS received nothing within 30 s: ${child.tail(8)}`);
          await sleep(50);
        }
        const started = performance.now();
        if (opts.onFlowing) {
          const pid = ovs.pids().vswitchd;
          if (pid === undefined) throw new Error('OVS is forwarding but reports no ovs-vswitchd pid');
          await opts.onFlowing(pid, t);
        }
        await ovs.appctl('ovs-vswitchd', ['dpif-netdev/pmd-stats-clear']);
        const a0 = performance.now();
        const s0 = await stats();
        const a1 = performance.now();
        const windowS = Math.max(1, t.durationS - 2.5);
        await sleep(windowS * 1000);
        const b0 = performance.now();
        const s1 = await stats();
        const b1 = performance.now();
        const pmd = parsePmdStats((await ovs.appctl('ovs-vswitchd', ['dpif-netdev/pmd-stats-show'])).stdout).find((p) => p.thread.startsWith('pmd'));
        const rxq = parsePmdRxq((await ovs.appctl('ovs-vswitchd', ['dpif-netdev/pmd-rxq-show'])).stdout);
        // the end counters: TX is over ~durationS after the first frames, the engine drains 3 s
        await sleep(Math.max(0, started + t.durationS * 1000 + 1200 - performance.now()));
        const se = await stats();
        const exit = await child.waitExit();
        await child.closed();
        const line = stdout.split('\n').find((l) => l.includes('"event":"result"'));
        if (!line) throw new Error(`engine exited ${exit.code ?? exit.signal} without a result: ${child.tail(8)}`);
        const r = JSON.parse(line) as { streams: EngineStream[]; loops?: VhostP2pTrial['loops'] };
        const wMin = (b0 - a1) / 1000;
        const wMax = (b1 - a0) / 1000;
        const delta = (p: number): number => (s1.get(p)?.rx ?? 0) - (s0.get(p)?.rx ?? 0);
        const f: VhostP2pTrial = {
          rate_fps: t.rateFps,
          queues: t.queues,
          queue_size: qs,
          engine_args: t.engineArgs ?? [],
          tx_flush_us: t.txFlushUs ?? 0,
          duration_s: t.durationS,
          engine_tx: r.streams.map((s) => s.tx_frames),
          engine_rx: r.streams.map((s) => s.rx_frames),
          engine_achieved_fps: r.streams.map((s) => Math.round(s.achieved_fps)),
          engine_lost: r.streams.map((s) => s.tx_frames - (s.rx_frames - s.duplicated)),
          engine_tx_full_drops: r.streams.map((s) => s.tx_full_drops),
          ovs_rx_fps: [1, 2].map((p) => Math.round(delta(p) / ((wMin + wMax) / 2))),
          ovs_rx_fps_bounds: [1, 2].map((p) => [Math.round(delta(p) / wMax), Math.round(delta(p) / wMin)] as [number, number]),
          ovs_window_s: Number(((wMin + wMax) / 2).toFixed(4)),
          ovs_end: [1, 2].map((p) => se.get(p) ?? { rx: 0, tx: 0, tx_dropped: 0 }),
          pmd_busy_pct: pmd?.processingPct ?? null,
          pmd_cycles_per_packet: pmd?.avgProcessingCyclesPerPacket ?? null,
          pmd_rxq: rxq,
          loops: (r.loops ?? []).map((l) => ({
            cpu: l.cpu,
            busy_pct: l.busy_pct,
            cycles_per_frame: l.cycles_per_frame,
            offcpu_pct: l.offcpu_pct,
            preempted: l.preempted,
          })),
          latency_ns: r.streams.map((s) => ({ avg: Math.round(s.lat_avg_ns), max: s.lat_max_ns })),
        };
        console.log(
          `  vhost p2p ${t.rateFps ? `${t.rateFps} fps` : 'flat out'} q=${t.queues} ring ${qs}${t.engineArgs?.length ? ` ${t.engineArgs.join(' ')}` : ''}${t.txFlushUs ? ` tx-flush ${t.txFlushUs} us` : ''}: engine tx ${f.engine_achieved_fps.join('/')} fps, lost ${f.engine_lost.join('/')} (full ${f.engine_tx_full_drops.join('/')}); OVS rx ${f.ovs_rx_fps.join('/')} fps over ${f.ovs_window_s} s; PMD ${f.pmd_busy_pct} % at ${f.pmd_cycles_per_packet} cycles/pkt; loop ${f.loops.map((l) => `${l.busy_pct} % busy, ${l.offcpu_pct} % off CPU, ${l.cycles_per_frame} cycles/frame`).join(', ')}`,
        );
        out.push(f);
      } catch (e) {
        out.push({ ...emptyTrial(t), error: (e as Error).message });
        console.error(`  vhost p2p ${t.rateFps} fps q=${t.queues} failed: ${(e as Error).message}`);
      } finally {
        await child.stop(3000);
        await sleep(500);
      }
    }
  } finally {
    await stopBenchOvs(ovs, RUN_DIR, ['vsgb-p2p-gen', 'vsgb-p2p-ovs']);
  }
  return out;
}

function emptyTrial(t: VhostP2pSpec): VhostP2pTrial {
  return {
    rate_fps: t.rateFps,
    queues: t.queues,
    queue_size: t.queueSize ?? SANDBOX_VHOST_RING,
    engine_args: t.engineArgs ?? [],
    tx_flush_us: t.txFlushUs ?? 0,
    duration_s: t.durationS,
    engine_tx: [],
    engine_rx: [],
    engine_achieved_fps: [],
    engine_lost: [],
    engine_tx_full_drops: [],
    ovs_rx_fps: [],
    ovs_rx_fps_bounds: [],
    ovs_window_s: 0,
    ovs_end: [],
    pmd_busy_pct: null,
    pmd_cycles_per_packet: null,
    pmd_rxq: [],
    loops: [],
  };
}
