/**
 * QemuPciPassthrough (VSPERF's name): a QEMU guest whose NICs are host PCI devices (NICs or SR-IOV VFs
 * on vfio-pci) handed over with `-device vfio-pci,host=…`, for `--vswitch none` pvp. The guest itself is
 * a QemuVm (same image, boot watch, stop sequence); this driver adds the preflight (passthrough.ts)
 * before QEMU starts and turns QEMU's own vfio failure into one PassthroughError line. A guest with a
 * passed-through device cannot be live-migrated, so this VNF is not a MigratableVnf.
 */
import type { DriverContext } from '../../framework/api/driver.js';
import { DriverError } from '../../framework/errors.js';
import type { PciPassthroughVnf, VnfAttachment } from '../types.js';
import { QemuVm } from './qemu-vm.js';
import { PassthroughError, preflightPassthrough, qemuVfioError, type PassthroughDevice } from './passthrough.js';

const DRIVER = 'QemuPciPassthrough';

export class QemuPciPassthrough implements PciPassthroughVnf {
  readonly pciPassthrough = true as const;
  private readonly vm: QemuVm;
  private devices: readonly string[] = [];
  private checked: PassthroughDevice[] = [];

  constructor(private readonly ctx: DriverContext) {
    this.vm = new QemuVm(ctx);
  }

  get name(): string {
    return this.vm.name;
  }

  /** Aborted when the guest's QEMU dies unexpectedly (the deployment watches it). */
  get health(): AbortSignal {
    return this.vm.health;
  }

  attach(a: VnfAttachment): void {
    if (!a.pciDevices?.length)
      throw new DriverError(DRIVER, 'attach', 'no PCI devices given (the deployment passes WHITELIST_NICS; use --vswitch none with pvp)', { kind: 'usage' });
    this.vm.attach(a);
    this.devices = [...a.pciDevices];
  }

  /** Preflight every device, then start QEMU with them. Nothing is started when a check fails. */
  async start(signal?: AbortSignal): Promise<void> {
    if (!this.devices.length) throw new DriverError(DRIVER, 'start', `${this.name} has no PCI devices attached`, { kind: 'usage' });
    const s = this.ctx.settings;
    this.checked = preflightPassthrough(this.devices, {
      sysfsRoot: String(s.getOr('SRIOV_SYSFS_ROOT', '/sys')),
      vfioDir: String(s.getOr('VFIO_DEV_DIR', '/dev/vfio')),
      memoryMiB: this.vm.config.memoryMiB,
    });
    this.ctx.log.info(`${this.name}: passing ${this.checked.map((d) => `${d.pci} (IOMMU group ${d.iommuGroup})`).join(', ')} to the guest`);
    await this.vm.start(signal);
  }

  async waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    try {
      await this.vm.waitReady(timeoutMs, signal);
    } catch (e) {
      // QEMU refused a device (group busy, device gone, IOMMU fault): say which, in one line.
      const v = qemuVfioError(this.vm.current.logTail(40), this.devices);
      if (v)
        throw new PassthroughError(v.device, 'qemu', `QEMU could not attach it: ${v.reason}`, 'see the real-hardware checklist in the README (SR-IOV section)');
      throw e;
    }
  }

  stop(): Promise<void> {
    return this.vm.stop();
  }

  facts(): Readonly<Record<string, string | number | boolean>> {
    return {
      ...this.vm.facts(),
      guest_pci_devices: this.devices.join(','),
      ...(this.checked.length ? { guest_iommu_groups: this.checked.map((d) => d.iommuGroup).join(',') } : {}),
    };
  }
}

export async function createQemuPciPassthrough(ctx: DriverContext): Promise<QemuPciPassthrough> {
  return new QemuPciPassthrough(ctx);
}
