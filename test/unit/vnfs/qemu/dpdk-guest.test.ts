import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { qemuArgv } from '../../../../vnfs/qemu/cmdline.js';
import { type QemuConfig } from '../../../../vnfs/qemu/config.js';
import { checkFwdMode, dpdkAppend, isDpdkApp, testpmdAppArgs } from '../../../../vnfs/qemu/dpdk-guest.js';
import { ConfigError } from '../../../../framework/errors.js';
import { testQemuConfig } from './helpers.js';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The repository root (this file runs from dist/test/unit/vnfs/qemu). */
const ROOT = join(import.meta.dirname, '..', '..', '..', '..', '..');

const base: QemuConfig = { ...testQemuConfig, loopback: 'testpmd', extraArgs: [] };
const files = { name: 'guest0', qmpSocket: '/w/q.sock', serialLog: '/w/s.log' };

describe('vnfs/qemu DPDK loopback apps (testpmd, l2fwd)', () => {
  it('VSPERF GUEST_TESTPMD_PARAMS: the application part is kept, interactive mode and options removed from DPDK are dropped', () => {
    const r = testpmdAppArgs('-l 0,1 -n 4 --socket-mem 512 -- --burst=64 -i --txqflags=0xf00 --disable-hw-vlan', 'test');
    expect(r.args).to.deep.equal(['--burst=64']);
    expect(r.dropped).to.deep.equal(['-i', '--txqflags=0xf00', '--disable-hw-vlan']);
    expect(testpmdAppArgs('', 'test').args).to.deep.equal([]);
    expect(testpmdAppArgs('-l 0,1 -n 4', 'test').args).to.deep.equal([]);
    expect(testpmdAppArgs('-- --rxq=2 --txq=2', 'test').args).to.deep.equal(['--rxq=2', '--txq=2']);
  });

  it('options the image sets itself, and non-ASCII arguments, are one-line config errors', () => {
    expect(() => testpmdAppArgs('-- --forward-mode=mac', 'conf')).to.throw(ConfigError, /GUEST_TESTPMD_PARAMS: --forward-mode=mac is set by the guest image/);
    expect(() => testpmdAppArgs('-- --nb-cores=2', 'conf')).to.throw(ConfigError, /--nb-cores=2/);
    expect(() => testpmdAppArgs('-- --burst=ü', 'conf')).to.throw(ConfigError, /not printable ASCII/);
    expect(() => checkFwdMode('warp', 'conf')).to.throw(ConfigError, /unknown testpmd forwarding mode "warp"/);
    expect(checkFwdMode('csum', 'conf')).to.equal('csum');
    expect(() => checkFwdMode('rxonly', 'conf'), 'would not loop traffic back').to.throw(ConfigError);
  });

  it('the kernel command line carries hugepages, the forwarding mode and the arguments (base64: no spaces on the command line)', () => {
    const words = dpdkAppend('testpmd', 'mac', ['--burst=64', '--rxd=512']);
    expect(words).to.include('hugepagesz=2M').and.include('vsperf.fwd=mac');
    const b64 = words.find((w) => w.startsWith('vsperf.testpmd='))!.slice('vsperf.testpmd='.length);
    expect(Buffer.from(b64, 'base64').toString()).to.equal('--burst=64 --rxd=512');
    expect(dpdkAppend('l2fwd', 'io', [])).to.deep.equal(['hugepagesz=2M', 'hugepages=48']);
    const argv = qemuArgv({ ...base, testpmd: { fwdMode: 'io', args: [], dropped: [] } }, 0, [], files).join(' ');
    expect(argv).to.match(/-append console=ttyS0 .*vsperf\.loopback=testpmd vsperf\.nics=0 hugepagesz=2M hugepages=48 vsperf\.fwd=io/);
    expect(qemuArgv({ ...base, loopback: 'linux_bridge' }, 0, [], files).join(' ')).to.not.include('hugepages=');
    expect(isDpdkApp('testpmd') && isDpdkApp('l2fwd') && !isDpdkApp('linux_bridge')).to.equal(true);
  });

  it("the guest's /init is valid shell (busybox sh -n) and knows both apps", async () => {
    const { INIT } = (await import(pathToFileURL(join(ROOT, 'scripts', 'setup.d', '40-guest-image.mjs')).href)) as { INIT: string };
    const r = spawnSync('busybox', ['sh', '-n'], { input: INIT, encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect(INIT).to.include('testpmd)').and.include('l2fwd)').and.include('uio_pci_generic');
  });
});
