import { readFileSync, writeFileSync } from 'node:fs';
import { EnvironmentError } from '../../framework/errors.js';
import type { Host } from '../../framework/host/host.js';
import type { HostOps } from '../../framework/host/host-ops.js';
import type { Logger } from '../../framework/log/logger.js';

export interface HugepageInfo {
  readonly total: number;
  readonly free: number;
  readonly sizeKb: number;
}

/** HugePages_Total / HugePages_Free / Hugepagesize from /proc/meminfo (path configurable for tests). */
export function readHugepages(meminfo = '/proc/meminfo'): HugepageInfo {
  return parseMeminfo(readFileSync(meminfo, 'utf8'));
}

export function parseMeminfo(text: string): HugepageInfo {
  const get = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { total: get('HugePages_Total'), free: get('HugePages_Free'), sizeKb: get('Hugepagesize') };
}

export interface HugepagePaths {
  readonly meminfo: string;
  readonly nrHugepages: string;
}
const DEFAULT_PATHS: HugepagePaths = { meminfo: '/proc/meminfo', nrHugepages: '/proc/sys/vm/nr_hugepages' };

/**
 * Make sure at least `needKb` of free default-size hugepages exist. If not, raise nr_hugepages by the
 * deficit (journalled, so a crashed run's janitor puts it back). At release the old count is restored
 * only if nobody changed it meanwhile (another run on the host may have raised it after us).
 * Returns the pages needed.
 */
export function ensureHugepages(host: Host, needKb: number, log: Logger, paths: HugepagePaths = DEFAULT_PATHS): number {
  const info = readHugepages(paths.meminfo);
  if (!Number.isFinite(info.sizeKb) || info.sizeKb <= 0)
    throw new EnvironmentError('no hugepage support in this kernel (Hugepagesize missing in /proc/meminfo)');
  const need = Math.ceil(needKb / info.sizeKb);
  if (info.free >= need) return need;
  const old = readFileSync(paths.nrHugepages, 'utf8').trim();
  const want = Number(old) + (need - info.free);
  log.info(`hugepages: ${info.free} free, ${need} needed: raising nr_hugepages ${old} → ${want}`);
  writeFileSync(paths.nrHugepages, String(want));
  host.track({ kind: 'sysctl', id: host.journal.nextId('sysctl'), path: paths.nrHugepages, restore: old }, `restore ${paths.nrHugepages}=${old}`, () => {
    const now = readFileSync(paths.nrHugepages, 'utf8').trim();
    if (now === String(want)) writeFileSync(paths.nrHugepages, old);
  });
  const after = readHugepages(paths.meminfo);
  if (after.free < need) {
    throw new EnvironmentError(`only ${after.free} of ${need} hugepages (${info.sizeKb} kB) could be reserved`, {
      hint: 'free memory, lower DPDK_SOCKET_MEM / dpdk-socket-limit, or reserve hugepages at boot (hugepages=N)',
    });
  }
  return need;
}

/** ensureHugepages on any host (another one over SSH): same rule, files read and written through HostOps. */
export async function ensureHugepagesOn(ops: HostOps, needKb: number, log: Logger, paths: HugepagePaths = DEFAULT_PATHS): Promise<number> {
  const read = async (): Promise<HugepageInfo> => parseMeminfo(await ops.readFile(paths.meminfo));
  const info = await read();
  if (!Number.isFinite(info.sizeKb) || info.sizeKb <= 0)
    throw new EnvironmentError(`${ops.name}: no hugepage support (Hugepagesize missing in ${paths.meminfo})`);
  const need = Math.ceil(needKb / info.sizeKb);
  if (info.free >= need) return need;
  const old = (await ops.readFile(paths.nrHugepages)).trim();
  const want = Number(old) + (need - info.free);
  log.info(`${ops.name}: hugepages: ${info.free} free, ${need} needed: raising nr_hugepages ${old} → ${want}`);
  await ops.writeFile(paths.nrHugepages, String(want));
  ops.track({ kind: 'sysctl', id: ops.nextId('sysctl'), path: paths.nrHugepages, restore: old }, `restore ${paths.nrHugepages}=${old}`, async () => {
    if ((await ops.readFile(paths.nrHugepages)).trim() === String(want)) await ops.writeFile(paths.nrHugepages, old);
  });
  const after = await read();
  if (after.free < need)
    throw new EnvironmentError(`${ops.name}: only ${after.free} of ${need} hugepages (${info.sizeKb} kB) could be reserved`, {
      hint: 'free memory, lower DPDK_SOCKET_MEM / dpdk-socket-limit, or reserve hugepages at boot (hugepages=N)',
    });
  return need;
}
