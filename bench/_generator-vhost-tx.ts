/**
 * Part of `npm run bench -- generator`: sending into OVS-DPDK through vhost-user, the engine's dpdk
 * backend vs dpdk-testpmd txonly, both on a net_virtio_user server device on the same CPU, counted the
 * same way: the OVS port's rx_packets over a window after a warm-up. The port's only flow drops, so OVS
 * only receives (the cheapest thing it can do with a frame): the count is the sender's rate unless the
 * PMD is slower, which its busy share (pmd-stats, same window) shows.
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { Settings } from '../framework/config/settings.js';
import type { Host } from '../framework/host/host.js';
import { sleep } from '../framework/host/proc.js';
import { silentLogger } from '../framework/log/logger.js';
import { parsePmdStats } from '../deployments/ovs/parse.js';
import { OvsSwitch } from '../deployments/vswitch/ovs.js';
import { defaultEnginePath } from '../trafficgen/software/engine-run.js';

export interface VhostTxFigure {
  readonly sender: 'vsg-engine' | 'testpmd';
  readonly pps: number;
  readonly pmd_busy_pct: number | null;
}

const RUN_DIR = '/tmp/vsgb-ovs';
const BRIDGE = 'br0';

function engineArgv(devargs: string, cpu: number, seconds: number): string[] {
  return [
    defaultEnginePath(),
    'gen',
    '--port',
    `${devargs}#dpdk`,
    '--stream',
    'tx=0,rx=-1,rate=0,sizes=60,smac=02:00:00:00:00:01,dmac=02:00:00:00:00:02',
    '--duration',
    String(seconds),
    '--cpus',
    String(cpu),
    '--progress-ms',
    '0',
    '--no-latency',
    '--tx-drop-full',
    '--dpdk-prefix',
    'vsgb-vhost',
  ];
}

/** testpmd as the reference sender: 60 B frames (64 B on the wire with the FCS), one forwarding core, a rate line per second. */
/** A bench's private OVS-DPDK gone with its run dir and the EAL runtime dirs of its file prefixes (OVS's and the sender's). */
export async function stopBenchOvs(ovs: OvsSwitch, runDir: string, ealPrefixes: readonly string[]): Promise<void> {
  await ovs.stop().catch((e: unknown) => console.error(`cleanup: ${(e as Error).message}`));
  rmSync(runDir, { recursive: true, force: true });
  for (const prefix of ealPrefixes) rmSync(`/var/run/dpdk/${prefix}`, { recursive: true, force: true });
}

export const TESTPMD_TXONLY_ARGS = ['--forward-mode=txonly', '--txpkts=60', '--nb-cores=1', '--stats-period=1', '--total-num-mbufs=16384'] as const;

function testpmdArgv(devargs: string, cpu: number, other: number): string[] {
  return [
    'dpdk-testpmd',
    '-l',
    // EAL wants the list ascending here: "1,0" left testpmd with no forwarding core
    `${Math.min(other, cpu)},${Math.max(other, cpu)}`,
    '--main-lcore',
    String(other),
    '-n',
    '1',
    '--no-pci',
    '--in-memory',
    '--single-file-segments',
    '--file-prefix',
    'vsgb-vhost-tp',
    `--vdev=${devargs}`,
    '--',
    ...TESTPMD_TXONLY_ARGS,
    '--txd=4096',
    '--rxd=4096',
  ];
}

/**
 * Start a private OVS-DPDK (PMD on pmdCpu) with one vhost-user client port whose frames are dropped, and
 * measure each sender on txCpu `rounds` times, alternating. Returns every measurement.
 */
export async function vhostTx(host: Host, txCpu: number, pmdCpu: number, rounds: number, warmS: number, windowS: number): Promise<VhostTxFigure[]> {
  rmSync(RUN_DIR, { recursive: true, force: true });
  const settings = new Settings({ VSWITCH_PMD_CPU_MASK: (1 << pmdCpu).toString(16), DPDK_SOCKET_MEM: ['256'] } as never);
  const ovs = new OvsSwitch({ name: 'OvsDpdkVhost', dpdk: true, settings, host, log: silentLogger, runDir: RUN_DIR, filePrefix: 'vsgb-ovs' });
  const socketPath = join(RUN_DIR, 'g0.sock');
  const devargs = `net_virtio_user0,path=${socketPath},server=1,queue_size=4096`;
  const out: VhostTxFigure[] = [];
  try {
    await ovs.start();
    await ovs.addBridge(BRIDGE);
    await ovs.addPhyPort(BRIDGE, 'g0', { kind: 'vhost', socketPath }, 1);
    await ovs.addFlow(BRIDGE, { type: 'raw', flow: 'in_port=1,actions=drop' });
    const rxPackets = async (): Promise<number> => (await ovs.portStats(BRIDGE)).find((p) => p.ofport === 1)?.rxPackets ?? 0;
    const pmdBusy = async (): Promise<number | null> => {
      const text = (await ovs.appctl('ovs-vswitchd', ['dpif-netdev/pmd-stats-show'])).stdout;
      const pmd = parsePmdStats(text).find((p) => p.thread.startsWith('pmd'));
      return pmd?.processingPct !== undefined ? Number(pmd.processingPct.toFixed(1)) : null;
    };
    // testpmd's main lcore only prints the stats once a second; its one forwarding lcore is txCpu. With two
    // CPUs the main lcore has to be the other one, the PMD's (it was `pmdCpu === 0 ? 1 : 0`, i.e. txCpu
    // itself when the PMD is on CPU 1: "-l 0,0", and testpmd had no forwarding core).
    const mainCpu = txCpu === 0 ? 1 : 0;
    for (let i = 0; i < rounds; i++) {
      for (const sender of ['vsg-engine', 'testpmd'] as const) {
        const argv = sender === 'vsg-engine' ? engineArgv(devargs, txCpu, warmS + windowS + 30) : testpmdArgv(devargs, txCpu, mainCpu);
        const child = await host.spawn(argv, { label: `stop ${sender}`, graceMs: 3000, stdinPipe: true });
        try {
          // OVS connects to the socket within ~1 s, then frames flow: wait for them, then warm up.
          const deadline = Date.now() + 30_000;
          while ((await rxPackets()) < 1000) {
            if (!child.running) throw new Error(`${sender} exited early: ${child.tail(8)}`);
            if (Date.now() > deadline) throw new Error(`${sender}: OVS received nothing within 30 s: ${child.tail(8)}`);
            await sleep(100);
          }
          await sleep(warmS * 1000);
          await ovs.appctl('ovs-vswitchd', ['dpif-netdev/pmd-stats-clear']);
          const a = await rxPackets();
          const t0 = process.hrtime.bigint();
          await sleep(windowS * 1000);
          const b = await rxPackets();
          const dt = Number(process.hrtime.bigint() - t0) / 1e9;
          const f = { sender, pps: Math.round((b - a) / dt), pmd_busy_pct: await pmdBusy() };
          console.log(`  vhost-user into OVS, ${sender}: ${f.pps} pps, OVS PMD ${f.pmd_busy_pct} % busy`);
          out.push(f);
        } finally {
          await child.stop(3000);
          await sleep(500);
        }
      }
    }
  } finally {
    await stopBenchOvs(ovs, RUN_DIR, ['vsgb-vhost-tp', 'vsgb-ovs']);
  }
  return out;
}
