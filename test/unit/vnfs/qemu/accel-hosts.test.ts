import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Settings } from '../../../../framework/config/settings.js';
import { EnvironmentError } from '../../../../framework/errors.js';
import { qemuConfigFromSettings } from '../../../../vnfs/qemu/config.js';

/**
 * The accelerator of a guest whose QEMUs run on other hosts (peer-to-peer migration): what those hosts
 * say of /dev/kvm decides. A host without it means TCG from the start: the driver arms its 10 s KVM
 * boot probe only for a KVM config, so no run waits for a KVM guest that cannot exist.
 */
describe('QEMU accelerator from the hosts the guest runs on', () => {
  let img: string;
  before(() => {
    img = mkdtempSync(join(tmpdir(), 'vsv-accel-'));
    writeFileSync(join(img, 'vmlinuz'), '');
    writeFileSync(join(img, 'initramfs.gz'), '');
  });
  after(() => rmSync(img, { recursive: true, force: true }));

  it('GUEST_ACCEL=auto and /dev/kvm absent on a target host: TCG, no KVM probe, the reason says so', () => {
    const cfg = qemuConfigFromSettings(new Settings({ GUEST_IMAGE: img }), 0, { kvm: false, kvmWhere: 'hostB' });
    expect(cfg.accel).to.equal('tcg');
    expect(cfg.accelReason).to.match(/\/dev\/kvm absent/);
    expect(cfg.vectors).to.equal(0);
  });

  it('GUEST_ACCEL=auto and /dev/kvm on both hosts: KVM (the boot probe then decides)', () => {
    const cfg = qemuConfigFromSettings(new Settings({ GUEST_IMAGE: img, GUEST_LOOPBACK: 'linux_bridge' }), 0, { kvm: true });
    expect(cfg.accel).to.equal('kvm');
    expect(cfg.accelAuto).to.equal(true);
  });

  it('GUEST_ACCEL=kvm with a host lacking /dev/kvm: one EnvironmentError naming the host and the fix', () => {
    expect(() => qemuConfigFromSettings(new Settings({ GUEST_IMAGE: img, GUEST_ACCEL: 'kvm' }), 0, { kvm: false, kvmWhere: 'hostB' }))
      .to.throw(EnvironmentError, /on hostB/)
      .with.property('hint')
      .that.matches(/GUEST_ACCEL=auto/);
  });
});
