/**
 * Paired A/B of the dpdk backend's rate accuracy and latency on a veth pair (both ports net_af_packet, as
 * part 4 of `npm run bench -- generator`): TX burst settings alternated per rate, 3 s trials.
 *
 *   npm run build && node dist/bench/_generator-accuracy-ab.js
 *
 * AB_BURSTS: comma-separated --tx-burst values (default 1,32); AB_RATES: fps (default 54455,272277,490099,
 * the 10/50/90 % of the last bench's calibrated 545 kfps); AB_ROUNDS (default 3). TX loop on CPU 1, RX on 0.
 * Prints one line per trial: requested, achieved (sender), receiver's rate, lost, latency p50/p99.
 */
import { loadavg } from 'node:os';
import { CleanupStack } from '../framework/runner/cleanup-stack.js';
import { Journal } from '../framework/host/journal.js';
import { Host } from '../framework/host/host.js';
import { exec } from '../framework/host/exec.js';
import { SoftwareGenerator, calibrationSpec } from '../trafficgen/software/driver.js';

process.env.VSPERF_STATE_DIR ??= '/tmp/vsperf-software-bench';
const NS_A = 'vsg-bab-a';
const NS_B = 'vsg-bab-b';
const bursts = (process.env.AB_BURSTS ?? '1,32').split(',').map(Number);
const rates = (process.env.AB_RATES ?? '54455,272277,490099').split(',').map(Number);
const rounds = Number(process.env.AB_ROUNDS ?? 3);

const cleanup = new CleanupStack();
const host = new Host(cleanup, new Journal(`bench-generator-accuracy-ab-${process.pid}`));
console.log(
  `load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}, ${new Date().toISOString()}`,
);
try {
  for (const ns of [NS_A, NS_B]) {
    await host.createNetns(ns);
    await exec(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  }
  await host.createVethPair('vsgab0', 'vsgab1', { aNetns: NS_A, bNetns: NS_B });
  for (const rate of rates)
    for (let r = 0; r < rounds; r++)
      for (const txBurst of r % 2 ? [...bursts].reverse() : bursts) {
        const g = new SoftwareGenerator(host, { calibrateS: 0, backend: 'dpdk', cpus: [1, 0], txBurst });
        try {
          await g.connect([
            { name: 'vsgab0', netns: NS_A, speedMbps: 10_000 },
            { name: 'vsgab1', netns: NS_B, speedMbps: 10_000 },
          ]);
          const t = await g.runTrial({ ...calibrationSpec(64), rate: { unit: 'fps', value: rate }, durationS: 3, drainS: 1 });
          const d = t.directions[0]!;
          const rcv = d.receiver;
          const span = rcv?.firstRxMs !== undefined && rcv.lastRxMs !== undefined ? (rcv.lastRxMs - rcv.firstRxMs) / 1000 : 0;
          const rx = span > 0 ? (d.rxFrames - 1) / span : NaN;
          const p = d.latency?.percentilesNs;
          console.log(
            `burst ${txBurst} | ${rate} | sender ${((t.achievedTxFps / rate - 1) * 100).toFixed(3)} % | receiver ${((rx / rate - 1) * 100).toFixed(3)} % | lost ${t.lostFrames} | p50 ${p?.p50} ns p99 ${p?.p99} ns | loop busy ${t.info?.generatorBusyPct} % off CPU ${t.info?.generatorOffCpuPct} %`,
          );
        } finally {
          await g.close();
        }
      }
} finally {
  for (const e of await cleanup.unwind()) console.error(`cleanup: ${e.message}`);
  host.journal.close();
  console.log(
    `load ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}, ${new Date().toISOString()}`,
  );
}
