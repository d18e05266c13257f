/**
 * bench/fidelity (issue 13): do the figures match the wire, does the search ever report a false zero,
 * and do the verdicts follow the measured conditions? Writes bench/results/fidelity.json:
 *   {"migration":[{"rx_gap_ms","capture_gap_ms","lost","capture_lost"}…],
 *    "search_false_zero_runs": N, "search_runs": 5, "search_throughput_fps": […],
 *    "verdicts":{"quiet":[codes…],"loaded":[codes…]}, "conditions": {load averages, what ran}}
 * - migration: pvp_live_migration (3 migrations, 1 kpps) with tcpdump on the generator's receiving port;
 * - search: `vsperf phy2phy_tput` with TRAFFICGEN_DURATION=1, 64 B, five times in a row on the sandbox;
 * - verdicts: one phy2phy_cont trial with the generator pinned to CPU 0, alone, then while stress-ng
 *   loads CPU 0 (loaded must show cpu-contention).
 * Run it under the hardware lock as a whole (`flock /tmp/vsperf-hw.lock npm run bench -- fidelity`): the
 * stress-ng of the loaded case must run exactly while its trial does, and nobody else's traffic may.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { framesOfRun, longestSilence, readTrailers } from '../test/integration/software/pcap.js';
import { vsperfCapturing } from '../test/integration/vsperf-run.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const work = '/tmp/vsperf-fidelity-bench';
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

interface Tc {
  status: string;
  error?: { code: string; message: string };
  rows: Record<string, unknown>[];
  trials: { result: { txFrames: number }; validityDetails?: string[] }[];
  details?: { migration?: { records: Record<string, number>[]; receivers: Record<string, number>[] } };
}

/** One vsperf run under the hardware lock; with `pcap`, tcpdump captures the receiving generator port. */
async function vsperf(name: string, args: string[], pcap?: string): Promise<{ tc?: Tc; tcpdumpErr: string }> {
  const dir = join(work, `${name}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const run = await vsperfCapturing<{ testcases: Tc[] }>({
    root,
    args,
    resultsDir: dir,
    stateDir: join(work, 'state'),
    ...(pcap ? { pcap } : {}),
    echoStderr: true,
  });
  return { ...(run.results ? { tc: run.results.testcases[0] } : {}), tcpdumpErr: run.tcpdumpErr };
}

const conditions: Record<string, string> = { start: loadavg() };

// 1. Search: five sandbox runs of the command; a false zero is a row at 0 fps or E_NO_THROUGHPUT.
const throughput: number[] = [];
let falseZero = 0;
for (let i = 0; i < 5; i++) {
  const { tc } = await vsperf('tput', ['phy2phy_tput', '--test-params', 'TRAFFICGEN_DURATION=1;TRAFFICGEN_PKT_SIZES=(64,)']);
  const fps = Number(tc?.rows[0]?.throughput_rx_fps ?? 0);
  throughput.push(fps);
  if (!(fps > 0) || tc?.error?.code === 'E_NO_THROUGHPUT') falseZero++;
  console.log(`bench/fidelity: phy2phy_tput run ${i + 1}: ${fps} fps ${tc?.rows[0]?.validity ?? ''} (${tc?.error?.code ?? 'ok'}), load ${loadavg()}`);
}
conditions.after_search = loadavg();

// 2. Verdicts: one continuous trial, generator pinned to CPU 0, quiet then with stress-ng on CPU 0.
const cont = ['phy2phy_cont', '--test-params', "TRAFFICGEN_DURATION=3;TRAFFICGEN_PKT_SIZES=(64,);TRAFFICGEN_SOFTWARE_CORES=[0];TRAFFIC={'frame_rate':1}"];
const quiet = await vsperf('quiet', cont);
const stress = spawn('stress-ng', ['--cpu', '1', '--taskset', '0', '--timeout', '120s'], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 1000));
const loaded = await vsperf('loaded', cont);
stress.kill('SIGTERM');
await new Promise((r) => stress.once('exit', r));
const codes = (tc?: Tc): string[] =>
  String(tc?.rows[0]?.validity_reasons ?? '')
    .split(';')
    .filter(Boolean);
const details = (tc?: Tc): string[] => (tc?.trials ?? []).flatMap((t) => t.validityDetails ?? []);
conditions.after_verdicts = loadavg();
console.log(
  `bench/fidelity: quiet ${quiet.tc?.rows[0]?.validity} [${codes(quiet.tc).join(', ')}], loaded ${loaded.tc?.rows[0]?.validity} [${codes(loaded.tc).join(', ')}]`,
);

// 3. Migration against the wire.
const pcap = join(work, 'migration.pcap');
const mig = await vsperf('migration', ['pvp_live_migration', '--test-params', 'MIGRATION_REPEAT=3;MIGRATION_TRAFFIC_FPS=1000'], pcap);
conditions.after_migration = loadavg();
const frames = mig.tc ? readTrailers(pcap) : [];
const migration = (mig.tc?.details?.migration?.records ?? []).map((r, i) => {
  const w = mig.tc!.details!.migration!.receivers[i]!;
  const after = i > 0 ? mig.tc!.details!.migration!.receivers[i - 1]!.trafficStopEpochMs! + 1000 : 0;
  const mine = framesOfRun(frames, w.runTag!, after, w.trafficStopEpochMs! + 1000);
  const gap = longestSilence(mine, w.startEpochMs!, w.trafficStopEpochMs!).gapMs;
  return {
    rx_gap_ms: r.rxGapMs ?? null,
    capture_gap_ms: Math.round(gap * 1000) / 1000,
    lost: r.lostFrames ?? null,
    capture_lost: mig.tc!.trials[i]!.result.txFrames - new Set(mine.map((f) => f.seq)).size,
    dataplane_outage_ms: r.dataplaneOutageMs ?? null,
    outage_kind: (r as unknown as Record<string, string>).outageKind ?? null,
    migration_max_latency_ms: r.migrationMaxLatencyMs ?? null,
    delayed_frames: r.delayedFrames ?? null,
    setup_ms: r.setupMs ?? null,
    downtime_ms: r.downtimeMs ?? null,
    stop_resume_ms: r.stopResumeMs ?? null,
    guest_clock_step_ms: r.guestClockStepMs ?? null,
    guest_clock_uncertainty_ms: r.guestClockUncertaintyMs ?? null,
    validity_reasons: String(mig.tc!.rows.find((x) => x.id === `migration_${i + 1}`)?.validity_reasons ?? ''),
  };
});
const out = {
  migration,
  migration_status: mig.tc?.status ?? 'no result',
  tcpdump: mig.tcpdumpErr.split('\n').filter((l) => /packets/.test(l)),
  search_false_zero_runs: falseZero,
  search_runs: throughput.length,
  search_throughput_fps: throughput,
  verdicts: { quiet: codes(quiet.tc), loaded: codes(loaded.tc) },
  verdict_validity: { quiet: quiet.tc?.rows[0]?.validity ?? null, loaded: loaded.tc?.rows[0]?.validity ?? null },
  // The measured figure behind each reason (why the quiet row is not valid on a shared box, if it is not).
  verdict_details: { quiet: details(quiet.tc), loaded: details(loaded.tc) },
  conditions: { ...conditions, note: "load averages (1/5/15 min) of a 2-core VM shared with other engineers' builds and tests" },
};
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'fidelity.json'), JSON.stringify(out, null, 2) + '\n');
console.log(`bench/fidelity: ${JSON.stringify(out.migration)}; false zeros ${falseZero}/${throughput.length}`);
const ok =
  falseZero === 0 &&
  codes(loaded.tc).includes('cpu-contention') &&
  migration.length > 0 &&
  migration.every((m) => m.rx_gap_ms !== null && Math.abs(m.rx_gap_ms - m.capture_gap_ms) <= 2 && m.lost === m.capture_lost && m.guest_clock_step_ms !== null);
process.exit(ok ? 0 : 1);
