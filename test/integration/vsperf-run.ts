/**
 * `vsperf` run as a user runs it, and what it wrote. vsperfCapturing adds tcpdump on the generator's receiving port of the sandbox testbed
 * (netns vsd-<tag>, interface vsd<tag>g1) from the moment that port exists: the independent observer of
 * the frames. tcpdump ends with the sandbox (its interface goes away) or, at the latest, when vsperf exits.
 */
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CapturedRun<T> {
  /** vsperf's stdout and stderr. */
  readonly out: string;
  /** tcpdump's stderr (its "N packets dropped by kernel" line). */
  readonly tcpdumpErr: string;
  /** results.json of the run, when it wrote one. */
  readonly results?: T;
}

/** results.json of the run whose --results-dir was `resultsDir`, or undefined when it wrote none. */
export function readRunResults<T>(resultsDir: string): T | undefined {
  const dir = readdirSync(resultsDir).find((d) => d.startsWith('results_'));
  return dir ? (JSON.parse(readFileSync(join(resultsDir, dir, 'results.json'), 'utf8')) as T) : undefined;
}

/** Each of `keys` of a result record is a number (a figure was measured, not left out). */
export function expectFigures(rec: Readonly<Record<string, unknown>>, keys: readonly string[]): void {
  for (const k of keys) expect(rec[k], `${k} in ${JSON.stringify(rec)}`).to.be.a('number');
}

function netnsNames(): string[] {
  return spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => l.split(' ')[0]!);
}

export async function vsperfCapturing<T>(o: {
  /** The project root (bin/vsperf.js). */
  readonly root: string;
  /** Testcase and options; --results-dir is added. */
  readonly args: readonly string[];
  readonly resultsDir: string;
  readonly stateDir: string;
  /** Where tcpdump writes; without it nothing is captured. */
  readonly pcap?: string;
  /** Also copy vsperf's stderr to ours (progress of a long bench). */
  readonly echoStderr?: boolean;
}): Promise<CapturedRun<T>> {
  const before = new Set(netnsNames());
  const child = spawn(process.execPath, [join(o.root, 'bin', 'vsperf.js'), ...o.args, '--results-dir', o.resultsDir], {
    cwd: o.root,
    env: { ...process.env, VSPERF_STATE_DIR: o.stateDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
    if (o.echoStderr) process.stderr.write(d);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let cap: ChildProcess | undefined;
  let tcpdumpErr = '';
  while (o.pcap && !cap && child.exitCode === null) {
    const ns = netnsNames().find((n) => /^vsd-[0-9a-f]+$/.test(n) && !before.has(n));
    const dev = ns ? `vsd${ns.slice(4)}g1` : undefined;
    if (ns && dev && spawnSync('ip', ['-n', ns, 'link', 'show', dev]).status === 0) {
      cap = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', dev, '-U', '-n', '-B', '16384', '--time-stamp-precision=nano', '-w', o.pcap], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      cap.stderr!.on('data', (d: Buffer) => (tcpdumpErr += d.toString()));
    } else await new Promise((r) => setTimeout(r, 100));
  }
  await exited;
  if (cap && cap.exitCode === null) {
    cap.kill('SIGINT');
    await new Promise((r) => cap!.once('exit', r));
  }
  const results = readRunResults<T>(o.resultsDir);
  return { out, tcpdumpErr, ...(results !== undefined ? { results } : {}) };
}
