import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Settings } from '../../../../framework/config/settings.js';
import { dpdkNicChecks, vfioCheck } from '../../../../framework/fidelity/check-host.js';

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
      const mods = join(sys, 'lib-modules');
      mkdirSync(mods);
      writeFileSync(join(mods, 'modules.dep'), 'kernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/vfio/vfio.ko\n');
      const c = dpdkNicChecks(s, sys, mods);
      expect(c.map((x) => [x.name, x.status])).to.deep.equal([
        ['dpdk-vfio-pci', 'pass'],
        ['dpdk-nic 0000:05:00.0', 'warn'],
        ['dpdk-nic 0000:05:00.1', 'pass'],
        ['dpdk-nic 0000:06:00.0', 'fail'],
        ['dpdk-nic 0000:99:00.0', 'fail'],
      ]);
      expect(c[1]!.detail).to.match(/on ixgbe: the Software generator binds it to vfio-pci/);
      expect(c[3]!.fix).to.match(/intel_iommu=on/);
      expect(dpdkNicChecks(new Settings({}), sys)).to.deep.equal([]);
      // vfio-pci not loaded: loadable (in modules.dep) is a warning, missing from the kernel a failure naming the fix.
      rmSync(join(sys, 'bus/pci/drivers/vfio-pci'), { recursive: true });
      expect(vfioCheck(sys, mods)).to.include({ status: 'warn', fix: 'modprobe vfio-pci' });
      writeFileSync(join(mods, 'modules.dep'), 'kernel/drivers/net/ethernet/intel/ixgbe/ixgbe.ko:\n');
      expect(vfioCheck(sys, mods).status).to.equal('fail');
      expect(vfioCheck(sys, mods).fix).to.match(/kernel modules package.*modprobe vfio-pci/);
    } finally {
      rmSync(sys, { recursive: true, force: true });
    }
  });
});
