#!/usr/bin/env node
// `npm run bench [-- NAME...]`: runs dist/bench/NAME.js (compiled from bench/NAME.ts); each benchmark
// writes bench/results/NAME.json itself. Without names, runs all of them in name order.
import { readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'dist', 'bench');
const all = existsSync(dir)
  ? readdirSync(dir)
      .filter((f) => f.endsWith('.js') && !f.startsWith('_'))
      .map((f) => f.replace(/\.js$/, ''))
      .sort()
  : [];
const names = process.argv.slice(2).length ? process.argv.slice(2) : all;
let failed = 0;
for (const n of names) {
  if (!all.includes(n)) {
    console.error(`bench: unknown benchmark "${n}" (available: ${all.join(', ')})`);
    failed++;
    continue;
  }
  console.log(`bench: ${n}`);
  const r = spawnSync(process.execPath, [join(dir, `${n}.js`)], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    console.error(`bench: ${n} failed (exit ${r.status})`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
