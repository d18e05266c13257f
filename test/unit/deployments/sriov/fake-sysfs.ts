/**
 * A fake sysfs tree (and /dev/vfio) for SR-IOV and PCI-passthrough tests: no SR-IOV NIC or IOMMU exists
 * here. Layout as the kernel has it: bus/pci/devices/<pci>/{driver,driver_override,iommu_group,virtfnN,
 * sriov_*}, bus/pci/drivers/<drv>/{bind,unbind}, kernel/iommu_groups/<n>/devices/<pci>. Writes to
 * bind/unbind files are recorded, not acted on (the driver links stay as built).
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const FAKE_PF = '0000:05:00.0';
export const fakeVf = (i: number): string => `0000:05:10.${i}`;

export const DRIVERS = ['ixgbe', 'ixgbevf', 'vfio-pci', 'pci-stub'] as const;

function dev(root: string, pci: string): string {
  return join(root, 'bus/pci/devices', pci);
}

/** Driver directories with recordable bind/unbind files. */
export function fakeDrivers(root: string, drivers: readonly string[] = DRIVERS): void {
  for (const d of drivers) {
    mkdirSync(join(root, 'bus/pci/drivers', d), { recursive: true });
    for (const f of ['bind', 'unbind']) writeFileSync(join(root, 'bus/pci/drivers', d, f), '');
  }
}

/** A plain PCI device bound to `driver` (none = no driver), optionally in IOMMU group `group`. */
export function fakeDevice(root: string, pci: string, o: { driver?: string | undefined; group?: number; netdev?: string } = {}): void {
  const d = dev(root, pci);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'driver_override'), '(null)\n');
  if (o.driver) symlinkSync(join(root, 'bus/pci/drivers', o.driver), join(d, 'driver'));
  if (o.netdev) mkdirSync(join(d, 'net', o.netdev), { recursive: true });
  if (o.group !== undefined) {
    const g = join(root, 'kernel/iommu_groups', String(o.group));
    mkdirSync(join(g, 'devices'), { recursive: true });
    symlinkSync(g, join(d, 'iommu_group'));
    symlinkSync(d, join(g, 'devices', pci));
  }
}

/**
 * A PF with 8 possible VFs on ixgbe (netdev enp5s0f0), `numVfs` enabled; VF 0 and 1 exist as
 * virtfnN links (the kernel creates them on the sriov_numvfs write). `vfDriver` is their driver,
 * `groups` puts VF i in IOMMU group groups[i].
 */
export function fakeSysfs(
  root: string,
  o: { numVfs?: number; vfDriver?: string; groups?: readonly number[]; pf?: string; vf?: (i: number) => string } = {},
): void {
  const pf = o.pf ?? FAKE_PF;
  const vf = o.vf ?? fakeVf;
  fakeDrivers(root);
  fakeDevice(root, pf, { driver: 'ixgbe', netdev: 'enp5s0f0' });
  writeFileSync(join(dev(root, pf), 'sriov_totalvfs'), '8\n');
  writeFileSync(join(dev(root, pf), 'sriov_numvfs'), `${o.numVfs ?? 0}\n`);
  for (let i = 0; i < 2; i++) {
    fakeDevice(root, vf(i), { driver: o.vfDriver ?? 'ixgbevf', ...(o.groups?.[i] !== undefined ? { group: o.groups[i]! } : {}) });
    symlinkSync(`../${vf(i)}`, join(dev(root, pf), `virtfn${i}`));
  }
}

/** /dev/vfio with the container node and one node per group. */
export function fakeVfioDir(dir: string, groups: readonly number[]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'vfio'), '');
  for (const g of groups) writeFileSync(join(dir, String(g)), '');
}
