/**
 * `npm run bench -- deployments`: phy2phy on the sandbox with OVS-DPDK.
 *  - phy2phy_setup_teardown_s: median wall time of deployment setup + teardown (goal ≤ 5 s), 3 runs
 *  - phy2phy_tput_fps: RFC 2544 throughput (64 B) of phy2phy_tput with the Software generator, run
 *    through the real runner with short trials.
 * Writes bench/results/deployments.json.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Config, PROJECT_ROOT } from '../framework/config/load.js';
import { createLogger } from '../framework/log/logger.js';
import { registerBuiltins } from '../framework/registry/builtins.js';
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

async function tputFps(): Promise<{ fps: number; row: Record<string, unknown> }> {
  const resultsRoot = '/tmp/vsd-bench-results';
  rmSync(resultsRoot, { recursive: true, force: true });
  mkdirSync(resultsRoot, { recursive: true });
  const config = new Config({
    validate: false,
    testParams: [{ TRAFFICGEN: 'Software', TRAFFICGEN_DURATION: 3, TRAFFICGEN_PKT_SIZES: [64], VSWITCH: 'OvsDpdkVhost' }],
  });
  const registry = new Registry();
  registerBuiltins(registry);
  const tc = config.testcases().find((x) => x.name === 'phy2phy_tput')!;
  const res = await runTestcases({ config, registry, testcases: [tc], log, events: new RunEvents(), argv: ['bench'], resultsRoot, signal: new AbortController().signal });
  const r = res.testcases[0]!;
  if (r.status !== 'passed') throw new Error(`phy2phy_tput failed: ${JSON.stringify(r.error)}`);
  const row = r.rows[0] as Record<string, unknown>;
  rmSync(resultsRoot, { recursive: true, force: true });
  return { fps: Number(row.throughput_rx_fps), row };
}

const times = await setupTeardownS();
const median = [...times].sort((a, b) => a - b)[1]!;
const tput = await tputFps();
const out = {
  phy2phy_setup_teardown_s: Number(median.toFixed(3)),
  phy2phy_tput_fps: Math.round(tput.fps),
  setup_teardown_runs_s: times.map((x) => Number(x.toFixed(3))),
  tput_row: tput.row,
  note: 'sandbox: veth pairs, OVS-DPDK 3.1 af_xdp ports, Software generator; 2-core box shared with other work, figures are noisy',
};
mkdirSync(join(PROJECT_ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(PROJECT_ROOT, 'bench/results/deployments.json'), JSON.stringify(out, null, 2) + '\n');
console.log(JSON.stringify(out, null, 2));
