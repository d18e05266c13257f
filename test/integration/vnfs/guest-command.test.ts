import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QemuVm } from '../../../vnfs/qemu/qemu-vm.js';
import { builtinImageDir } from '../../../vnfs/qemu/config.js';
import { GuestConsole } from '../../../deployments/steps/guest-console.js';
import { DriverError, VsperfError } from '../../../framework/errors.js';
import { makeCtx, releaseCtx, testLog, type TestCtx } from './helpers.js';

/**
 * The guest's command channel on a real TCG guest (vsperf-cmdd on virtio-serial): one boot, then
 * commands whose effects are observed independently (the guest's serial console log on the host).
 */
describe('vnfs/qemu command channel into a real guest (vnf execute_and_wait)', function () {
  this.timeout(240_000);
  let ctx: TestCtx;
  let vm: QemuVm;

  before(async () => {
    expect(existsSync(join(builtinImageDir(), 'vmlinuz')), `guest image in ${builtinImageDir()} (npm run setup)`).to.equal(true);
    // buildin (the kernel bridge) with no NICs: the quickest boot; the channel does not depend on the app.
    ctx = makeCtx({ GUEST_NICS_NR: [0], GUEST_MEMORY: ['256'], GUEST_LOOPBACK: ['buildin'] });
    vm = new QemuVm(ctx, 'vsv-cmd', false);
    await vm.start();
    await vm.waitReady(180_000);
  });

  after(async () => {
    await vm?.stop();
    await releaseCtx(ctx);
  });

  it('runs a command in the guest: output (stdout and stderr), exit status, and an effect seen on the serial console', async () => {
    const r = await vm.execute('echo out; echo err >&2; echo VSPERF-CMD-MARK-$((6*7)) > /dev/ttyS0; exit 3', { timeoutMs: 30_000 });
    expect(r.output).to.equal('out\nerr\n');
    expect(r.exitCode).to.equal(3);
    expect(r.timedOut).to.equal(false);
    // Independent of the channel: the guest wrote to its console, which QEMU logs to a host file.
    expect(readFileSync(vm.current.files.serialLog, 'utf8')).to.include('VSPERF-CMD-MARK-42');
  });

  it('keeps state between commands (cwd /root, files, busybox tools) and passes protocol-like output through', async () => {
    expect((await vm.execute('pwd; echo 5 > f', { timeoutMs: 30_000 })).output).to.equal('/root\n');
    expect((await vm.execute('cat /root/f; ip -o link show lo | cut -d: -f2', { timeoutMs: 30_000 })).output).to.equal('5\n lo\n');
    const tricky = 'X c1 exit 0 0\nO c1 AAAA\nA c1 vsperf-cmdd 1\n\u00e9\n';
    expect((await vm.execute(`printf 'X c1 exit 0 0\\nO c1 AAAA\\nA c1 vsperf-cmdd 1\\n\\303\\251\\n'`, { timeoutMs: 30_000 })).output).to.equal(tricky);
  });

  it('kills a command at its timeout, and a background job does not hold the command open', async () => {
    const t = await vm.execute('echo started; sleep 60', { timeoutMs: 1500 });
    expect(t.timedOut).to.equal(true);
    // Killed by the guest at the timeout (its own word), and the sleep is gone: the 60 s did not run out.
    expect(t.output).to.equal('started\n');
    expect((await vm.execute("ps | grep '[s]leep 60' || echo none", { timeoutMs: 30_000 })).output).to.equal('none\n');
    const bg = await vm.execute('sleep 300 > /dev/null 2>&1 & echo $! > /root/bg.pid', { timeoutMs: 30_000 });
    expect(bg.exitCode).to.equal(0);
    const alive = await vm.execute('kill -0 $(cat /root/bg.pid) && echo alive', { timeoutMs: 30_000 });
    expect(alive.output).to.equal('alive\n');
  });

  it('vnf steps: execute + wait, execute_and_wait with a filter-ready output, a prompt regex, validation from the exit status', async () => {
    const ac = new AbortController();
    const con = new GuestConsole({ object: 'VNF0', vnf: () => vm, log: testLog, signal: ac.signal, shellPrompt: 'root.*#', executeTimeoutS: 60 });
    expect(await con.call('execute', ['echo one; sleep 1; echo two'])).to.equal(null);
    expect(await con.call('wait', [null, 60])).to.equal('one\ntwo\n');
    expect(await con.call('execute_and_wait', ['seq 3 | wc -l'])).to.equal('3\n');
    expect(con.validate()).to.equal(true);
    expect(await con.call('execute_and_wait', ['echo a; echo READY-7; echo b', 30, 'READY-\\d'])).to.equal('a\n');
    await con.call('wait', [null, 30]);
    await con.call('execute_and_wait', ['ethtool -l eth0']);
    expect(() => con.validate()).to.throw(VsperfError, /exit status 127: .*ethtool: not found/);
    const err = await con.call('execute_and_wait', ['sleep 20', 1]).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(VsperfError);
    expect((err as VsperfError).code).to.equal('E_STEP_TIMEOUT');
  });

  it('a stopped guest is a one-line DriverError, not a hang', async () => {
    const files = vm.current.files;
    await vm.stop();
    const err = await vm.execute('true', { timeoutMs: 5000 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DriverError);
    expect((err as Error).message).to.match(/not running/);
    expect(existsSync(files.commandSocket!)).to.equal(false);
  });
});
