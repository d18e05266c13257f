/**
 * VSPERF's StressNg load generator (tools/load_gen/stress_ng): background CPU / IO / memory load for
 * phy2phy_cpu_load and phy2phy_mem_load, sized from the testcase's Load dict (LOADGEN_CONFIG):
 *   load        % of the (non-reserved) CPUs to load, 0–100
 *   reserved    CPUs left free (VSPERF: for the vSwitch and generator)
 *   pattern     letters c (cpu), i (io), m (vm); workers are split by letter count, e.g. "cccm"
 *   load_memory % of RAM the vm workers use together
 *   options     extra stress-ng arguments (split on whitespace; never through a shell)
 * Spawned through Host (journalled, stopped on cleanup, killed by the janitor after a crash).
 */
import { cpus, totalmem } from 'node:os';
import { ConfigError, DriverError } from '../../errors.js';
import type { JsonObject } from '../../config/settings.js';
import { isPlainObject } from '../../config/settings.js';
import type { DriverContext, LoadGenerator } from '../../api/driver.js';
import type { Child } from '../../host/child.js';

export interface LoadConfig {
  readonly load: number;
  readonly reserved?: number;
  readonly pattern: string;
  readonly load_memory?: number;
  readonly options?: string;
}

const KEY = 'LOADGEN_CONFIG';

/** Validate a Load dict; errors name the field and where it came from. */
export function parseLoadConfig(v: unknown, source: string): LoadConfig {
  if (!isPlainObject(v as never)) throw new ConfigError(KEY, source, 'must be an object {load, pattern, reserved?, load_memory?, options?}');
  const o = v as JsonObject;
  for (const k of Object.keys(o))
    if (!['load', 'reserved', 'pattern', 'load_memory', 'options'].includes(k))
      throw new ConfigError(`${KEY}.${k}`, source, 'unknown field (expected load, reserved, pattern, load_memory, options)');
  const load = o.load;
  if (typeof load !== 'number' || !(load > 0 && load <= 100))
    throw new ConfigError(`${KEY}.load`, source, `must be a number in (0, 100], got ${JSON.stringify(load)}`, {
      hint: 'StressNg needs a load; use LOADGEN=DummyLoadGen for none',
    });
  const pattern = o.pattern;
  if (typeof pattern !== 'string' || !/[cim]/i.test(pattern) || /[^cim]/i.test(pattern))
    throw new ConfigError(`${KEY}.pattern`, source, `must be letters c, i, m (e.g. "c" or "ccm"), got ${JSON.stringify(pattern)}`);
  const out: { -readonly [K in keyof LoadConfig]: LoadConfig[K] } = { load, pattern: pattern.toLowerCase() };
  if (o.reserved !== undefined) {
    if (typeof o.reserved !== 'number' || !Number.isInteger(o.reserved) || o.reserved < 0)
      throw new ConfigError(`${KEY}.reserved`, source, `must be an integer ≥ 0, got ${JSON.stringify(o.reserved)}`);
    out.reserved = o.reserved;
  }
  if (o.load_memory !== undefined) {
    if (typeof o.load_memory !== 'number' || !(o.load_memory > 0 && o.load_memory <= 100))
      throw new ConfigError(`${KEY}.load_memory`, source, `must be a percentage in (0, 100], got ${JSON.stringify(o.load_memory)}`);
    out.load_memory = o.load_memory;
  }
  if (o.options !== undefined) {
    if (typeof o.options !== 'string') throw new ConfigError(`${KEY}.options`, source, 'must be a string of extra stress-ng arguments');
    out.options = o.options;
  }
  return out;
}

/** stress-ng argv for a Load config on a host with `cpuCount` CPUs and `memBytes` of RAM (VSPERF's arithmetic). */
export function stressNgArgv(cfg: LoadConfig, cpuCount = cpus().length, memBytes = totalmem(), bin = 'stress-ng'): string[] {
  const avail = Math.max(1, cpuCount - (cfg.reserved ?? 0));
  const workers = Math.max(1, Math.round((avail / 100) * cfg.load));
  const counts: Record<string, number> = {};
  let total = 0;
  for (const t of ['c', 'i', 'm']) {
    const n = [...cfg.pattern].filter((ch) => ch === t).length;
    if (n) {
      counts[t] = n;
      total += n;
    }
  }
  const argv = [bin];
  const flag: Record<string, string> = { c: '--cpu', i: '--io', m: '--vm' };
  let vm = 0;
  for (const [t, n] of Object.entries(counts)) {
    const w = Math.max(1, Math.round((workers * n) / total));
    argv.push(flag[t]!, String(w));
    if (t === 'c') argv.push('--cpu-load', '100');
    if (t === 'm') vm = w;
  }
  if (vm > 0 && cfg.load_memory) argv.push('--vm-bytes', String(Math.round(((memBytes / 100) * cfg.load_memory) / vm)));
  if (cfg.options) argv.push(...cfg.options.split(/\s+/).filter(Boolean));
  // Our own safety net: stress-ng stops by itself if we (and the janitor) were all killed.
  if (!argv.includes('--timeout') && !argv.includes('-t')) argv.push('--timeout', '6h');
  return argv;
}

export class StressNg implements LoadGenerator {
  readonly name = 'StressNg';
  private child: Child | undefined;

  constructor(
    private readonly ctx: DriverContext,
    readonly argv: readonly string[],
  ) {}

  async start(): Promise<void> {
    if (this.child?.running) return;
    const child = await this.ctx.host.spawn(this.argv, { label: `stop stress-ng`, graceMs: 3000 });
    this.child = child;
    // VSPERF waits for "stress-ng: info:" before traffic; so do we (5 s), and fail clearly if it dies.
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(child.running), 5000);
      const onOut = (): void => {
        if (/stress-ng: info:|dispatching hogs/.test(child.tail(50))) done(true);
      };
      const onExit = (): void => done(false);
      const done = (v: boolean): void => {
        clearTimeout(timer);
        child.off('output', onOut);
        child.off('unexpected-exit', onExit);
        resolve(v);
      };
      child.on('output', onOut);
      child.on('unexpected-exit', onExit);
      onOut();
    });
    if (!ok || !child.running) {
      const st = child.exitStatus;
      await child.stop();
      throw new DriverError('StressNg', 'start', `stress-ng exited (${st?.signal ?? st?.code ?? '?'}) before loading the host: ${child.tail(3).trim()}`);
    }
    this.ctx.log.info(`StressNg: ${this.argv.slice(1).join(' ')} (pid ${child.pid})`);
  }

  async stop(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (c) await c.stop(3000);
  }
}

export async function createStressNg(ctx: DriverContext): Promise<LoadGenerator> {
  const cfg = parseLoadConfig(ctx.settings.getOr(KEY, {}), ctx.settings.source(KEY));
  return new StressNg(ctx, stressNgArgv(cfg));
}

/** LOADGEN=DummyLoadGen: no load (VSPERF's default). */
export function createDummyLoadGen(): LoadGenerator {
  return { name: 'DummyLoadGen', start: async () => undefined, stop: async () => undefined };
}
