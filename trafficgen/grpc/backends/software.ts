/**
 * `software` backend: wraps any TrafficGenerator registered in the framework's registry (the built-in
 * `Software` engine in CI, `Simulated` for quick checks). Each session gets a fresh generator with its
 * own cleanup stack, so everything it created on the host is released when the session ends.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { releaseEntry } from '../../../framework/host/janitor.js';
import { isAlive } from '../../../framework/host/proc.js';
import { UsageError } from '../../../framework/errors.js';
import type { Settings } from '../../../framework/config/settings.js';
import { Host } from '../../../framework/host/host.js';
import { Journal, type JournalEntry } from '../../../framework/host/journal.js';
import type { Logger } from '../../../framework/log/logger.js';
import { CleanupStack } from '../../../framework/runner/cleanup-stack.js';
import { Registry } from '../../../framework/registry/registry.js';
import type { DriverContext, DriverKind, DriverOf } from '../../../framework/api/driver.js';
import type {
  ContinuousRun,
  GeneratorCaps,
  LiveCounters,
  PortSpec,
  TrafficGenerator,
  TrafficSpec,
  TrialResult,
  TrialHooks,
  TrialSpec,
} from '../../../framework/api/trafficgen.js';
import type { ShimBackend } from '../server.js';

export interface SoftwareBackendOptions {
  /** Registered trafficgen name (default "Software"). */
  readonly generator: string;
  readonly settings: Settings;
  readonly log: Logger;
  /** Scratch directory for the generator (logs, sockets). */
  readonly workDir: string;
  /** The drivers it can wrap (the shim's entry point fills it with the built-ins and --plugin packages). */
  readonly registry: Registry;
}

/**
 * Release what shims that died (SIGKILL, crash) left on this host: journals named tgshim-<pid>-… whose
 * process is gone. Other journals (a vsperf run, another live shim) are never touched.
 */
export async function cleanupDeadShims(log: Logger): Promise<number> {
  let n = 0;
  for (const path of Journal.list()) {
    const m = /^tgshim-(\d+)-/.exec(basename(path));
    if (!m || Number(m[1]) === process.pid || isAlive(Number(m[1]))) continue;
    const entries = Journal.read(path).reverse();
    if (entries.length) log.info(`releasing ${entries.length} leftover resource(s) of dead shim pid ${m[1]}`);
    for (const e of entries.filter((x) => x.kind === 'process')) await releaseEntry(e, log);
    for (const e of entries.filter((x) => x.kind !== 'process')) await releaseEntry(e, log);
    n += entries.length;
    rmSync(path, { force: true });
  }
  return n;
}

export class SoftwareBackend implements ShimBackend {
  readonly kind = 'software';
  private readonly registry: Registry;
  private readonly journal: Journal;
  private readonly abort = new AbortController();
  private seq = 0;
  private workDirEntry: JournalEntry | undefined;

  constructor(private readonly opts: SoftwareBackendOptions) {
    this.registry = opts.registry;
    const f = this.registry.get('trafficgen', opts.generator);
    if (['ixia', 'ixnet'].includes(f.name.toLowerCase())) {
      throw new UsageError(`the software backend cannot wrap the ${f.name} driver (it is the shim's own client)`);
    }
    this.journal = new Journal(`tgshim-${process.pid}-${Date.now()}`);
    // A scratch directory the shim made is the shim's to remove (at close; after a SIGKILL the next shim's
    // cleanup of dead shims does); one that was there before is the user's and stays.
    if (!existsSync(opts.workDir)) {
      mkdirSync(opts.workDir, { recursive: true });
      this.workDirEntry = { kind: 'dir', id: this.journal.nextId('dir'), path: opts.workDir };
      this.journal.add(this.workDirEntry);
    }
  }

  generatorName(): string {
    return this.registry.get('trafficgen', this.opts.generator).name;
  }

  async open(): Promise<TrafficGenerator> {
    const log = this.opts.log.child(`session${++this.seq}`);
    const cleanup = new CleanupStack(log);
    const host = new Host(cleanup, this.journal, log);
    const workDir = join(this.opts.workDir, `session-${this.seq}`);
    // Removed when the session ends, with the rest of its host resources.
    host.makeDir(workDir);
    const registry = this.registry;
    const ctx: DriverContext = {
      settings: this.opts.settings,
      log,
      host,
      signal: this.abort.signal,
      workDir,
      create<K extends DriverKind>(kind: K, name: string): Promise<DriverOf[K]> {
        return registry.create(kind, name, ctx);
      },
    };
    let gen: TrafficGenerator;
    try {
      gen = await registry.create('trafficgen', this.opts.generator, ctx);
    } catch (e) {
      await cleanup.unwind();
      throw e;
    }
    return new SessionGenerator(gen, () => cleanup.unwind().then(() => undefined));
  }

  async close(): Promise<void> {
    this.abort.abort();
    if (this.workDirEntry) {
      rmSync(this.opts.workDir, { recursive: true, force: true });
      this.journal.remove(this.workDirEntry.id);
    }
    this.journal.close();
  }
}

/** Delegates to the wrapped generator; close() also unwinds the session's host resources. */
class SessionGenerator implements TrafficGenerator {
  readonly startContinuous?: (spec: TrafficSpec, signal?: AbortSignal) => Promise<ContinuousRun>;

  constructor(
    private readonly inner: TrafficGenerator,
    private readonly release: () => Promise<void>,
  ) {
    if (inner.startContinuous) this.startContinuous = (spec, signal) => inner.startContinuous!(spec, signal);
  }

  get name(): string {
    return this.inner.name;
  }

  capabilities(): GeneratorCaps {
    return this.inner.capabilities();
  }

  connect(ports: readonly PortSpec[], signal?: AbortSignal): Promise<void> {
    return this.inner.connect(ports, signal);
  }

  runTrial(spec: TrialSpec, signal?: AbortSignal, onProgress?: (c: LiveCounters) => void, hooks?: TrialHooks): Promise<TrialResult> {
    return this.inner.runTrial(spec, signal, onProgress, hooks);
  }

  async close(): Promise<void> {
    try {
      await this.inner.close();
    } finally {
      await this.release();
    }
  }
}
