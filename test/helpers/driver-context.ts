/** A DriverContext on the real host for integration tests: built-in drivers, a journal, a cleanup stack, a work dir. */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Settings } from '../../framework/config/settings.js';
import { Host } from '../../framework/host/host.js';
import { Journal } from '../../framework/host/journal.js';
import { silentLogger } from '../../framework/log/logger.js';
import { registerBuiltins } from '../../drivers.js';
import { Registry } from '../../framework/registry/registry.js';
import type { DriverContext, DriverKind, DriverOf } from '../../framework/api/driver.js';
import { CleanupStack } from '../../framework/runner/cleanup-stack.js';

export interface HostContext {
  readonly ctx: DriverContext;
  readonly cleanup: CleanupStack;
  readonly journal: Journal;
  readonly workDir: string;
  readonly registry: Registry;
}

/** `workDirPrefix`: /tmp/<prefix>-<random> is created for the context. */
export function hostContext(settings: Settings, o: { runId: string; journalDir: string; workDirPrefix: string }): HostContext {
  const registry = new Registry();
  registerBuiltins(registry);
  const cleanup = new CleanupStack(silentLogger);
  const journal = new Journal(o.runId, o.journalDir);
  const host = new Host(cleanup, journal, silentLogger);
  const workDir = `/tmp/${o.workDirPrefix}-${randomBytes(3).toString('hex')}`;
  mkdirSync(workDir, { recursive: true });
  const ctx: DriverContext = {
    settings,
    log: silentLogger,
    host,
    signal: new AbortController().signal,
    workDir,
    create: <K extends DriverKind>(kind: K, name: string): Promise<DriverOf[K]> => registry.create(kind, name, ctx),
  };
  return { ctx, cleanup, journal, workDir, registry };
}
