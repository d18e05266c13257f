/**
 * Real NICs for the dpdk backend: the TRAFFICGEN_PORTS entries with `pci` are bound to vfio-pci for the
 * run and given back to their driver at close (and by the janitor after a crash: every sysfs write is
 * journalled with the write that undoes it). The checks run before anything is changed, as the SR-IOV
 * passthrough preflight does them (vnfs/qemu/passthrough.ts): device present, IOMMU group present and
 * viable, vfio-pci loadable, locked memory; after binding, the device on vfio-pci and its /dev/vfio
 * node usable. The sysfs root and /dev/vfio are injectable (SRIOV_SYSFS_ROOT, VFIO_DEV_DIR) so the
 * logic is tested against a fake tree.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { exec } from '../../framework/host/exec.js';
import type { Host } from '../../framework/host/host.js';
import {
  iommuGroup,
  iommuGroupBlockers,
  memlockShortfall,
  PCI_ADDRESS_RE,
  PciBinder,
  pciDevicePath,
  pciDriver,
  vfioNodeProblem,
} from '../../framework/host/pci.js';
import type { Logger } from '../../framework/log/logger.js';
import { DpdkSetupError } from './dpdk.js';

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

/** The checks that need no change to the host. Throws DpdkSetupError; returns each device's driver. */
export function preflightNics(pcis: readonly string[], o: Omit<NicBindOptions, 'host' | 'log'> = {}): Map<string, string | undefined> {
  const sys = o.sysfsRoot ?? '/sys';
  const drivers = new Map<string, string | undefined>();
  const groups = new Map<string, string>();
  for (const pci of pcis) {
    if (!PCI_ADDRESS_RE.test(pci)) throw new DpdkSetupError('no-device', `"${pci}" is not a full PCI address`, 'write it as lspci -D does, e.g. 0000:05:00.0');
    if (drivers.has(pci)) throw new DpdkSetupError('no-device', `PCI device ${pci} is named by two TRAFFICGEN_PORTS entries`, 'one port per device');
    if (!existsSync(pciDevicePath(sys, pci)))
      throw new DpdkSetupError('no-device', `PCI device ${pci} (TRAFFICGEN_PORTS) not found`, 'lspci -D lists the addresses');
    const group = iommuGroup(sys, pci);
    if (group === undefined)
      throw new DpdkSetupError('iommu', `PCI device ${pci} has no IOMMU group (the IOMMU is off)`, 'boot with intel_iommu=on iommu=pt (amd_iommu=on on AMD)');
    drivers.set(pci, pciDriver(sys, pci));
    groups.set(pci, group);
  }
  for (const [pci, group] of groups) {
    // Devices of the group that stay on a kernel driver would make the group unusable for vfio.
    const blockers = iommuGroupBlockers(sys, group, pcis);
    if (blockers.length)
      throw new DpdkSetupError(
        'iommu',
        `PCI device ${pci}: IOMMU group ${group} also holds ${blockers.map((b) => `${b.pci} (${b.driver})`).join(', ')}, which stay on kernel drivers`,
        'put those devices in TRAFFICGEN_PORTS too, unbind them, or use a slot with its own group (ACS)',
      );
  }
  const limit = pcis.length ? memlockShortfall(DPDK_DMA_MIB * 1024 * 1024, o) : undefined;
  if (limit !== undefined)
    throw new DpdkSetupError(
      'memlock',
      `vfio pins the engine's ${DPDK_DMA_MIB} MiB of DMA memory but the locked-memory limit is ${Math.floor(limit / 1024)} KiB`,
      'ulimit -l unlimited (LimitMEMLOCK=infinity for a service) or run as root',
    );
  return drivers;
}

/**
 * Bind `pcis` to vfio-pci (those not on it yet), journalled; returns the PciBinder whose release() gives
 * every device back to its driver. Nothing is changed when a check fails; a bind the kernel refuses
 * undoes what was done before the error is thrown.
 */
export async function bindNicsForDpdk(pcis: readonly string[], o: NicBindOptions): Promise<PciBinder> {
  const sys = o.sysfsRoot ?? '/sys';
  const drivers = preflightNics(pcis, o);
  const binder = new PciBinder(o.host, { log: o.log, sysfsRoot: sys, ...(o.write ? { write: o.write } : {}), ...(o.run ? { run: o.run } : {}) });
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
        await binder.bind(pci, 'vfio-pci');
      } catch (e) {
        throw new DpdkSetupError(
          'not-bound',
          `PCI device ${pci}: the kernel refused to bind it to vfio-pci (${(e as Error).message})`,
          'dmesg shows the reason',
        );
      }
      if (binder.driver(pci) !== 'vfio-pci')
        throw new DpdkSetupError(
          'not-bound',
          `PCI device ${pci} is on ${binder.driver(pci) ?? 'no driver'} after binding it to vfio-pci`,
          'dmesg shows the reason',
        );
      const group = iommuGroup(sys, pci)!;
      const vfioDir = o.vfioDir ?? '/dev/vfio';
      const problem = vfioNodeProblem(vfioDir, group);
      if (problem)
        throw new DpdkSetupError(
          'no-vfio',
          `PCI device ${pci}: ${join(vfioDir, group)} ${problem} (IOMMU group ${group})`,
          'modprobe vfio-pci and bind the device to it; run as root or give the user access to the group node',
        );
    }
  } catch (e) {
    await binder.release();
    throw e;
  }
  return binder;
}

async function defaultRun(argv: readonly string[]): Promise<void> {
  await exec(argv);
}
