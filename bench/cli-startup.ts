/**
 * CLI start-up: wall time of `vsperf --list` (goal < 300 ms), median of repeated runs.
 * Writes bench/results/cli-startup.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../framework/config/load.js';

const runs = 15;
const times: number[] = [];
for (let i = 0; i < runs + 2; i++) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'vsperf.js'), '--list'], { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`vsperf --list failed: ${r.stderr}`);
  if (i >= 2) times.push(ms); // the first runs warm the page cache
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
const out = {
  command: 'vsperf --list',
  runs,
  median_ms: Math.round(median * 10) / 10,
  min_ms: Math.round(times[0]! * 10) / 10,
  max_ms: Math.round(times.at(-1)! * 10) / 10,
  goal_ms: 300,
  pass: median < 300,
};
mkdirSync(join(PROJECT_ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(join(PROJECT_ROOT, 'bench', 'results', 'cli-startup.json'), JSON.stringify(out, null, 2) + '\n');
console.log(
  `vsperf --list: median ${out.median_ms} ms (min ${out.min_ms}, max ${out.max_ms}) over ${runs} runs; goal < 300 ms: ${out.pass ? 'met' : 'MISSED'}`,
);
