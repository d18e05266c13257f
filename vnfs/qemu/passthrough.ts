/**
 * PCI passthrough of host devices (NICs or SR-IOV VFs bound to vfio-pci) to a QEMU guest, as VSPERF's
 * QemuPciPassthrough does (`-device vfio-pci,host=…` per device). Pure parts: the argv and the reading
 * of QEMU's vfio error. The preflight reads sysfs (root injectable, SRIOV_SYSFS_ROOT) and the vfio
 * device directory (VFIO_DEV_DIR) and fails with one line naming the device and what to fix, before
 * QEMU is started:
 *   device exists → bound to vfio-pci → has an IOMMU group → /dev/vfio/<group> usable → every other
 *   device of the group on a vfio driver, pci-stub, pcieport or on no driver (the kernel's viability
 *   rule) → guest RAM lockable (vfio pins all of it: RLIMIT_MEMLOCK unless root).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { VsperfError } from '../../framework/errors.js';
import {
  iommuGroup,
  iommuGroupBlockers,
  iommuGroupDevices,
  isVfioDriver,
  memlockShortfall,
  PCI_ADDRESS_RE,
  pciDevicePath,
  pciDriver,
  vfioNodeProblem,
} from '../../framework/host/pci.js';

const PCI_IN_TEXT = /[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]/gi;

/** Which check failed (stable, for tests and results). */
export type PassthroughCheck = 'address' | 'duplicate' | 'not-found' | 'not-vfio' | 'no-iommu-group' | 'no-vfio-dev' | 'group-not-viable' | 'memlock' | 'qemu';

/** A device cannot be handed to the guest. One line: device, what is wrong, and (hint) what to do. */
export class PassthroughError extends VsperfError {
  readonly device: string;
  readonly check: PassthroughCheck;
  constructor(device: string, check: PassthroughCheck, message: string, hint?: string) {
    const kind = check === 'address' || check === 'duplicate' ? 'usage' : check === 'qemu' ? 'run' : 'environment';
    super('E_PASSTHROUGH', `PCI passthrough of ${device}: ${message}`, { kind, ...(hint ? { hint } : {}) });
    this.device = device;
    this.check = check;
  }
}

/** `-device vfio-pci,host=…,id=hostpciN` per device, in guest NIC order (eth0, eth1, …). */
export function vfioDeviceArgs(devices: readonly string[]): string[] {
  return devices.flatMap((pci, i) => {
    if (!PCI_ADDRESS_RE.test(pci)) throw new PassthroughError(pci, 'address', 'not a full PCI address (expected e.g. 0000:05:10.0)');
    return ['-device', `vfio-pci,host=${pci},id=hostpci${i}`];
  });
}

export interface PassthroughPreflightOptions {
  /** sysfs root (default /sys). */
  readonly sysfsRoot?: string;
  /** vfio device directory (default /dev/vfio). */
  readonly vfioDir?: string;
  /** Guest RAM QEMU pins for DMA (MiB); 0/undefined skips the locked-memory check. */
  readonly memoryMiB?: number;
  /** RLIMIT_MEMLOCK soft limit in bytes (Infinity = unlimited); default read from /proc/self/limits. */
  readonly memlockBytes?: number;
  /** The process may lock any amount (root, CAP_IPC_LOCK); default: euid 0. */
  readonly privileged?: boolean;
}

/** What the preflight found per device (for the results). */
export interface PassthroughDevice {
  readonly pci: string;
  readonly driver: string;
  readonly iommuGroup: string;
  /** Every device of the IOMMU group (the guest device included). */
  readonly groupDevices: readonly string[];
}

/** Check that `devices` can be passed to a guest; returns what was found, or throws a PassthroughError. */
export function preflightPassthrough(devices: readonly string[], o: PassthroughPreflightOptions = {}): PassthroughDevice[] {
  const sys = o.sysfsRoot ?? '/sys';
  const vfioDir = o.vfioDir ?? '/dev/vfio';
  const devDir = (pci: string, ...rest: string[]): string => pciDevicePath(sys, pci, ...rest);
  const seen = new Set<string>();
  const out: PassthroughDevice[] = [];
  for (const pci of devices) {
    if (!PCI_ADDRESS_RE.test(pci)) throw new PassthroughError(pci, 'address', 'not a full PCI address (expected e.g. 0000:05:10.0)');
    if (seen.has(pci)) throw new PassthroughError(pci, 'duplicate', 'named twice (a device can be given to one guest NIC only)');
    seen.add(pci);
    if (!existsSync(devDir(pci))) {
      throw new PassthroughError(
        pci,
        'not-found',
        `no such PCI device (${devDir(pci)} missing)`,
        'check WHITELIST_NICS against lspci -D; for "|vfN" entries the PF must have SR-IOV enabled',
      );
    }
    const driver = pciDriver(sys, pci);
    if (!driver || !isVfioDriver(driver)) {
      throw new PassthroughError(
        pci,
        'not-vfio',
        `bound to ${driver ?? 'no driver'}, not vfio-pci`,
        `modprobe vfio-pci; echo vfio-pci > ${devDir(pci, 'driver_override')}; echo ${pci} > ${join(sys, 'bus/pci/drivers/vfio-pci/bind')} (after unbinding it; the deployment does this for WHITELIST_NICS with SRIOV_VF_DRIVER=vfio-pci)`,
      );
    }
    const group = iommuGroup(sys, pci);
    if (group === undefined) {
      throw new PassthroughError(
        pci,
        'no-iommu-group',
        'has no IOMMU group (the IOMMU is off)',
        'enable VT-d / AMD-Vi in the BIOS and boot with intel_iommu=on iommu=pt (amd_iommu=on on AMD)',
      );
    }
    const nodeProblem = vfioNodeProblem(vfioDir, group);
    if (nodeProblem) {
      throw new PassthroughError(
        pci,
        'no-vfio-dev',
        `${join(vfioDir, group)} ${nodeProblem} (IOMMU group ${group})`,
        'modprobe vfio-pci and bind the device to it; run as root or give the user access to the group node',
      );
    }
    const blockers = iommuGroupBlockers(sys, group, [pci]).map((b) => `${b.pci} (${b.driver})`);
    if (blockers.length) {
      throw new PassthroughError(
        pci,
        'group-not-viable',
        `IOMMU group ${group} is not viable: ${blockers.join(', ')} in the same group ${blockers.length > 1 ? 'are' : 'is'} not on vfio-pci`,
        'bind every device of the group to vfio-pci (or unbind it), or use a slot/VF with its own group (ACS)',
      );
    }
    const members = iommuGroupDevices(sys, group);
    out.push({ pci, driver, iommuGroup: group, groupDevices: members.length ? members : [pci] });
  }
  const memMiB = o.memoryMiB ?? 0;
  const limit = devices.length ? memlockShortfall(memMiB * 1024 * 1024, o) : undefined;
  if (limit !== undefined) {
    throw new PassthroughError(
      devices[0]!,
      'memlock',
      `vfio pins all ${memMiB} MiB of guest RAM but the locked-memory limit is ${Math.floor(limit / 1024)} KiB`,
      `raise it (ulimit -l ${memMiB * 1024} or unlimited; LimitMEMLOCK= for services) or run as root`,
    );
  }
  return out;
}

/**
 * QEMU's own vfio failure in its output (e.g. `-device vfio-pci,host=X,id=hostpci0: vfio X: no such host
 * device`), as {device, reason} for one of `devices`; undefined when the output shows none.
 */
export function qemuVfioError(output: string, devices: readonly string[]): { device: string; reason: string } | undefined {
  for (const raw of output.split('\n')) {
    const line = raw.replace(/^(qemu: )?(serial: )?/, '').trim();
    if (!/vfio/i.test(line)) continue;
    const device = (line.match(PCI_IN_TEXT) ?? []).map((d) => d.toLowerCase()).find((d) => devices.includes(d));
    if (!device) continue;
    // Drop the program name and the "-device vfio-pci,…:" prefix QEMU puts before its message.
    const reason = line.replace(/^\S*qemu-system-\S+:\s*/, '').replace(/^-device\s+vfio-pci,\S*:\s*/, '');
    return { device, reason };
  }
  return undefined;
}
