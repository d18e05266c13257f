#!/usr/bin/env node
// `npm run setup`: make this host ready to run vsperf-ts. Idempotent, and a no-op in seconds when
// everything is in place. Each step is a module in scripts/setup.d/ (run in name order) exporting
//   export const title = '...';
//   export async function check(ctx) -> true when nothing is to do
//   export async function run(ctx)
// Steps never download anything outside Debian packages and the npm registry.
import { readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'scripts', 'setup.d');
const only = process.argv.slice(2);
const ctx = {
  root,
  ci: process.env.CI === 'true',
  /** Run a command (argv array, no shell); throws with its output on failure. */
  sh(argv, opts = {}) {
    const r = spawnSync(argv[0], argv.slice(1), {
      stdio: opts.quiet ? 'pipe' : 'inherit',
      encoding: 'utf8',
      env: { ...process.env, ...(opts.env ?? {}) },
      cwd: opts.cwd ?? root,
    });
    if (r.error) throw new Error(`${argv[0]}: ${r.error.message}`);
    if (r.status !== 0 && !opts.allowFail)
      throw new Error(
        `${argv.join(' ')} exited with ${r.status}${opts.quiet ? `: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}` : ''}`,
      );
    return r;
  },
  log: (m) => console.log(`setup: ${m}`),
};

const t0 = Date.now();
let failed = 0;
for (const f of readdirSync(dir)
  .filter((x) => x.endsWith('.mjs'))
  .sort()) {
  const step = await import(pathToFileURL(join(dir, f)).href);
  if (only.length && !only.some((o) => f.includes(o))) continue;
  const t = Date.now();
  try {
    if (await step.check(ctx)) {
      ctx.log(`${step.title}: ok`);
      continue;
    }
    ctx.log(`${step.title}: working…`);
    await step.run(ctx);
    if (!(await step.check(ctx))) throw new Error('still not in place after running');
    ctx.log(`${step.title}: done in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  } catch (e) {
    failed++;
    console.error(`setup: ${step.title}: FAILED: ${e.message}`);
  }
}
console.log(`setup: ${failed ? `${failed} step(s) failed` : 'all steps ok'} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
process.exit(failed ? 1 : 0);
