/**
 * Paired A/B on the vhost sandbox's data path (the private OVS-DPDK of _generator-vhost-p2p.ts, OVS's
 * counters as observer): variants of the engine's arguments, OVS's tx-flush-interval and the vhost ring
 * size, alternated trial by trial at each rate so that the box's drift hits every variant alike.
 *
 *   npm run build && node dist/bench/_generator-vhost-ab.js
 *
 * AB_VARIANTS: JSON list of {"label","engineArgs":[…],"txFlushUs":N,"queueSize":N} (default: --tx-burst 1
 * against the engine's defaults); AB_RATES: offered fps per direction, comma-separated (0 = flat out;
 * default 790000,1000000); AB_ROUNDS (default 2); AB_S: seconds per trial (default 8). PMD on CPU 1, the
 * engine's loop on CPU 0, the switch's other threads off the PMD's CPU (as in the vhost sandbox).
 * Writes bench/results/generator-vhost-ab.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { CleanupStack } from '../framework/runner/cleanup-stack.js';
import { Journal } from '../framework/host/journal.js';
import { Host } from '../framework/host/host.js';
import { vhostP2p, type VhostP2pSpec, type VhostP2pTrial } from './_generator-vhost-p2p.js';

interface Variant {
  readonly label: string;
  readonly engineArgs?: readonly string[];
  readonly txFlushUs?: number;
  readonly queueSize?: number;
}

process.env.VSPERF_STATE_DIR ??= '/tmp/vsperf-software-bench';
const variants: Variant[] = process.env.AB_VARIANTS
  ? (JSON.parse(process.env.AB_VARIANTS) as Variant[])
  : [
      { label: 'each frame when due', engineArgs: ['--tx-burst', '1'] },
      { label: 'bursts (engine defaults)', engineArgs: [] },
    ];
const rates = (process.env.AB_RATES ?? '790000,1000000').split(',').map(Number);
const rounds = Number(process.env.AB_ROUNDS ?? 2);
const durationS = Number(process.env.AB_S ?? 8);

const plan: (VhostP2pSpec & { label: string })[] = [];
for (const rateFps of rates)
  for (let r = 0; r < rounds; r++)
    for (const v of r % 2 ? [...variants].reverse() : variants)
      plan.push({
        label: v.label,
        rateFps,
        durationS,
        queues: 1,
        ...(v.engineArgs ? { engineArgs: v.engineArgs } : {}),
        ...(v.txFlushUs !== undefined ? { txFlushUs: v.txFlushUs } : {}),
        ...(v.queueSize !== undefined ? { queueSize: v.queueSize } : {}),
      });

const cleanup = new CleanupStack();
const host = new Host(cleanup, new Journal(`bench-generator-ab-${process.pid}`));
const load0 = loadavg().map((x) => Number(x.toFixed(2)));
const started = new Date().toISOString();
let trials: VhostP2pTrial[] = [];
try {
  trials = await vhostP2p(host, 1, [0], (done) => plan[done.length], { keepOffPmdCpus: true });
} finally {
  for (const e of await cleanup.unwind()) console.error(`cleanup: ${e.message}`);
  host.journal.close();
}
const rows = trials.map((t, i) => ({ label: plan[i]!.label, ...t }));
console.log('label | offered | sent/dir | OVS rx/dir | lost | PMD busy % | PMD cycles/pkt | loop busy % | loop cycles/frame');
for (const r of rows)
  console.log(
    `${r.label} | ${r.rate_fps} | ${r.engine_achieved_fps.join('/')} | ${r.ovs_rx_fps.join('/')} | ${r.engine_lost.join('/')} | ${r.pmd_busy_pct} | ${r.pmd_cycles_per_packet} | ${r.loops.map((l) => l.busy_pct).join('/')} | ${r.loops.map((l) => l.cycles_per_frame).join('/')}${r.error ? ` | ERROR ${r.error}` : ''}`,
  );
const dir = join(process.cwd(), 'bench', 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(
  join(dir, 'generator-vhost-ab.json'),
  JSON.stringify(
    { started, ended: new Date().toISOString(), load_avg: { start: load0, end: loadavg().map((x) => Number(x.toFixed(2))) }, variants, rows },
    null,
    2,
  ) + '\n',
);
