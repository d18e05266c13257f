/** Shared helpers for the vnfs integration tests (real QEMU, real OVS-DPDK). Resources use the `vsv` prefix. */
import { expect } from 'chai';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Settings, type JsonObject } from '../../../framework/config/settings.js';
import { CleanupStack } from '../../../framework/runner/cleanup-stack.js';
import { Host } from '../../../framework/host/host.js';
import { Journal } from '../../../framework/host/journal.js';
import { createLogger, silentLogger, type Logger } from '../../../framework/log/logger.js';
import type { DriverContext } from '../../../framework/api/driver.js';

process.env.VSPERF_STATE_DIR ??= '/tmp/vsperf-vnfs-test';

export const ROOT_DIR = '/tmp/vsperf-vnfs-test';

export const testLog: Logger = process.env.VSV_DEBUG ? createLogger((l, s, m) => console.error(`[${l}] ${s}: ${m}`), 'debug') : silentLogger;

export interface TestCtx extends DriverContext {
  readonly cleanup: CleanupStack;
  readonly journal: Journal;
}

let seq = 0;
export function makeCtx(values: JsonObject = {}, name = 'vsv'): TestCtx {
  const workDir = join(ROOT_DIR, `${name}-${process.pid}-${++seq}`);
  mkdirSync(workDir, { recursive: true });
  const cleanup = new CleanupStack(testLog);
  const journal = new Journal(`vsv-${process.pid}-${seq}`);
  // Deferred first, so it runs last (however the test unwinds): the journal file goes once everything
  // it recorded was released; what was not stays in it for the janitor, and releaseCtx fails on it.
  cleanup.defer('close the journal', () => journal.close());
  const host = new Host(cleanup, journal, testLog);
  cleanup.defer(`rm ${workDir}`, () => rmSync(workDir, { recursive: true, force: true }));
  const ac = new AbortController();
  return {
    settings: new Settings(values),
    log: testLog,
    host,
    signal: ac.signal,
    workDir,
    cleanup,
    journal,
    create: () => Promise.reject(new Error('not in this test')),
  };
}

/** PIDs of processes whose command line mentions `needle` (our work dir / socket names). */
export function processesMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (cmd.includes(needle) && state !== 'Z') out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Unwind a test context: no unwind error, no QEMU of its work dir left, the work dir and the journal gone. */
export async function releaseCtx(ctx: TestCtx): Promise<void> {
  const errors = await ctx.cleanup.unwind();
  expect(errors).to.deep.equal([]);
  expect(processesMentioning(ctx.workDir), 'QEMU processes left').to.deep.equal([]);
  expect(existsSync(ctx.workDir), `${ctx.workDir} left`).to.equal(false);
  expect(Journal.read(ctx.journal.path), 'resources left in the journal').to.deep.equal([]);
  expect(existsSync(ctx.journal.path), `journal ${ctx.journal.path} left`).to.equal(false);
}
