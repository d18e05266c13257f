/**
 * Binding generator NICs to vfio-pci for the dpdk backend, against a fake /sys/bus/pci whose writes act
 * and fail as the kernel's do (fake-pci-kernel.ts): no NIC or IOMMU exists on this machine.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Host } from '../../../../framework/host/host.js';
import { Journal } from '../../../../framework/host/journal.js';
import { CleanupStack } from '../../../../framework/runner/cleanup-stack.js';
import { silentLogger } from '../../../../framework/log/logger.js';
import { DpdkSetupError, type DpdkCheck } from '../../../../trafficgen/software/dpdk.js';
import { bindNicsForDpdk, type NicBindOptions } from '../../../../trafficgen/software/nic-bind.js';
import { fakeDevice, fakeDrivers, fakeVfioDir } from '../../deployments/sriov/fake-sysfs.js';
import { FakePciKernel } from './fake-pci-kernel.js';
import { rejection } from '../../../helpers/rejection.js';

const NIC0 = '0000:05:00.0';
const NIC1 = '0000:05:00.1';
const BRIDGE = '0000:00:1c.0';

describe('Software generator: binding NICs to vfio-pci for the dpdk backend (strict fake sysfs)', () => {
  let root: string;
  let journal: Journal;
  let cleanup: CleanupStack;
  let kernel: FakePciKernel;
  let opts: NicBindOptions;

  function setUp(o: { modules?: string[]; vfioLoaded?: boolean } = {}): void {
    fakeDrivers(root, o.vfioLoaded === false ? ['ixgbe', 'pcieport', 'snd_hda_intel'] : ['ixgbe', 'pcieport', 'snd_hda_intel', 'vfio-pci']);
    kernel = new FakePciKernel(root, o.modules ?? ['vfio-pci']);
    opts = {
      host: new Host(cleanup, journal),
      log: silentLogger,
      sysfsRoot: root,
      vfioDir: join(root, 'dev-vfio'),
      write: kernel.write,
      run: kernel.modprobe,
      privileged: true,
    };
  }

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'vsg-nicbind-'));
    cleanup = new CleanupStack();
    journal = new Journal('nicbind-unit', join(root, 'journal'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  async function failure(pcis: string[], o: Partial<NicBindOptions> = {}): Promise<DpdkSetupError> {
    const e = await rejection(bindNicsForDpdk(pcis, { ...opts, ...o }));
    expect(e).to.be.instanceOf(DpdkSetupError);
    expect((e as Error).message.split('\n')).to.have.length(1);
    return e as DpdkSetupError;
  }

  function unchanged(pci: string, driver: string | undefined): void {
    expect(kernel.driver(pci)).to.equal(driver);
    expect(kernel.override(pci)).to.equal('(null)');
    expect(Journal.read(journal.path), 'nothing journalled').to.deep.equal([]);
  }

  it('binds two NICs of one IOMMU group (a pcieport beside them) to vfio-pci, journals the undo, and gives them back to ixgbe', async () => {
    setUp();
    fakeDevice(root, NIC0, { driver: 'ixgbe', group: 12, netdev: 'enp5s0f0' });
    fakeDevice(root, NIC1, { driver: 'ixgbe', group: 12, netdev: 'enp5s0f1' });
    fakeDevice(root, BRIDGE, { driver: 'pcieport' });
    fakeVfioDir(join(root, 'dev-vfio'), [12]);
    const sriov = await bindNicsForDpdk([NIC0, NIC1], opts);
    expect([kernel.driver(NIC0), kernel.driver(NIC1)]).to.deep.equal(['vfio-pci', 'vfio-pci']);
    expect(kernel.writes.slice(0, 3)).to.deep.equal([
      [`bus/pci/devices/${NIC0}/driver_override`, 'vfio-pci'],
      ['bus/pci/drivers/ixgbe/unbind', NIC0],
      ['bus/pci/drivers/vfio-pci/bind', NIC0],
    ]);
    // What the janitor replays after a crash, newest first: exactly the writes that give the devices back.
    const undo = Journal.read(journal.path)
      .reverse()
      .map((e) => (e.kind === 'sysctl' ? [e.path.slice(root.length + 1), e.restore.trim()] : ['?', e.kind]));
    expect(undo).to.deep.equal([
      ['bus/pci/drivers/vfio-pci/unbind', NIC1],
      [`bus/pci/devices/${NIC1}/driver_override`, ''],
      ['bus/pci/drivers/ixgbe/bind', NIC1],
      ['bus/pci/drivers/vfio-pci/unbind', NIC0],
      [`bus/pci/devices/${NIC0}/driver_override`, ''],
      ['bus/pci/drivers/ixgbe/bind', NIC0],
    ]);
    await sriov.release();
    for (const pci of [NIC0, NIC1]) unchanged(pci, 'ixgbe');
  });

  it('the janitor replaying the journal of a crashed run gives the NIC back as release() does', async () => {
    setUp();
    fakeDevice(root, NIC0, { driver: 'ixgbe', group: 3 });
    fakeVfioDir(join(root, 'dev-vfio'), [3]);
    await bindNicsForDpdk([NIC0], opts); // the run "crashes": no release
    for (const e of Journal.read(journal.path).reverse()) if (e.kind === 'sysctl') kernel.write(e.path, e.restore);
    expect(kernel.driver(NIC0)).to.equal('ixgbe');
    expect(kernel.override(NIC0)).to.equal('(null)');
  });

  it('a NIC already on vfio-pci is used as it is: nothing written, nothing to restore', async () => {
    setUp();
    fakeDevice(root, NIC0, { driver: 'vfio-pci', group: 3 });
    fakeVfioDir(join(root, 'dev-vfio'), [3]);
    await (await bindNicsForDpdk([NIC0], opts)).release();
    expect(kernel.writes).to.deep.equal([]);
    unchanged(NIC0, 'vfio-pci');
  });

  it('loads vfio-pci when it is not loaded; a kernel without the module is one no-vfio error, nothing changed', async () => {
    setUp({ vfioLoaded: false });
    fakeDevice(root, NIC0, { driver: 'ixgbe', group: 3 });
    fakeVfioDir(join(root, 'dev-vfio'), [3]);
    await (await bindNicsForDpdk([NIC0], opts)).release();
    expect(kernel.driver(NIC0)).to.equal('ixgbe');
    rmSync(join(root, 'bus/pci/drivers/vfio-pci'), { recursive: true });
    setUp({ vfioLoaded: false, modules: [] });
    const e = await failure([NIC0]);
    expect([e.check, e.hint]).to.deep.equal(['no-vfio', 'install the kernel modules package of the running kernel, then modprobe vfio-pci']);
    unchanged(NIC0, 'ixgbe');
  });

  const cases: [string, () => void, string[], DpdkCheck, RegExp][] = [
    ['no such device', () => undefined, [NIC0], 'no-device', /0000:05:00.0 \(TRAFFICGEN_PORTS\) not found/],
    ['a short address', () => undefined, ['05:00.0'], 'no-device', /not a full PCI address/],
    ['the IOMMU off (no iommu_group)', () => fakeDevice(root, NIC0, { driver: 'ixgbe' }), [NIC0], 'iommu', /no IOMMU group/],
    [
      'a sound card in the same IOMMU group on its kernel driver',
      () => {
        fakeDevice(root, NIC0, { driver: 'ixgbe', group: 9 });
        fakeDevice(root, '0000:00:1b.0', { driver: 'snd_hda_intel', group: 9 });
      },
      [NIC0],
      'iommu',
      /group 9 also holds 0000:00:1b.0 \(snd_hda_intel\)/,
    ],
  ];
  for (const [what, build, pcis, check, message] of cases)
    it(`${what}: one ${check} error before anything is written`, async () => {
      setUp();
      build();
      const e = await failure(pcis);
      expect(e.check).to.equal(check);
      expect(e.message).to.match(message);
      expect(kernel.writes).to.deep.equal([]);
      expect(Journal.read(journal.path)).to.deep.equal([]);
    });

  it('a locked-memory limit below the EAL memory (not root) is a memlock error before anything is written', async () => {
    setUp();
    fakeDevice(root, NIC0, { driver: 'ixgbe', group: 3 });
    const e = await failure([NIC0], { privileged: false, memlockBytes: 8 * 1024 * 1024 });
    expect(e.check).to.equal('memlock');
    expect(e.message).to.match(/locked-memory limit is 8192 KiB/);
    unchanged(NIC0, 'ixgbe');
  });

  it('a bind the kernel refuses (probe fails) gives the NIC back to ixgbe and names the device', async () => {
    setUp();
    fakeDevice(root, NIC0, { driver: 'ixgbe', group: 3 });
    fakeVfioDir(join(root, 'dev-vfio'), [3]);
    kernel.failNextBind = { driver: 'vfio-pci', code: 'ENOMEM' };
    const e = await failure([NIC0]);
    expect(e.check).to.equal('not-bound');
    expect(e.message).to.match(/0000:05:00.0: the kernel refused to bind it to vfio-pci \(ENOMEM/);
    unchanged(NIC0, 'ixgbe');
  });

  it('bound, but /dev/vfio/<group> missing: a no-vfio error and the NIC back on ixgbe', async () => {
    setUp();
    fakeDevice(root, NIC0, { driver: 'ixgbe', group: 3 });
    fakeVfioDir(join(root, 'dev-vfio'), []);
    const e = await failure([NIC0]);
    expect(e.check).to.equal('no-vfio');
    expect(e.message).to.match(/dev-vfio\/3 missing/);
    unchanged(NIC0, 'ixgbe');
  });

  it('the fake is strict: binding a device that has a driver is EBUSY, unbinding from the wrong driver ENODEV, other files EACCES', () => {
    setUp();
    fakeDevice(root, NIC0, { driver: 'ixgbe', group: 3 });
    const code = (f: () => void): string | undefined => {
      try {
        f();
        return undefined;
      } catch (e) {
        return (e as NodeJS.ErrnoException).code;
      }
    };
    expect(code(() => kernel.write(join(root, 'bus/pci/drivers/vfio-pci/bind'), NIC0))).to.equal('EBUSY');
    expect(code(() => kernel.write(join(root, 'bus/pci/drivers/vfio-pci/unbind'), NIC0))).to.equal('ENODEV');
    expect(code(() => kernel.write(join(root, 'bus/pci/devices', NIC0, 'vendor'), '0x8086'))).to.equal('EACCES');
    kernel.write(join(root, 'bus/pci/devices', NIC0, 'driver_override'), 'pci-stub');
    kernel.write(join(root, 'bus/pci/drivers/ixgbe/unbind'), NIC0);
    expect(
      code(() => kernel.write(join(root, 'bus/pci/drivers/vfio-pci/bind'), NIC0)),
      'driver_override names another driver',
    ).to.equal('ENODEV');
  });
});
