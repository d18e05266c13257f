import { writeFileSync, renameSync, readFileSync, rmSync } from 'node:fs';
import { OutputError } from '../errors.js';
import { hostname, release, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { RunResults } from './types.js';

/**
 * Write atomically (temp file + rename): a crash or a full disk mid-write never leaves a truncated
 * file behind, and the previous version stays intact. Failures become an OutputError.
 */
export function writeFileAtomic(path: string, data: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new OutputError(path, e);
  }
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
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
