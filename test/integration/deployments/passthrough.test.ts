/**
 * PCI passthrough (QemuPciPassthrough, --vswitch none pvp) on this host, which has no IOMMU and no
 * SR-IOV NIC: a real passthrough cannot run. What runs for real:
 *  - the whole pvp setup on a fake sysfs (two VFs of a fake PF, already on vfio-pci, each in its own
 *    IOMMU group, fake /dev/vfio nodes), so the preflight passes and a real QEMU is started with
 *    `-device vfio-pci,host=…` for devices the real host does not have: QEMU refuses, and the error is
 *    one PassthroughError line naming the device, with no QEMU process and no journal entry left;
 *  - the preflight on the real /sys for a device that does not exist and for a device not on vfio-pci
 *    (read-only: nothing on the host is rebound).
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { PassthroughError } from '../../../vnfs/qemu/passthrough.js';
import { fakeSysfs, fakeVfioDir } from '../../unit/deployments/sriov/fake-sysfs.js';
import { leftovers, makeCtx, NOTHING } from './helpers.js';

const PF = '0000:7e:00.0';
const VF = (i: number): string => `0000:7e:10.${i}`;

describe('deployments: pvp with PCI passthrough (QemuPciPassthrough, integration without IOMMU hardware)', function () {
  this.timeout(60_000);
  let root: string;

  before(() => {
    for (const d of [PF, VF(0), VF(1)]) expect(existsSync(join('/sys/bus/pci/devices', d)), `${d} must not exist on this host`).to.equal(false);
    root = mkdtempSync(join(tmpdir(), 'vsd-pt-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('QEMU refuses a vfio device the host does not have: one clear error, nothing left', async () => {
    const sys = join(root, 'sys');
    const vfio = join(root, 'vfio');
    fakeSysfs(sys, { pf: PF, vf: VF, vfDriver: 'vfio-pci', groups: [901, 902] });
    fakeVfioDir(vfio, [901, 902]);
    const t = makeCtx({
      VSWITCH: 'none',
      VNF: 'QemuPciPassthrough',
      WHITELIST_NICS: [`${PF}|vf0`, `${PF}|vf1`],
      TRAFFICGEN_PORTS: ['gen0', 'gen1'],
      SRIOV_SYSFS_ROOT: sys,
      VFIO_DEV_DIR: vfio,
      GUEST_TIMEOUT: [30],
    });
    let err: unknown;
    try {
      const dep = await (await t.registry.create('deployment', 'pvp', t.ctx)).build(t.ctx);
      await dep.setup(t.ctx.signal).then(
        () => expect.fail('setup should fail'),
        (e) => (err = e),
      );
      // QEMU ran and wrote why it refused the device (its log is in the work dir until dispose).
      const qemuLog = readFileSync(join(t.workDir, 'guest0-qemu.log'), 'utf8');
      expect(qemuLog).to.include(`vfio-pci,host=${VF(0)}`);
    } finally {
      const { errors, live } = await t.dispose();
      expect(errors).to.deep.equal([]);
      expect(live, 'journal entries left').to.deep.equal([]);
    }
    expect(err).to.be.instanceOf(PassthroughError);
    const pe = err as PassthroughError;
    expect(pe).to.include({ check: 'qemu', device: VF(0) });
    expect(pe.message).to.match(new RegExp(`^PCI passthrough of ${VF(0)}: QEMU could not attach it: vfio .*${VF(0)}.*no such host device`));
    expect(pe.message, 'one line').to.not.include('\n');
    // The deployment undid the SR-IOV set-up on the (fake) PF, and no QEMU of this test is running.
    expect(readFileSync(join(sys, 'bus/pci/devices', PF, 'sriov_numvfs'), 'utf8')).to.equal('0');
    const left = await leftovers({ tags: [], dirs: [t.workDir] });
    expect(left, JSON.stringify(left)).to.deep.equal(NOTHING);
  });

  it('preflight on the real /sys: a missing device and a device not on vfio-pci fail before QEMU starts', async () => {
    const t = makeCtx({ VSWITCH: 'none', GUEST_TIMEOUT: [30] });
    // A device the host has, read-only: whatever it is bound to, it is not vfio-pci here (no vfio module).
    const real = readdirSync('/sys/bus/pci/devices').sort()[0]!;
    const drvLink = join('/sys/bus/pci/devices', real, 'driver');
    const drv = existsSync(drvLink) ? basename(readlinkSync(drvLink)) : 'no driver';
    try {
      for (const [dev, check, text] of [
        ['0000:7e:1f.7', 'not-found', 'no such PCI device'],
        [real, 'not-vfio', `bound to ${drv}, not vfio-pci`],
      ] as const) {
        const vnf = await t.registry.create('vnf', 'QemuPciPassthrough', t.ctx);
        vnf.attach!({ index: 0, nics: [], pciDevices: [dev] });
        await vnf.start(t.ctx.signal).then(
          () => expect.fail('start should fail'),
          (e) => {
            expect(e).to.be.instanceOf(PassthroughError).and.include({ check, device: dev });
            expect((e as Error).message)
              .to.include(text)
              .and.not.include('\n');
          },
        );
        await vnf.stop();
      }
      expect(t.cleanup.size, 'no QEMU was spawned').to.equal(0);
    } finally {
      const { errors, live } = await t.dispose();
      expect(errors).to.deep.equal([]);
      expect(live).to.deep.equal([]);
    }
  });
});
