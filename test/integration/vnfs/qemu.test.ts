import { expect } from 'chai';
import { existsSync, mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { QemuVm } from '../../../vnfs/qemu/qemu-vm.js';
import { builtinImageDir, kvmUsable, kvmKnownBroken } from '../../../vnfs/qemu/config.js';
import { DriverError } from '../../../framework/errors.js';
import { makeCtx, releaseCtx, type TestCtx } from './helpers.js';

describe('vnfs/qemu QemuDpdkVhostUser on real QEMU (no NICs)', function () {
  this.timeout(120_000);
  let ctx: TestCtx | undefined;

  before(() => {
    // A missing image is a failure, not a skip: `npm run setup` builds it.
    expect(existsSync(join(builtinImageDir(), 'vmlinuz')), `guest image in ${builtinImageDir()} (npm run setup)`).to.equal(true);
  });

  afterEach(async () => {
    if (!ctx) return;
    const done = ctx;
    ctx = undefined;
    await releaseCtx(done);
  });

  it('boots to the ready marker, answers QMP, reports accel in facts, stops softly', async () => {
    ctx = makeCtx({ GUEST_NICS_NR: [0], GUEST_MEMORY: ['256'] });
    const vm = new QemuVm(ctx, 'vsv-g0', false);
    await vm.start();
    await vm.waitReady(60_000);
    const st = await vm.current.qmp.queryStatus();
    expect(st.status).to.equal('running');
    const f = vm.facts();
    // KVM when /dev/kvm works; TCG (with the reason) when it is absent or hangs guests (nested virt).
    expect(f.guest_accel).to.equal(kvmUsable() && !kvmKnownBroken() ? 'kvm' : 'tcg');
    expect(String(f.guest_accel_reason)).to.match(f.guest_accel === 'tcg' ? /TCG/ : /kvm/i);
    expect(f.guest_loopback_app).to.equal('testpmd'); // the default, as in VSPERF
    expect(f.qemu_version).to.match(/^\d+\.\d+\.\d+$/);
    expect(vm.bootSeconds).to.be.a('number').above(0);
    const pid = vm.current.pid;
    const shutdown = vm.current.qmp.events.waitFor('SHUTDOWN', { timeoutMs: 5000 });
    await vm.stop();
    expect((await shutdown).data.reason).to.equal('host-qmp-quit'); // soft stop, not a signal
    expect(existsSync(`/proc/${pid}`) && !require_zombie(pid)).to.equal(false);
    await vm.stop(); // idempotent
  });

  it('a loopback app missing from the image fails with the guest error and the serial tail', async () => {
    ctx = makeCtx({ GUEST_NICS_NR: [0], GUEST_LOOPBACK: ['vpp'] });
    const vm = new QemuVm(ctx, 'vsv-g1', false);
    await vm.start();
    let err: unknown;
    try {
      await vm.waitReady(60_000);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(DriverError);
    expect((err as Error).message).to.match(/loopback app vpp is not in this image \(it has linux_bridge, buildin, testpmd, l2fwd\)/);
    expect((err as Error).message).to.match(/serial: .*VSPERF-INIT/s);
    expect(vm.alive).to.equal(false);
  });

  it('a guest that cannot boot fails within GUEST_TIMEOUT with the log tail', async () => {
    ctx = makeCtx({ GUEST_NICS_NR: [0], GUEST_TIMEOUT: [4] });
    const bad = join(ctx.workDir, 'badimage');
    mkdirSync(bad);
    writeFileSync(join(bad, 'vmlinuz'), 'not a kernel');
    copyFileSync(join(builtinImageDir(), 'initramfs.gz'), join(bad, 'initramfs.gz'));
    ctx = { ...ctx, settings: ctx.settings.with({ GUEST_IMAGE: [bad] }, 'test') };
    const vm = new QemuVm(ctx, 'vsv-g2', false);
    let err: unknown;
    try {
      await vm.start();
      await vm.waitReady();
    } catch (e) {
      err = e;
    }
    expect(err, String(err)).to.be.instanceOf(DriverError);
    // QEMU refused the kernel, or the wait was GUEST_TIMEOUT's 4 s (not the 120 s default).
    expect((err as Error).message, (err as Error).message).to.match(/exited with code 1|did not print VSPERF-READY within 4 s \(GUEST_TIMEOUT\)/);
    expect((err as Error).message).to.match(/qemu: .+|serial: /);
    expect(vm.alive).to.equal(false);
  });

  it('without attached NICs but GUEST_NICS_NR > 0, start() refuses with a clear error', async () => {
    ctx = makeCtx({ GUEST_NICS_NR: [2] });
    const vm = new QemuVm(ctx, 'vsv-g3', false);
    let err: unknown;
    try {
      await vm.start();
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(DriverError);
    expect((err as Error).message).to.match(/needs 2 NIC\(s\)/);
  });
});

function require_zombie(pid: number): boolean {
  try {
    const { readFileSync } = require_fs();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}
function require_fs(): typeof import('node:fs') {
  return { readFileSync: (p: string, e: BufferEncoding) => readFileSyncImpl(p, e) } as unknown as typeof import('node:fs');
}
import { readFileSync as readFileSyncImpl } from 'node:fs';
