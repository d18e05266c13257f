#!/usr/bin/env node
/**
 * Runs VSPERF's non-VPP integration testcases on this machine's sandbox (a few per `vsperf` process,
 * each process under the shared hardware lock so other users of the box get it between batches) and
 * records how each ended in docs/data/integration-status.json: status, the one-line reason of a
 * failure, wall time, and the conditions (commit, load average). docs/coming-from-vsperf.md's table
 * of integration testcases is written from that file (scripts/dev/coming-from-vsperf-tables.mjs).
 *
 *   node scripts/dev/integration-status.mjs [--batch 4] [--vswitch NAME] [--test-params STR] [name…]
 *                                                                      (default: every non-VPP testcase)
 *
 * Without --vswitch a run is the testcase as VSPERF defines it and goes to `testcases[name]`. With
 * --vswitch (VSPERF's option: the same testcase under another vSwitch) it is a variant and goes to
 * `variants[name][vswitch]`, next to the testcase's own run, never over it; --test-params (VSPERF's
 * option, e.g. the tunnel addresses a vSwitch needs) are recorded with the run.
 *
 * Testcases keep their own Parameters; a conf file layer (ranked below them) only picks the Software
 * generator and 1 s trials, so a testcase that asks for T-Rex or IxNet still asks for it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// INTEGRATION_STATUS_OUT: run from a copy of the build while the worktree is rebuilt, write into the worktree.
const out = process.env.INTEGRATION_STATUS_OUT || join(root, 'docs/data/integration-status.json');
const vsperf = join(root, 'bin/vsperf.js');
const CONF = { TRAFFICGEN: 'Software', TRAFFICGEN_DURATION: 1 };

const args = process.argv.slice(2);
let batch = 4;
let vswitch = '';
let testParams = '';
const names = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--batch') batch = Number(args[++i]);
  else if (args[i] === '--vswitch') vswitch = args[++i] ?? '';
  else if (args[i] === '--test-params') testParams = args[++i] ?? '';
  else names.push(args[i]);
}
const extra = [...(vswitch ? ['--vswitch', vswitch] : []), ...(testParams ? ['--test-params', testParams] : [])];

/** Testcase names of `vsperf --integration --list`, VPP ones left out (no VPP vSwitch here). */
function catalogue() {
  const r = spawnSync(process.execPath, [vsperf, '--integration', '--list'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vsperf --integration --list failed: ${r.stderr}`);
  return [...r.stdout.matchAll(/^\* (\S+)/gm)].map((m) => m[1]).filter((n) => !/vpp/i.test(n));
}

function load() {
  const d = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : {};
  return { testcases: d.testcases ?? {}, variants: d.variants ?? {} };
}

function commit() {
  return spawnSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
}

const firstLine = (s) =>
  String(s ?? '')
    .split('\n')[0]
    .trim();

/** Testcases whose plan already says they cannot run here (no driver or deployment): need no hardware lock. */
function notRunnable(list, confFile) {
  const r = spawnSync(process.execPath, [vsperf, '--integration', '--dry-run', '--conf-file', confFile, ...extra, ...list], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const names = new Set();
  for (const block of r.stdout.split(/\n(?=\[\d+\] )/)) {
    const m = /^\[\d+\] (\S+?):/.exec(block);
    if (m && /\n\s+not runnable here:/.test(block)) names.add(m[1]);
  }
  return names;
}

function runBatch(list, work, lock = true) {
  const resultsDir = mkdtempSync(join(work, 'res-'));
  const confFile = join(work, 'sandbox.json');
  const t0 = Date.now();
  const r = spawnSync(
    lock ? 'flock' : process.execPath,
    // -o: the lock's descriptor stays with flock, not with every process vsperf leaves running.
    [
      ...(lock ? ['-o', '/tmp/vsperf-hw.lock', process.execPath] : []),
      vsperf,
      '--integration',
      '--conf-file',
      confFile,
      '--results-dir',
      resultsDir,
      ...extra,
      ...list,
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, VSPERF_STATE_DIR: process.env.VSPERF_STATE_DIR || join(work, 'state') },
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  const found = new Map();
  for (const d of readdirSync(resultsDir).filter((x) => x.startsWith('results_'))) {
    const p = join(resultsDir, d, 'results.json');
    if (!existsSync(p)) continue;
    for (const t of JSON.parse(readFileSync(p, 'utf8')).testcases) found.set(t.name, t);
  }
  const lastErr = firstLine(
    (r.stderr || '')
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('vsperf:'))
      .pop(),
  );
  return list.map((name) => {
    const t = found.get(name);
    if (!t) return [name, { status: 'error', reason: lastErr || `vsperf exited with ${r.status}`, wallS: Math.round((Date.now() - t0) / 1000) }];
    const reason = t.error ? firstLine(`${t.error.code}: ${t.error.message}`) : '';
    return [name, { status: t.status, ...(reason ? { reason } : {}), wallS: Math.round(t.wallS) }];
  });
}

function sorted(o) {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}

const all = names.length ? names : catalogue();
const work = mkdtempSync(join(tmpdir(), 'vsperf-intstatus-'));
writeFileSync(join(work, 'sandbox.json'), JSON.stringify(CONF));
mkdirSync(dirname(out), { recursive: true });
const planOnly = notRunnable(all, join(work, 'sandbox.json'));
const batches = [[...planOnly]];
const rest = all.filter((n) => !planOnly.has(n));
for (let i = 0; i < rest.length; i += batch) batches.push(rest.slice(i, i + batch));
for (const [bi, list] of batches.entries()) {
  if (!list.length) continue;
  const load0 = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  process.stderr.write(`integration-status: ${list.join(' ')} (load ${load0})\n`);
  const res = runBatch(list, work, bi > 0);
  const data = load();
  for (const [name, v] of res) {
    const run = { ...v, ...(testParams ? { testParams } : {}), commit: commit(), date: new Date().toISOString().slice(0, 16), loadavg: load0 };
    if (vswitch) data.variants[name] = sorted({ ...data.variants[name], [vswitch]: run });
    else data.testcases[name] = run;
    process.stderr.write(`  ${name}: ${v.status}${v.reason ? ` — ${v.reason}` : ''} (${v.wallS} s)\n`);
  }
  data.testcases = sorted(data.testcases);
  data.variants = sorted(data.variants);
  writeFileSync(out, JSON.stringify(Object.keys(data.variants).length ? data : { testcases: data.testcases }, null, 2) + '\n');
}
