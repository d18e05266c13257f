import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Settings } from '../../../../framework/config/settings.js';
import { dpdkNicChecks } from '../../../../framework/fidelity/check-host.js';

describe('--check-host: generator NICs for the dpdk backend', () => {
  it('fails a missing device or one without IOMMU group, warns about a kernel driver, passes vfio-pci', () => {
    const sys = mkdtempSync(join(tmpdir(), 'vsg-sys-'));
    try {
      const dev = (pci: string, driver?: string, group = true): void => {
        const d = join(sys, 'bus/pci/devices', pci);
        mkdirSync(d, { recursive: true });
        if (group) {
          mkdirSync(join(sys, 'kernel/iommu_groups/7'), { recursive: true });
          symlinkSync(join(sys, 'kernel/iommu_groups/7'), join(d, 'iommu_group'));
        }
        if (driver) {
          mkdirSync(join(sys, 'bus/pci/drivers', driver), { recursive: true });
          symlinkSync(join(sys, 'bus/pci/drivers', driver), join(d, 'driver'));
        }
      };
      dev('0000:05:00.0', 'ixgbe');
      dev('0000:05:00.1', 'vfio-pci');
      dev('0000:06:00.0', 'ixgbe', false);
      const s = new Settings({
        TRAFFICGEN_PORTS: [
          { name: 'a', pci: '0000:05:00.0' },
          { name: 'b', pci: '0000:05:00.1' },
          { name: 'c', pci: '0000:06:00.0' },
          { name: 'd', pci: '0000:99:00.0' },
          { name: 'veth0' },
        ],
      });
      const c = dpdkNicChecks(s, sys);
      expect(c.map((x) => [x.name, x.status])).to.deep.equal([
        ['dpdk-nic 0000:05:00.0', 'warn'],
        ['dpdk-nic 0000:05:00.1', 'pass'],
        ['dpdk-nic 0000:06:00.0', 'fail'],
        ['dpdk-nic 0000:99:00.0', 'fail'],
      ]);
      expect(c[0]!.detail).to.match(/on ixgbe: the Software generator binds it to vfio-pci/);
      expect(c[2]!.fix).to.match(/intel_iommu=on/);
      expect(dpdkNicChecks(new Settings({}), sys)).to.deep.equal([]);
    } finally {
      rmSync(sys, { recursive: true, force: true });
    }
  });
});
