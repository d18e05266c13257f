/**
 * One precopy live migration between two QEMU instances over QMP (the sequence verified by hand in
 * testbed-notes §7): capabilities and parameters on both sides, `migrate-incoming` on the destination
 * (started with `-incoming defer`), `migrate` on the source, `query-migrate` polled until a final state,
 * then the destination's RESUME. Event listeners are created before the commands that trigger them.
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import { closeSync, fstatSync, openSync, readSync, rmSync } from 'node:fs';
import { sleep } from '../../framework/host/proc.js';
import { AbortedError, VsperfError } from '../../framework/errors.js';
import type { Logger } from '../../framework/log/logger.js';
import type { QemuInstanceHandle } from '../types.js';
import type { MigrationInfo } from '../qmp/client.js';
import type { QmpEvent } from '../qmp/events.js';
import { MigrationError } from './errors.js';
import type { MigrationOptions } from './options.js';

export interface TimelineEntry {
  readonly side: 'src' | 'dst';
  readonly event: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** ms relative to the `migrate` command, on QEMU's clock (both QEMUs share the host clock). */
  readonly tMs: number;
}

export interface MigrationFigures {
  readonly status: string;
  /** QEMU's total-time (ms). */
  readonly totalMs: number;
  /** QEMU's setup-time (ms). */
  readonly setupMs: number;
  /** QEMU's downtime (ms): from stopping the source to the end of the last transfer. */
  readonly downtimeMs: number;
  /** STOP on the source → RESUME on the destination, from QMP event timestamps (ms). */
  readonly stopResumeMs: number;
  /** Our wall clock from sending `migrate` until the final state was seen (ms). */
  readonly wallMs: number;
  readonly ramTransferredBytes: number;
  readonly ramTotalBytes: number;
  readonly dirtySyncCount: number;
  readonly mbps: number;
  readonly timeline: readonly TimelineEntry[];
  /** Migration start (`setup`, else estimated) and destination RESUME, epoch ms (QMP timestamps: the host's CLOCK_REALTIME). */
  readonly startEpochMs: number;
  readonly resumeEpochMs: number;
  /** MIGRATION_VERIFY_RAM: guest RAM pages that differ between source and destination after completion. */
  readonly ramDiff?: { readonly pages: number; readonly first: readonly string[]; readonly bytes: number };
}

async function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

let uriSeq = 0;
export async function migrationUri(opts: MigrationOptions, workDir: string): Promise<{ uri: string; release: () => void }> {
  if (opts.peer) return { uri: `tcp:${opts.peer.address}:${opts.peer.port}`, release: () => undefined };
  if (opts.transport === 'tcp') return { uri: `tcp:127.0.0.1:${await freeTcpPort()}`, release: () => undefined };
  let path = join(workDir, `mig-${process.pid}-${++uriSeq}.sock`);
  // sun_path holds 107 bytes (QEMU refuses longer): fall back to a short path for deep work dirs.
  if (Buffer.byteLength(path) > 100) path = join('/tmp', `vsv-mig-${process.pid}-${uriSeq}.sock`);
  rmSync(path, { force: true });
  return { uri: `unix:${path}`, release: () => rmSync(path, { force: true }) };
}

/** Why the destination is unusable, or undefined. */
function dstProblem(dst: QemuInstanceHandle): string | undefined {
  if (!dst.alive) return `destination QEMU ${dst.name} (pid ${dst.pid}) died`;
  if (dst.qmp.state !== 'running') return `destination QMP session ended (${dst.qmp.lastDisconnect?.message ?? 'closed'})`;
  return undefined;
}

type Call = { readonly timeoutMs: number; readonly signal?: AbortSignal };

/** Events of both QEMUs from the moment before the migration: the STOP/RESUME pair and where their histories start. */
interface EventWatch {
  readonly stopped: Promise<QmpEvent>;
  readonly resumed: Promise<QmpEvent>;
  readonly srcFrom: number;
  readonly dstFrom: number;
}

export async function migrateOnce(
  src: QemuInstanceHandle,
  dst: QemuInstanceHandle,
  opts: MigrationOptions,
  workDir: string,
  log: Logger,
  signal?: AbortSignal,
): Promise<MigrationFigures> {
  const call: Call = { timeoutMs: 10_000, ...(signal ? { signal } : {}) };
  const { uri, release } = await migrationUri(opts, workDir);
  try {
    await configureBothSides(src, dst, opts, call);
    const events = watchEvents(src, dst, opts);
    const t0 = await startMigration(src, dst, uri, call);
    const info = await waitUntilCompleted(src, dst, opts, t0, call, signal);
    const wallMs = performance.now() - t0;
    const ramCheck = opts.verifyRam ? await verifyGuestRam(src, dst, workDir, log) : undefined;
    const figures = await migrationFigures(src, dst, events, info, wallMs, ramCheck);
    log.info(
      `migration ${src.name} → ${dst.name}: total ${figures.totalMs} ms, setup ${figures.setupMs} ms, downtime ${figures.downtimeMs} ms, STOP→RESUME ${figures.stopResumeMs.toFixed(1)} ms, ${(figures.ramTransferredBytes / 1e6).toFixed(1)} MB`,
    );
    return figures;
  } catch (e) {
    if (e instanceof VsperfError) throw e;
    throw new MigrationError('migrate', (e as Error).message, { cause: e });
  } finally {
    release();
  }
}

/** MIGRATION_CAPABILITIES and MIGRATION_PARAMETERS on the source and the destination. */
async function configureBothSides(src: QemuInstanceHandle, dst: QemuInstanceHandle, opts: MigrationOptions, call: Call): Promise<void> {
  try {
    for (const side of [src, dst]) {
      await side.qmp.migrateSetCapabilities(opts.capabilities, call);
      await side.qmp.migrateSetParameters(opts.parameters, call);
    }
  } catch (e) {
    throw new MigrationError('setup', `setting capabilities/parameters failed: ${(e as Error).message}`, { cause: e });
  }
}

/** Listen before triggering: STOP on the source, RESUME on the destination. */
function watchEvents(src: QemuInstanceHandle, dst: QemuInstanceHandle, opts: MigrationOptions): EventWatch {
  return {
    stopped: src.qmp.events.waitFor('STOP', { timeoutMs: opts.timeoutMs + 10_000 }),
    resumed: dst.qmp.events.waitFor('RESUME', { timeoutMs: opts.timeoutMs + 10_000 }),
    srcFrom: src.qmp.events.history.length,
    dstFrom: dst.qmp.events.history.length,
  };
}

/** `migrate-incoming` on the destination, then `migrate` on the source; returns when `migrate` was sent (performance.now()). */
async function startMigration(src: QemuInstanceHandle, dst: QemuInstanceHandle, uri: string, call: Call): Promise<number> {
  try {
    await dst.qmp.migrateIncoming(uri, call);
  } catch (e) {
    throw new MigrationError('incoming', `${dstProblem(dst) ?? (e as Error).message}`, { cause: e });
  }
  const t0 = performance.now();
  try {
    await src.qmp.migrate(uri, call);
  } catch (e) {
    throw new MigrationError('migrate', (e as Error).message, { cause: e });
  }
  return t0;
}

/** `query-migrate` on the source every MIGRATION_POLL_MS until `completed`; cancels on abort, a lost destination or the timeout. */
async function waitUntilCompleted(
  src: QemuInstanceHandle,
  dst: QemuInstanceHandle,
  opts: MigrationOptions,
  t0: number,
  call: Call,
  signal?: AbortSignal,
): Promise<MigrationInfo> {
  const deadline = t0 + opts.timeoutMs;
  for (;;) {
    if (signal?.aborted) {
      await cancel(src);
      throw new AbortedError('aborted during live migration (cancelled)');
    }
    let info: MigrationInfo;
    try {
      info = await src.qmp.queryMigrate(call);
    } catch (e) {
      if (e instanceof AbortedError) continue;
      throw new MigrationError('converge', `query-migrate on the source failed: ${(e as Error).message}`, { cause: e });
    }
    const st = info.status ?? 'none';
    if (st === 'completed') return info;
    if (st === 'failed' || st === 'cancelled') {
      const why = dstProblem(dst);
      throw new MigrationError('converge', `source reports ${st}${info['error-desc'] ? `: ${info['error-desc']}` : ''}${why ? `; ${why}` : ''}`, {
        hint: why ? 'the source guest keeps running; see the destination log tail' : undefined,
      });
    }
    const why = dstProblem(dst);
    if (why) return afterDestinationLost(src, dst, why, st, call);
    if (performance.now() > deadline) {
      await cancel(src);
      throw new MigrationError(
        'converge',
        `not completed within ${opts.timeoutMs / 1000} s (status ${st}, remaining ${info.ram?.remaining ?? '?'} B); cancelled`,
        {
          hint: 'raise MIGRATION_MAX_BANDWIDTH or MIGRATION_DOWNTIME_LIMIT_MS, or enable auto-converge',
        },
      );
    }
    await sleep(opts.pollMs);
  }
}

function cancel(src: QemuInstanceHandle): Promise<unknown> {
  return src.qmp.migrateCancel({ timeoutMs: 2000 }).catch(() => undefined);
}

/**
 * The destination died or its QMP session ended while the source was still migrating. The source
 * notices the broken stream a little later: give it a moment, accept a completion it reports, else cancel.
 */
async function afterDestinationLost(src: QemuInstanceHandle, dst: QemuInstanceHandle, why: string, st: string, call: Call): Promise<MigrationInfo> {
  await sleep(200);
  const again = await src.qmp.queryMigrate(call).catch(() => undefined);
  if (again?.status === 'completed') return again;
  if (again && again.status !== 'failed' && again.status !== 'cancelled') await cancel(src);
  throw new MigrationError('converge', `${why} while the source was in state ${again?.status ?? st}\n${dst.logTail(5)}`, {
    hint: 'the source guest keeps running',
  });
}

/** QEMU's figures, STOP→RESUME from the event timestamps, and both sides' events on one timeline from the migration start. */
async function migrationFigures(
  src: QemuInstanceHandle,
  dst: QemuInstanceHandle,
  events: EventWatch,
  info: MigrationInfo,
  wallMs: number,
  ramCheck: MigrationFigures['ramDiff'],
): Promise<MigrationFigures> {
  let stop: QmpEvent;
  let resume: QmpEvent;
  try {
    [stop, resume] = await Promise.all([events.stopped, events.resumed]);
  } catch (e) {
    throw new MigrationError('resume', `completed, but no STOP/RESUME pair: ${(e as Error).message}`, { cause: e });
  }
  const srcEvents = src.qmp.events.history.slice(events.srcFrom);
  const t0Us = stop.qemuTsUs - (info['total-time'] ?? 0) * 1000; // anchor: approximate start on QEMU's clock
  const anchor = srcEvents.find((e) => e.event === 'MIGRATION' && e.data.status === 'setup')?.qemuTsUs ?? t0Us;
  const entry = (side: 'src' | 'dst') => (e: QmpEvent) => ({ side, event: e.event, data: e.data, tMs: (e.qemuTsUs - anchor) / 1000 });
  const timeline: TimelineEntry[] = [...srcEvents.map(entry('src')), ...dst.qmp.events.history.slice(events.dstFrom).map(entry('dst'))].sort(
    (a, b) => a.tMs - b.tMs,
  );
  return {
    status: 'completed',
    totalMs: info['total-time'] ?? wallMs,
    setupMs: info['setup-time'] ?? 0,
    downtimeMs: info.downtime ?? 0,
    stopResumeMs: (resume.qemuTsUs - stop.qemuTsUs) / 1000,
    wallMs,
    ramTransferredBytes: info.ram?.transferred ?? 0,
    ramTotalBytes: info.ram?.total ?? 0,
    dirtySyncCount: info.ram?.['dirty-sync-count'] ?? 0,
    mbps: info.ram?.mbps ?? 0,
    timeline,
    startEpochMs: anchor / 1000,
    resumeEpochMs: resume.qemuTsUs / 1000,
    ...(ramCheck ? { ramDiff: ramCheck } : {}),
  };
}

/** After a failed migration: make sure the source guest runs (QEMU restarts it; `cont` if it did not). */
export async function ensureSourceRunning(src: QemuInstanceHandle, log: Logger): Promise<string> {
  if (!src.alive || src.qmp.state !== 'running') return 'source QEMU is gone';
  for (let i = 0; i < 50; i++) {
    const st = await src.qmp.queryStatus({ timeoutMs: 2000 }).catch(() => undefined);
    if (st?.status === 'running') return 'running';
    if (st && (st.status === 'postmigrate' || st.status === 'paused' || st.status === 'finish-migrate') && i > 10) {
      log.warn(`source ${src.name} is ${st.status} after the failed migration: cont`);
      await src.qmp.cont({ timeoutMs: 2000 }).catch(() => undefined);
    }
    await sleep(100);
  }
  const st = await src.qmp.queryStatus({ timeoutMs: 2000 }).catch(() => undefined);
  return st?.status ?? 'unknown';
}

/** Pages (4 KiB) whose content differs between the two dumps: count and the first few addresses. */
export function diffPages(a: Buffer, b: Buffer, page = 4096, sample = 16): { pages: number; first: string[] } {
  let pages = 0;
  const first: string[] = [];
  const len = Math.min(a.length, b.length);
  for (let off = 0; off < len; off += page) {
    const end = Math.min(off + page, len);
    if (a.compare(b, off, end, off, end) !== 0) {
      pages++;
      if (first.length < sample) first.push(`0x${off.toString(16)}`);
    }
  }
  if (a.length !== b.length) pages++;
  return { pages, first };
}

/**
 * diffPages over two files, 1 MiB at a time: a guest's RAM dump can be 2 GiB, more than one Buffer
 * (readFileSync) holds, and two of them in memory would be wasteful anyway.
 */
export function diffFiles(pathA: string, pathB: string, page = 4096, sample = 16, chunk = 1 << 20): { pages: number; first: string[] } {
  const fa = openSync(pathA, 'r');
  try {
    const fb = openSync(pathB, 'r');
    try {
      const la = fstatSync(fa).size;
      const lb = fstatSync(fb).size;
      const ba = Buffer.alloc(chunk);
      const bb = Buffer.alloc(chunk);
      let pages = 0;
      const first: string[] = [];
      const len = Math.min(la, lb);
      for (let off = 0; off < len; off += chunk) {
        const n = Math.min(chunk, len - off);
        readSync(fa, ba, 0, n, off);
        readSync(fb, bb, 0, n, off);
        if (ba.subarray(0, n).equals(bb.subarray(0, n))) continue;
        const d = diffPages(ba.subarray(0, n), bb.subarray(0, n), page, sample);
        pages += d.pages;
        for (const a of d.first) if (first.length < sample) first.push(`0x${(off + Number.parseInt(a, 16)).toString(16)}`);
      }
      if (la !== lb) pages++;
      return { pages, first };
    } finally {
      closeSync(fb);
    }
  } finally {
    closeSync(fa);
  }
}

/**
 * MIGRATION_VERIFY_RAM: the destination (started with -S) is paused after the migration and the source
 * is in postmigrate (vCPUs and vhost backends stopped), so both RAMs must be identical. Dumps
 * guest-physical [0, min(RAM, 2 GiB)) of both with `pmemsave` into `dir`, compares page by page, then
 * `cont`s the destination. Returns the differing pages.
 */
export async function verifyGuestRam(
  src: QemuInstanceHandle,
  dst: QemuInstanceHandle,
  dir: string,
  log: Logger,
): Promise<{ pages: number; first: string[]; bytes: number }> {
  const call = { timeoutMs: 60_000 };
  for (let i = 0; ; i++) {
    const st = await dst.qmp.queryStatus({ timeoutMs: 5000 });
    if (st.status === 'paused') break;
    if (i >= 500)
      throw new MigrationError('verify', `destination ${dst.name} is ${st.status}, not paused, after the migration (MIGRATION_VERIFY_RAM needs it paused)`);
    await sleep(10);
  }
  const summary = await src.qmp.execute<{ 'base-memory': number }>('query-memory-size-summary', undefined, call);
  const bytes = Math.min(summary['base-memory'], 2 ** 31);
  const fa = join(dir, `ram-${src.name}.bin`);
  const fb = join(dir, `ram-${dst.name}.bin`);
  try {
    await src.qmp.execute('pmemsave', { val: 0, size: bytes, filename: fa }, call);
    await dst.qmp.execute('pmemsave', { val: 0, size: bytes, filename: fb }, call);
    const d = diffFiles(fa, fb);
    const msg = `RAM check ${src.name} → ${dst.name}: ${d.pages} of ${bytes / 4096} page(s) differ${d.pages ? `: ${d.first.join(', ')}${d.pages > d.first.length ? ', …' : ''}` : ''}`;
    if (d.pages) log.warn(msg);
    else log.info(msg);
    return { ...d, bytes };
  } catch (e) {
    if (e instanceof VsperfError) throw e;
    throw new MigrationError('verify', `MIGRATION_VERIFY_RAM: dumping guest RAM failed: ${(e as Error).message}`, { cause: e });
  } finally {
    rmSync(fa, { force: true });
    rmSync(fb, { force: true });
    await dst.qmp.cont({ timeoutMs: 5000 }).catch(() => undefined);
  }
}
