/**
 * PCI devices through sysfs, for every driver that hands a device to vfio (the Software generator's dpdk
 * backend, SR-IOV VFs, QEMU passthrough): what a device is bound to, its IOMMU group and whether that group
 * is viable, the /dev/vfio node, the locked-memory limit, and a journalled bind/unbind. The checks return
 * what they found and leave the wording of the error to the caller, whose setting (TRAFFICGEN_PORTS,
 * WHITELIST_NICS) the user has to change. The sysfs root and /dev/vfio are parameters so the logic is tested
 * against a fake tree.
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { EnvironmentError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { exec } from './exec.js';
import type { Host } from './host.js';

/** A full PCI address as `lspci -D` prints it (domain included, lower case). */
export const PCI_ADDRESS_RE = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;

/** sysfs path of a device (or of a file below it). */
export function pciDevicePath(sysfsRoot: string, pci: string, ...rest: string[]): string {
  return join(sysfsRoot, 'bus/pci/devices', pci, ...rest);
}

/** Kernel driver a device is bound to, or undefined. */
export function pciDriver(sysfsRoot: string, pci: string): string | undefined {
  const p = pciDevicePath(sysfsRoot, pci, 'driver');
  return existsSync(p) ? basename(readlinkSync(p)) : undefined;
}

/** vfio-pci or one of its vendor variants (e.g. mlx5_vfio_pci). */
export function isVfioDriver(driver: string): boolean {
  return driver === 'vfio-pci' || /vfio[-_]pci$/.test(driver);
}

/** IOMMU group of a device, or undefined when it has none (the IOMMU is off). */
export function iommuGroup(sysfsRoot: string, pci: string): string | undefined {
  const link = pciDevicePath(sysfsRoot, pci, 'iommu_group');
  return existsSync(link) ? basename(readlinkSync(link)) : undefined;
}

/** Every device of an IOMMU group, sorted. */
export function iommuGroupDevices(sysfsRoot: string, group: string): string[] {
  const dir = join(sysfsRoot, 'kernel/iommu_groups', group, 'devices');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** Drivers that do not make an IOMMU group unviable, besides the vfio ones (the kernel's viability rule). */
const GROUP_SAFE_DRIVERS = new Set(['pci-stub', 'pcieport']);

/**
 * The devices of `group` that make it unusable for vfio: those on a kernel driver other than vfio,
 * pci-stub or pcieport. `except` are devices the caller binds to vfio itself.
 */
export function iommuGroupBlockers(sysfsRoot: string, group: string, except: readonly string[]): { pci: string; driver: string }[] {
  return iommuGroupDevices(sysfsRoot, group).flatMap((pci) => {
    if (except.includes(pci)) return [];
    const driver = pciDriver(sysfsRoot, pci);
    return driver === undefined || isVfioDriver(driver) || GROUP_SAFE_DRIVERS.has(driver) ? [] : [{ pci, driver }];
  });
}

/** Why /dev/vfio/<group> cannot be opened ('missing', or the errno code), or undefined when it can. */
export function vfioNodeProblem(vfioDir: string, group: string): string | undefined {
  try {
    accessSync(join(vfioDir, group), constants.R_OK | constants.W_OK);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'missing' : `not usable (${code})`;
  }
}

/** RLIMIT_MEMLOCK soft limit of this process in bytes (Infinity when unlimited or unreadable). */
export function memlockLimitBytes(limitsFile = '/proc/self/limits'): number {
  try {
    const line = readFileSync(limitsFile, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max locked memory'));
    const soft = line?.slice('Max locked memory'.length).trim().split(/\s+/)[0];
    return soft === undefined || soft === 'unlimited' ? Infinity : Number(soft);
  } catch {
    return Infinity;
  }
}

/**
 * vfio pins the memory it maps for DMA: the locked-memory limit when it is below `bytes` and the process
 * may not lock any amount (root), otherwise undefined.
 */
export function memlockShortfall(bytes: number, o: { memlockBytes?: number; privileged?: boolean } = {}): number | undefined {
  if (bytes <= 0 || (o.privileged ?? process.geteuid?.() === 0)) return undefined;
  const limit = o.memlockBytes ?? memlockLimitBytes();
  return limit < bytes ? limit : undefined;
}

export interface PciBinderOptions {
  readonly sysfsRoot?: string;
  /** Command runner for `modprobe` and friends (tests record argv instead). */
  readonly run?: (argv: readonly string[]) => Promise<void>;
  /** Writes to sysfs files (tests: a fake kernel that acts on them, with the real one's errors). */
  readonly write?: (path: string, value: string) => void;
  readonly log: Logger;
}

/**
 * Binds devices to a driver through `driver_override` + unbind/bind. Every change is journalled with the
 * write that undoes it (for the janitor after a crash) and undone by release(), newest first.
 */
export class PciBinder {
  protected readonly root: string;
  protected readonly runCmd: (argv: readonly string[]) => Promise<void>;
  protected readonly write: (path: string, value: string) => void;
  protected readonly log: Logger;
  private readonly releases: Array<() => Promise<void>> = [];

  constructor(
    protected readonly host: Host,
    o: PciBinderOptions,
  ) {
    this.root = o.sysfsRoot ?? '/sys';
    this.runCmd = o.run ?? (async (argv) => void (await exec(argv)));
    this.write = o.write ?? ((path, value) => writeFileSync(path, value));
    this.log = o.log;
  }

  /** Undo every change, newest first. */
  async release(): Promise<void> {
    while (this.releases.length) await this.releases.pop()!();
  }

  /** Journal a change: `restore` is written to `path` to undo it (release() or the janitor). */
  protected journalled(path: string, restore: string, what: string, undo: () => void): void {
    this.releases.push(this.host.track({ kind: 'sysctl', id: this.host.journal.nextId('sysctl'), path, restore }, what, undo));
  }

  protected dev(pci: string, ...rest: string[]): string {
    return pciDevicePath(this.root, pci, ...rest);
  }

  exists(pci: string): boolean {
    return existsSync(this.dev(pci));
  }

  /** Kernel driver bound to a device, or undefined. */
  driver(pci: string): string | undefined {
    return pciDriver(this.root, pci);
  }

  /** Bind a device to `driver` (vfio-pci for DPDK or a guest); the original driver is re-bound at release. */
  async bind(pci: string, driver: string): Promise<void> {
    const orig = this.driver(pci);
    if (orig === driver) return;
    const drvDir = join(this.root, 'bus/pci/drivers', driver);
    if (!existsSync(drvDir)) {
      await this.runCmd(['modprobe', driver]);
      if (!existsSync(drvDir)) throw new EnvironmentError(`driver ${driver} is not available (${drvDir} missing after modprobe)`);
    }
    const override = this.dev(pci, 'driver_override');
    // Journal in the order the janitor must undo in reverse: rebind original ← clear override ← unbind.
    if (orig) {
      const origBind = join(this.root, 'bus/pci/drivers', orig, 'bind');
      this.journalled(origBind, pci, `bind ${pci} to ${orig}`, () => this.write(origBind, pci));
    }
    this.journalled(override, '\n', `clear driver_override of ${pci}`, () => this.write(override, '\n'));
    this.write(override, driver);
    if (orig) this.write(join(this.root, 'bus/pci/drivers', orig, 'unbind'), pci);
    // Journalled only once bound: a refused bind leaves nothing to unbind (the kernel's ENODEV otherwise).
    this.write(join(drvDir, 'bind'), pci);
    const unbind = join(drvDir, 'unbind');
    this.journalled(unbind, pci, `unbind ${pci} from ${driver}`, () => this.write(unbind, pci));
    this.log.info(`pci: ${pci} ${orig ?? '(no driver)'} → ${driver}`);
  }
}
