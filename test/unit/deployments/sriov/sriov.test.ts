/** SR-IOV against a fake sysfs tree built by the test (no SR-IOV NIC exists here). */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, EnvironmentError } from '../../../../framework/errors.js';
import { Host } from '../../../../framework/host/host.js';
import { Journal } from '../../../../framework/host/journal.js';
import { CleanupStack } from '../../../../framework/runner/cleanup-stack.js';
import { silentLogger } from '../../../../framework/log/logger.js';
import { checkPci, parseNic, resolveNics, Sriov } from '../../../../deployments/sriov/sriov.js';
import { FAKE_PF, fakeSysfs, fakeVf } from './fake-sysfs.js';

const PF = FAKE_PF;
const VF = fakeVf;

describe('deployments/sriov (fake sysfs)', () => {
  let root: string;
  let cleanup: CleanupStack;
  let journal: Journal;
  let host: Host;
  let cmds: string[][];
  let sriov: Sriov;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'vsd-sysfs-'));
    cleanup = new CleanupStack();
    journal = new Journal('sriov-unit', join(root, 'journal'));
    host = new Host(cleanup, journal);
    cmds = [];
    sriov = new Sriov(host, { sysfsRoot: root, log: silentLogger, run: async (argv) => void cmds.push([...argv]) });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('parses WHITELIST_NICS entries like VSPERF (check_pci, |vfN)', () => {
    expect(checkPci('05:00.0')).to.equal('0000:05:00.0');
    expect(checkPci('10000:05:00.0')).to.equal('0000:05:00.0');
    expect(parseNic('0000:05:00.0|vf1')).to.deep.equal({ raw: '0000:05:00.0|vf1', pci: '0000:05:00.0', vf: 1 });
    expect(parseNic('05:00.1')).to.deep.equal({ raw: '05:00.1', pci: '0000:05:00.1' });
    expect(() => parseNic('eth0'))
      .to.throw(ConfigError)
      .with.property('key', 'WHITELIST_NICS');
    expect(() => parseNic('0000:05:00.0|mac')).to.throw(ConfigError);
  });

  it('creates VFs (max index + 1), sets MAC/VLAN/spoofchk, binds to vfio-pci, and undoes it all', async () => {
    fakeSysfs(root);
    const nics = await resolveNics(sriov, [`${PF}|vf0`, `${PF}|vf1`], {
      driver: 'vfio-pci',
      macs: ['02:00:00:00:00:01', '02:00:00:00:00:02'],
      vlan: 100,
      spoofchk: false,
    });
    expect(nics.map((n) => n.pci)).to.deep.equal([VF(0), VF(1)]);
    expect(readFileSync(join(root, 'bus/pci/devices', PF, 'sriov_numvfs'), 'utf8')).to.equal('2');
    expect(cmds).to.deep.equal([
      ['ip', 'link', 'set', 'dev', 'enp5s0f0', 'vf', '0', 'mac', '02:00:00:00:00:01', 'vlan', '100', 'spoofchk', 'off'],
      ['ip', 'link', 'set', 'dev', 'enp5s0f0', 'vf', '1', 'mac', '02:00:00:00:00:02', 'vlan', '100', 'spoofchk', 'off'],
    ]);
    expect(readFileSync(join(root, 'bus/pci/devices', VF(1), 'driver_override'), 'utf8')).to.equal('vfio-pci');
    expect(readFileSync(join(root, 'bus/pci/drivers/ixgbevf/unbind'), 'utf8')).to.equal(VF(1));
    expect(readFileSync(join(root, 'bus/pci/drivers/vfio-pci/bind'), 'utf8')).to.equal(VF(1));
    expect(Journal.read(journal.path).map((e) => e.kind)).to.deep.equal(['sysctl', 'sysctl', 'sysctl', 'sysctl', 'sysctl', 'sysctl', 'sysctl']);

    await sriov.release();
    expect(readFileSync(join(root, 'bus/pci/drivers/vfio-pci/unbind'), 'utf8')).to.equal(VF(0));
    expect(readFileSync(join(root, 'bus/pci/devices', VF(0), 'driver_override'), 'utf8')).to.equal('\n');
    expect(readFileSync(join(root, 'bus/pci/drivers/ixgbevf/bind'), 'utf8')).to.equal(VF(0));
    expect(readFileSync(join(root, 'bus/pci/devices', PF, 'sriov_numvfs'), 'utf8')).to.equal('0');
    expect(Journal.read(journal.path)).to.deep.equal([]);
    expect(cleanup.size).to.equal(0);
  });

  it('keeps an existing, large enough VF count untouched', async () => {
    fakeSysfs(root, { numVfs: 4 });
    await sriov.ensureVfs(PF, 2);
    expect(readFileSync(join(root, 'bus/pci/devices', PF, 'sriov_numvfs'), 'utf8')).to.equal('4\n');
    expect(Journal.read(journal.path)).to.deep.equal([]);
  });

  it('clear errors: missing device, no SR-IOV, too many VFs, bad MAC', async () => {
    fakeSysfs(root);
    await sriov.ensureVfs('0000:06:00.0', 1).then(
      () => expect.fail('should throw'),
      (e) => expect(e).to.be.instanceOf(EnvironmentError).and.have.property('message').that.includes('0000:06:00.0'),
    );
    await sriov.ensureVfs(PF, 9).then(
      () => expect.fail('should throw'),
      (e) => expect((e as Error).message).to.include('supports 8 VFs'),
    );
    await sriov.configureVf(PF, 0, { mac: 'nope' }).then(
      () => expect.fail('should throw'),
      (e) => expect(e).to.be.instanceOf(ConfigError),
    );
    rmSync(join(root, 'bus/pci/devices', PF, 'sriov_totalvfs'));
    await sriov.ensureVfs(PF, 1).then(
      () => expect.fail('should throw'),
      (e) => expect((e as Error).message).to.include('does not support SR-IOV'),
    );
  });
});
