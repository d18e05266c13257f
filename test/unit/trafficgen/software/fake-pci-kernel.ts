/**
 * A strict fake of the kernel behind /sys/bus/pci for binding tests: the tree is built by fake-sysfs.ts
 * (directories and symlinks shaped as the kernel's), and writes go through `write`, which acts on them
 * as the PCI core does and fails as it does:
 *   drivers/<d>/unbind <pci>   ENODEV unless the device is bound to <d>; else the driver link goes away
 *   drivers/<d>/bind <pci>     ENODEV for no such device or a driver_override naming another driver,
 *                              EBUSY when the device already has a driver, EINVAL (vfio-pci's probe)
 *                              without an IOMMU group; else the driver link appears
 *   devices/<pci>/driver_override   a driver name, or "\n" to clear it ("(null)" is read back)
 * Anything else is a write the real tree would refuse (EACCES), so a stray write fails the test.
 * `modprobe(name)` loads a driver only when `modules` holds it.
 */
import { existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';

function errno(code: string, path: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: write ${path}`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

export class FakePciKernel {
  /** Every accepted write, in order: [path relative to the root, value]. */
  readonly writes: [string, string][] = [];
  /** Refuse the next bind to this driver with this errno (a probe that fails on real hardware). */
  failNextBind: { driver: string; code: string } | undefined;

  constructor(
    private readonly root: string,
    private readonly modules: readonly string[] = ['vfio-pci'],
  ) {}

  private dev(pci: string, ...rest: string[]): string {
    return join(this.root, 'bus/pci/devices', pci, ...rest);
  }

  readonly write = (path: string, value: string): void => {
    const rel = relative(this.root, path).split(sep);
    const v = value.trim();
    if (rel[0] === 'bus' && rel[1] === 'pci' && rel[2] === 'drivers' && rel.length === 5 && (rel[4] === 'bind' || rel[4] === 'unbind')) {
      const driver = rel[3]!;
      if (!existsSync(join(this.root, 'bus/pci/drivers', driver))) throw errno('ENOENT', path);
      if (rel[4] === 'unbind') this.unbind(driver, v, path);
      else this.bind(driver, v, path);
    } else if (rel[0] === 'bus' && rel[2] === 'devices' && rel.length === 5 && rel[4] === 'driver_override') {
      if (!existsSync(this.dev(rel[3]!))) throw errno('ENOENT', path);
      writeFileSync(path, v === '' ? '(null)\n' : `${v}\n`);
    } else {
      throw errno('EACCES', path);
    }
    this.writes.push([rel.join('/'), v]);
  };

  private unbind(driver: string, pci: string, path: string): void {
    if (this.driver(pci) !== driver) throw errno('ENODEV', path);
    rmSync(this.dev(pci, 'driver'));
  }

  private bind(driver: string, pci: string, path: string): void {
    if (!existsSync(this.dev(pci))) throw errno('ENODEV', path);
    const override = readFileSync(this.dev(pci, 'driver_override'), 'utf8').trim();
    if (override !== '(null)' && override !== driver) throw errno('ENODEV', path);
    if (this.driver(pci) !== undefined) throw errno('EBUSY', path);
    if (driver === 'vfio-pci' && !existsSync(this.dev(pci, 'iommu_group'))) throw errno('EINVAL', path);
    if (this.failNextBind?.driver === driver) {
      const code = this.failNextBind.code;
      this.failNextBind = undefined;
      throw errno(code, path);
    }
    symlinkSync(join(this.root, 'bus/pci/drivers', driver), this.dev(pci, 'driver'));
  }

  driver(pci: string): string | undefined {
    const link = this.dev(pci, 'driver');
    return existsSync(link) ? basename(readlinkSync(link)) : undefined;
  }

  override(pci: string): string {
    return readFileSync(this.dev(pci, 'driver_override'), 'utf8').trim();
  }

  readonly modprobe = async (argv: readonly string[]): Promise<void> => {
    if (argv[0] !== 'modprobe' || argv.length !== 2) throw new Error(`unexpected command ${argv.join(' ')}`);
    if (!this.modules.includes(argv[1]!)) throw new Error(`modprobe: FATAL: Module ${argv[1]} not found`);
    const d = join(this.root, 'bus/pci/drivers', argv[1]!);
    mkdirSync(d, { recursive: true });
    for (const f of ['bind', 'unbind']) if (!existsSync(join(d, f))) writeFileSync(join(d, f), '');
  };
}
