/**
 * Real NICs for the dpdk backend: the TRAFFICGEN_PORTS entries with `pci` are bound to vfio-pci for the
 * run and given back to their driver at close (and by the janitor after a crash: every sysfs write is
 * journalled with the write that undoes it). The checks run before anything is changed, as the SR-IOV
 * passthrough preflight does them (vnfs/qemu/passthrough.ts): device present, IOMMU group present and
 * viable, vfio-pci loadable, locked memory; after binding, the device on vfio-pci and its /dev/vfio
 * node usable. The sysfs root and /dev/vfio are injectable (SRIOV_SYSFS_ROOT, VFIO_DEV_DIR) so the
 * logic is tested against a fake tree.
 */
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Sriov } from '../../deployments/sriov/sriov.js';
import { exec } from '../../framework/host/exec.js';
import type { Host } from '../../framework/host/host.js';
import type { Logger } from '../../framework/log/logger.js';
import { memlockLimitBytes, PassthroughError, preflightPassthrough } from '../../vnfs/qemu/passthrough.js';
import { DpdkSetupError, PCI_RE } from './dpdk.js';

export interface NicBindOptions {
  readonly host: Host;
  readonly log: Logger;
  readonly sysfsRoot?: string;
  readonly vfioDir?: string;
  /** Writes to sysfs (tests: a fake kernel). */
  readonly write?: (path: string, value: string) => void;
  /** `modprobe` and friends (tests: a fake). */
  readonly run?: (argv: readonly string[]) => Promise<void>;
  /** RLIMIT_MEMLOCK in bytes (default: this process's). */
  readonly memlockBytes?: number;
  /** May lock any amount (default: euid 0). */
  readonly privileged?: boolean;
}

/** Memory the engine's EAL maps for DMA through vfio (its hugepage floor): what RLIMIT_MEMLOCK must allow. */
export const DPDK_DMA_MIB = 64;

/** Drivers that do not make an IOMMU group unviable (besides vfio-pci). */
const GROUP_SAFE = new Set(['vfio-pci', 'pci-stub', 'pcieport']);

/** The checks that need no change to the host. Throws DpdkSetupError; returns each device's driver. */
export function preflightNics(pcis: readonly string[], o: Omit<NicBindOptions, 'host' | 'log'> = {}): Map<string, string | undefined> {
  const sys = o.sysfsRoot ?? '/sys';
  const dev = (pci: string, ...rest: string[]): string => join(sys, 'bus/pci/devices', pci, ...rest);
  const driverOf = (pci: string): string | undefined => (existsSync(dev(pci, 'driver')) ? basename(readlinkSync(dev(pci, 'driver'))) : undefined);
  const drivers = new Map<string, string | undefined>();
  for (const pci of pcis) {
    if (!PCI_RE.test(pci)) throw new DpdkSetupError('no-device', `"${pci}" is not a full PCI address`, 'write it as lspci -D does, e.g. 0000:05:00.0');
    if (drivers.has(pci)) throw new DpdkSetupError('no-device', `PCI device ${pci} is named by two TRAFFICGEN_PORTS entries`, 'one port per device');
    if (!existsSync(dev(pci))) throw new DpdkSetupError('no-device', `PCI device ${pci} (TRAFFICGEN_PORTS) not found`, 'lspci -D lists the addresses');
    if (!existsSync(dev(pci, 'iommu_group')))
      throw new DpdkSetupError('iommu', `PCI device ${pci} has no IOMMU group (the IOMMU is off)`, 'boot with intel_iommu=on iommu=pt (amd_iommu=on on AMD)');
    drivers.set(pci, driverOf(pci));
  }
  for (const pci of pcis) {
    const group = basename(readlinkSync(dev(pci, 'iommu_group')));
    const members = readdirSync(join(sys, 'kernel/iommu_groups', group, 'devices'));
    // Devices of the group that stay on a kernel driver would make the group unusable for vfio.
    const blockers = members.filter((m) => !pcis.includes(m) && driverOf(m) !== undefined && !GROUP_SAFE.has(driverOf(m)!));
    if (blockers.length)
      throw new DpdkSetupError(
        'iommu',
        `PCI device ${pci}: IOMMU group ${group} also holds ${blockers.map((b) => `${b} (${driverOf(b)})`).join(', ')}, which stay on kernel drivers`,
        'put those devices in TRAFFICGEN_PORTS too, unbind them, or use a slot with its own group (ACS)',
      );
  }
  const privileged = o.privileged ?? process.geteuid?.() === 0;
  const limit = o.memlockBytes ?? memlockLimitBytes();
  if (pcis.length && !privileged && limit < DPDK_DMA_MIB * 1024 * 1024)
    throw new DpdkSetupError(
      'memlock',
      `vfio pins the engine's ${DPDK_DMA_MIB} MiB of DMA memory but the locked-memory limit is ${Math.floor(limit / 1024)} KiB`,
      'ulimit -l unlimited (LimitMEMLOCK=infinity for a service) or run as root',
    );
  return drivers;
}

/**
 * Bind `pcis` to vfio-pci (those not on it yet), journalled; returns the Sriov whose release() gives
 * every device back to its driver. Nothing is changed when a check fails; a bind the kernel refuses
 * undoes what was done before the error is thrown.
 */
export async function bindNicsForDpdk(pcis: readonly string[], o: NicBindOptions): Promise<Sriov> {
  const sys = o.sysfsRoot ?? '/sys';
  const drivers = preflightNics(pcis, o);
  const sriov = new Sriov(o.host, { log: o.log, sysfsRoot: sys, ...(o.write ? { write: o.write } : {}), ...(o.run ? { run: o.run } : {}) });
  if ([...drivers.values()].some((d) => d !== 'vfio-pci') && !existsSync(join(sys, 'bus/pci/drivers/vfio-pci'))) {
    try {
      await (o.run ?? defaultRun)(['modprobe', 'vfio-pci']);
    } catch {
      /* judged just below */
    }
    if (!existsSync(join(sys, 'bus/pci/drivers/vfio-pci')))
      throw new DpdkSetupError(
        'no-vfio',
        'the vfio-pci driver is not available (modprobe vfio-pci failed)',
        'install the kernel modules package of the running kernel, then modprobe vfio-pci',
      );
  }
  try {
    for (const pci of pcis) {
      try {
        await sriov.bind(pci, 'vfio-pci');
      } catch (e) {
        throw new DpdkSetupError(
          'not-bound',
          `PCI device ${pci}: the kernel refused to bind it to vfio-pci (${(e as Error).message})`,
          'dmesg shows the reason',
        );
      }
      if (sriov.driver(pci) !== 'vfio-pci')
        throw new DpdkSetupError(
          'not-bound',
          `PCI device ${pci} is on ${sriov.driver(pci) ?? 'no driver'} after binding it to vfio-pci`,
          'dmesg shows the reason',
        );
    }
    preflightPassthrough(pcis, { sysfsRoot: sys, ...(o.vfioDir ? { vfioDir: o.vfioDir } : {}), memoryMiB: 0 });
  } catch (e) {
    await sriov.release();
    if (e instanceof PassthroughError) throw new DpdkSetupError(e.check === 'no-vfio-dev' ? 'no-vfio' : 'not-bound', e.message, e.hint);
    throw e;
  }
  return sriov;
}

async function defaultRun(argv: readonly string[]): Promise<void> {
  await exec(argv);
}
