/**
 * `npm run bench -- deployments`: phy2phy on the sandbox with OVS-DPDK.
 *  - phy2phy_setup_teardown_s: median wall time of deployment setup + teardown (goal ≤ 5 s), 3 runs
 *  - phy2phy_tput_fps: RFC 2544 throughput (64 B) of phy2phy_tput with the Software generator, run
 *    through the real runner with short trials.
 * Writes bench/results/deployments.json.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Config, PROJECT_ROOT } from '../framework/config/load.js';
import { createLogger } from '../framework/log/logger.js';
import { registerBuiltins } from '../drivers.js';
import { Registry } from '../framework/registry/registry.js';
import { RunEvents } from '../framework/runner/events.js';
import { runTestcases } from '../framework/runner/run.js';
import { makeCtx } from '../test/integration/deployments/helpers.js';

const log = createLogger((level, scope, msg) => process.stderr.write(`${level} ${scope}: ${msg}\n`), 'warning');

async function setupTeardownS(): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = makeCtx({ VSWITCH: 'OvsDpdkVhost' });
    const t0 = performance.now();
    const factory = await t.registry.create('deployment', 'p2p', t.ctx);
    const dep = await factory.build(t.ctx);
    await dep.setup(t.ctx.signal);
    await dep.teardown();
    times.push((performance.now() - t0) / 1000);
    await t.dispose();
  }
  return times;
}

async function tputFps(speedMbps: number): Promise<{ fps: number; row: Record<string, unknown> }> {
  const resultsRoot = '/tmp/vsd-bench-results';
  rmSync(resultsRoot, { recursive: true, force: true });
  mkdirSync(resultsRoot, { recursive: true });
  const config = new Config({
    validate: false,
    // A veth has no line rate: the nominal speed only scales "% of line rate". Generator on CPU 0, away from the OVS PMD on CPU 1.
    testParams: [
      {
        TRAFFICGEN: 'Software',
        TRAFFICGEN_DURATION: 3,
        TRAFFICGEN_PKT_SIZES: [64],
        VSWITCH: 'OvsDpdkVhost',
        SANDBOX_PORT_SPEED_MBPS: speedMbps,
        TRAFFICGEN_SOFTWARE_CORES: [0],
      },
    ],
  });
  const registry = new Registry();
  registerBuiltins(registry);
  const tc = config.testcases().find((x) => x.name === 'phy2phy_tput')!;
  const res = await runTestcases({
    config,
    registry,
    testcases: [tc],
    log,
    events: new RunEvents(),
    argv: ['bench'],
    resultsRoot,
    signal: new AbortController().signal,
  });
  const r = res.testcases[0]!;
  if (r.status !== 'passed') throw new Error(`phy2phy_tput failed: ${JSON.stringify(r.error)}`);
  const row = r.rows[0] as Record<string, unknown>;
  rmSync(resultsRoot, { recursive: true, force: true });
  return { fps: Number(row.throughput_rx_fps), row };
}

const times = await setupTeardownS();
const median = [...times].sort((a, b) => a - b)[1]!;
// Highest nominal speed first; on a loaded box the search can end generator-limited with nothing valid,
// then the next lower speed is tried (recorded in the output).
let tput: { fps: number; row: Record<string, unknown> } | undefined;
let speedUsed = 0;
const failures: string[] = [];
for (const speed of [1000, 100, 20]) {
  try {
    tput = await tputFps(speed);
    speedUsed = speed;
    break;
  } catch (e) {
    failures.push(`${speed} Mbit/s: ${(e as Error).message}`);
  }
}
const out = {
  phy2phy_setup_teardown_s: Number(median.toFixed(3)),
  phy2phy_tput_fps: tput ? Math.round(tput.fps) : null,
  setup_teardown_runs_s: times.map((x) => Number(x.toFixed(3))),
  tput_port_speed_mbps: speedUsed,
  tput_failures: failures,
  tput_row: tput?.row ?? null,
  load_avg_1m: Number(loadavg()[0]!.toFixed(2)),
  note: 'sandbox: veth pairs, OVS-DPDK 3.1 af_xdp ports in its own netns, Software generator (bidirectional, 64 B, zero loss); 2-core box shared with other work, figures are noisy',
};
mkdirSync(join(PROJECT_ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(PROJECT_ROOT, 'bench/results/deployments.json'), JSON.stringify(out, null, 2) + '\n');
console.log(JSON.stringify(out, null, 2));
