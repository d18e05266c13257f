import { writeFileSync, renameSync, readFileSync } from 'node:fs';
import { hostname, release, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { RunResults } from './types.js';

/** Write atomically: a crash or a full disk mid-write never leaves a truncated results.json behind. */
export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, path);
}

export function hostFacts(): RunResults['host'] {
  const c = cpus();
  return {
    hostname: hostname(),
    kernel: release(),
    cpus: c.length,
    cpuModel: c[0]?.model ?? 'unknown',
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
  };
}

export function toolVersion(root: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function readResults(dir: string): RunResults {
  return JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as RunResults;
}
