/** PCI passthrough (QemuPciPassthrough): argv and preflight against a fake sysfs tree and /dev/vfio. */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Settings } from '../../../../framework/config/settings.js';
import { Host } from '../../../../framework/host/host.js';
import { Journal } from '../../../../framework/host/journal.js';
import { silentLogger } from '../../../../framework/log/logger.js';
import type { DriverContext } from '../../../../framework/api/driver.js';
import { CleanupStack } from '../../../../framework/runner/cleanup-stack.js';
import { qemuArgv } from '../../../../vnfs/qemu/cmdline.js';
import type { QemuConfig } from '../../../../vnfs/qemu/config.js';
import { testQemuConfig } from './helpers.js';
import { memlockLimitBytes } from '../../../../framework/host/pci.js';
import { PassthroughError, preflightPassthrough, qemuVfioError, vfioDeviceArgs, type PassthroughCheck } from '../../../../vnfs/qemu/passthrough.js';
import { QemuPciPassthrough } from '../../../../vnfs/qemu/pci-passthrough-vm.js';
import { isMigratable, isPciPassthroughVnf } from '../../../../vnfs/types.js';
import { fakeDevice, fakeSysfs, fakeVf, fakeVfioDir } from '../../deployments/sriov/fake-sysfs.js';

/** The test configuration as a passthrough guest runs: KVM, hugepage memory, the host CPU, 2 vCPUs. */
const cfg: QemuConfig = {
  ...testQemuConfig,
  accel: 'kvm',
  cpu: 'host',
  memoryMiB: 1024,
  smp: 2,
  memBackend: 'hugepages',
  vectors: undefined,
  extraArgs: [],
};
const files = { name: 'guest0', qmpSocket: '/w/guest0-qmp.sock', serialLog: '/w/guest0-serial.log' };
const VF0 = fakeVf(0);
const VF1 = fakeVf(1);

function fails(fn: () => unknown, check: PassthroughCheck, text: string): PassthroughError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(PassthroughError);
    const pe = e as PassthroughError;
    expect(pe.check).to.equal(check);
    expect(pe.message).to.include(text);
    expect(pe.message, 'one line').to.not.include('\n');
    return pe;
  }
  return expect.fail(`expected a ${check} PassthroughError`);
}

describe('vnfs/qemu/passthrough (QemuPciPassthrough)', () => {
  let root: string;
  let sys: string;
  let vfio: string;
  const ok = () => ({ sysfsRoot: sys, vfioDir: vfio, privileged: true });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'vsd-pt-'));
    sys = join(root, 'sys');
    vfio = join(root, 'dev-vfio');
    // Two VFs on vfio-pci, each alone in its IOMMU group (what a host with ACS gives).
    fakeSysfs(sys, { numVfs: 2, vfDriver: 'vfio-pci', groups: [41, 42] });
    fakeVfioDir(vfio, [41, 42]);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('argv: one -device vfio-pci,host=… per device in NIC order, counted as guest NICs, before QMP', () => {
    expect(vfioDeviceArgs([VF0, VF1])).to.deep.equal(['-device', `vfio-pci,host=${VF0},id=hostpci0`, '-device', `vfio-pci,host=${VF1},id=hostpci1`]);
    const argv = qemuArgv({ ...cfg, pciDevices: [VF0, VF1] }, 0, [], files);
    const a = argv.join(' ');
    expect(a).to.include('vsperf.loopback=linux_bridge vsperf.nics=2');
    expect(a).to.include(`-device vfio-pci,host=${VF0},id=hostpci0 -device vfio-pci,host=${VF1},id=hostpci1 -qmp unix:`);
    expect(a).to.include('-object memory-backend-file,id=mem,size=1024M,mem-path=/dev/hugepages,share=on');
    expect(a).to.not.include('vhost-user');
    // Without passthrough devices the command line is unchanged.
    expect(qemuArgv(cfg, 0, [], files).join(' ')).to.not.include('vfio');
    fails(() => vfioDeviceArgs(['05:10.0']), 'address', 'not a full PCI address');
  });

  it('preflight passes for VFs on vfio-pci in their own groups and reports what it found', () => {
    expect(preflightPassthrough([VF0, VF1], ok())).to.deep.equal([
      { pci: VF0, driver: 'vfio-pci', iommuGroup: '41', groupDevices: [VF0] },
      { pci: VF1, driver: 'vfio-pci', iommuGroup: '42', groupDevices: [VF1] },
    ]);
  });

  it('preflight: missing device, wrong driver, no IOMMU group, no /dev/vfio node (one line each, with a hint)', () => {
    fails(() => preflightPassthrough(['0000:06:00.0'], ok()), 'not-found', 'no such PCI device');
    fakeDevice(sys, '0000:05:00.1', { driver: 'ixgbe', group: 43 });
    const e = fails(() => preflightPassthrough(['0000:05:00.1'], ok()), 'not-vfio', 'bound to ixgbe, not vfio-pci');
    expect(e.hint).to.include('driver_override');
    expect(e.exitCode).to.equal(3);
    fakeDevice(sys, '0000:05:00.2');
    fails(() => preflightPassthrough(['0000:05:00.2'], ok()), 'not-vfio', 'bound to no driver');
    fakeDevice(sys, '0000:05:00.3', { driver: 'vfio-pci' });
    expect(fails(() => preflightPassthrough(['0000:05:00.3'], ok()), 'no-iommu-group', 'has no IOMMU group').hint).to.include('intel_iommu=on iommu=pt');
    unlinkSync(join(vfio, '42'));
    fails(() => preflightPassthrough([VF0, VF1], ok()), 'no-vfio-dev', `${join(vfio, '42')} missing (IOMMU group 42)`);
    fails(() => preflightPassthrough([VF0, VF0], ok()), 'duplicate', 'named twice');
    fails(() => preflightPassthrough(['eth0'], ok()), 'address', 'not a full PCI address');
  });

  it('preflight: an IOMMU group is viable only when its other devices are on vfio-pci, pci-stub, pcieport or no driver', () => {
    // A NIC port sharing group 41 with VF0 and still on its host driver makes the group unusable.
    fakeDevice(sys, '0000:05:00.1', { driver: 'ixgbe', group: 41 });
    fails(
      () => preflightPassthrough([VF0], ok()),
      'group-not-viable',
      'IOMMU group 41 is not viable: 0000:05:00.1 (ixgbe) in the same group is not on vfio-pci',
    );
    rmSync(join(sys, 'bus/pci/devices/0000:05:00.1/driver'));
    fakeDevice(sys, '0000:00:1c.0', { driver: 'pci-stub', group: 41 });
    const [d] = preflightPassthrough([VF0], ok());
    expect(d!.groupDevices).to.deep.equal(['0000:00:1c.0', '0000:05:00.1', VF0]);
  });

  it('preflight: guest RAM must be lockable (ulimit -l) unless privileged', () => {
    const base = { sysfsRoot: sys, vfioDir: vfio, memoryMiB: 1024, privileged: false };
    const e = fails(
      () => preflightPassthrough([VF0], { ...base, memlockBytes: 8 * 1024 * 1024 }),
      'memlock',
      'pins all 1024 MiB of guest RAM but the locked-memory limit is 8192 KiB',
    );
    expect(e.hint).to.include('ulimit -l');
    expect(preflightPassthrough([VF0], { ...base, memlockBytes: Infinity })).to.have.length(1);
    expect(preflightPassthrough([VF0], { ...base, memlockBytes: 8 * 1024 * 1024, privileged: true })).to.have.length(1);
    const limits = join(root, 'limits');
    writeFileSync(
      limits,
      'Limit                     Soft Limit           Hard Limit           Units\nMax locked memory         8388608              8388608              bytes\n',
    );
    expect(memlockLimitBytes(limits)).to.equal(8388608);
    writeFileSync(limits, 'Max locked memory         unlimited            unlimited            bytes\n');
    expect(memlockLimitBytes(limits)).to.equal(Infinity);
  });

  it("reads QEMU's vfio failure into device + reason", () => {
    const out = `serial: \nqemu: qemu-system-x86_64: -device vfio-pci,host=${VF1},id=hostpci1: vfio ${VF1}: group 42 is not viable\nPlease ensure all devices within the iommu_group are bound to their vfio bus driver.`;
    expect(qemuVfioError(out, [VF0, VF1])).to.deep.equal({ device: VF1, reason: `vfio ${VF1}: group 42 is not viable` });
    expect(qemuVfioError('qemu: qemu-system-x86_64: -m 99999999: cannot set up guest memory', [VF0])).to.equal(undefined);
  });

  it('the VNF: marked passthrough (not migratable), refuses to start without devices, and starts nothing when the preflight fails', async () => {
    const img = join(root, 'img');
    mkdirSync(img, { recursive: true });
    for (const f of ['vmlinuz', 'initramfs.gz']) writeFileSync(join(img, f), '');
    const cleanup = new CleanupStack();
    const journal = new Journal('pt-unit', join(root, 'journal'));
    const ctx: DriverContext = {
      settings: new Settings({ SRIOV_SYSFS_ROOT: sys, VFIO_DEV_DIR: vfio, GUEST_IMAGE: img, GUEST_ACCEL: 'tcg' }),
      log: silentLogger,
      host: new Host(cleanup, journal, silentLogger),
      signal: new AbortController().signal,
      workDir: join(root, 'work'),
      create: () => expect.fail('not used'),
    };
    const vnf = new QemuPciPassthrough(ctx);
    expect(isPciPassthroughVnf(vnf)).to.equal(true);
    expect(isMigratable(vnf)).to.equal(false);
    expect(() => vnf.attach({ index: 0, nics: [] })).to.throw('no PCI devices given');
    vnf.attach({ index: 0, nics: [], pciDevices: [VF0, '0000:05:00.7'] });
    await vnf.start().then(
      () => expect.fail('should throw'),
      (e) => expect(e).to.be.instanceOf(PassthroughError).and.include({ check: 'not-found', device: '0000:05:00.7' }),
    );
    expect(cleanup.size, 'no QEMU was spawned').to.equal(0);
    expect(Journal.read(journal.path)).to.deep.equal([]);
    expect(vnf.facts()).to.include({ guest_pci_devices: `${VF0},0000:05:00.7`, guest_nics: 0 });
  });
});
