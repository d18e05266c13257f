import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { qemuArgv } from '../../../../vnfs/qemu/cmdline.js';
import { type QemuConfig } from '../../../../vnfs/qemu/config.js';
import { qemuConfigFromSettings } from '../../../../vnfs/qemu/config.js';
import { checkFwdMode, dpdkAppend, isDpdkApp, testpmdAppArgs } from '../../../../vnfs/qemu/dpdk-guest.js';
import { Settings } from '../../../../framework/config/settings.js';
import { ConfigError } from '../../../../framework/errors.js';
import { testQemuConfig } from './helpers.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

  describe('GUEST_SMP auto: a DPDK app forwards on vCPU 1, which the guest kernel leaves alone', () => {
    let img: string;
    before(() => {
      img = mkdtempSync(join(tmpdir(), 'vsv-smp-'));
      writeFileSync(join(img, 'vmlinuz'), '');
      writeFileSync(join(img, 'initramfs.gz'), '');
    });
    after(() => rmSync(img, { recursive: true, force: true }));
    const argvOf = (settings: Record<string, unknown>): string[] => {
      const cfg = qemuConfigFromSettings(new Settings({ GUEST_IMAGE: img, GUEST_ACCEL: 'tcg', ...settings } as never), 0, { kvm: false });
      return qemuArgv(cfg, 0, [], files);
    };
    const appendOf = (argv: string[]): string => argv[argv.indexOf('-append') + 1]!;
    const smpOf = (argv: string[]): string => argv[argv.indexOf('-smp') + 1]!;

    it('testpmd and l2fwd get 2 vCPUs with vCPU 1 isolated (no tick, RCU callbacks and interrupts on vCPU 0); the kernel bridge keeps 1', () => {
      for (const app of ['testpmd', 'l2fwd']) {
        for (const smp of [undefined, 'auto', ['auto']]) {
          const argv = argvOf({ GUEST_LOOPBACK: [app], ...(smp === undefined ? {} : { GUEST_SMP: smp }) });
          expect(smpOf(argv), `${app} GUEST_SMP=${JSON.stringify(smp)}`).to.equal('2');
          expect(appendOf(argv)).to.include('isolcpus=1 nohz_full=1 rcu_nocbs=1 irqaffinity=0 vsperf.fwdcpu=1');
        }
      }
      const bridge = argvOf({ GUEST_LOOPBACK: ['linux_bridge'], GUEST_SMP: ['auto'] });
      expect(smpOf(bridge)).to.equal('1');
      expect(appendOf(bridge)).to.not.match(/isolcpus|nohz_full|fwdcpu/);
    });

    it("a user's GUEST_SMP, GUEST_TESTPMD_PARAMS and GUEST_KERNEL_APPEND are honoured (the append last, so it can override)", () => {
      const one = argvOf({ GUEST_LOOPBACK: ['testpmd'], GUEST_SMP: ['1'] });
      expect(smpOf(one)).to.equal('1');
      expect(appendOf(one)).to.not.match(/isolcpus|nohz_full|fwdcpu/);
      const four = argvOf({
        GUEST_LOOPBACK: ['testpmd'],
        GUEST_SMP: ['4'],
        GUEST_TESTPMD_PARAMS: ['-c 0x3 -- --burst=32'],
        GUEST_KERNEL_APPEND: ['nohz_full=2-3'],
      });
      expect(smpOf(four)).to.equal('4');
      const append = appendOf(four);
      expect(append).to.include('isolcpus=1-3 nohz_full=1-3 rcu_nocbs=1-3 irqaffinity=0 vsperf.fwdcpu=1');
      expect(append).to.include(`vsperf.testpmd=${Buffer.from('--burst=32').toString('base64')}`);
      expect(append.endsWith(' nohz_full=2-3')).to.equal(true);
      expect(() => argvOf({ GUEST_LOOPBACK: ['testpmd'], GUEST_SMP: ['two'] })).to.throw(ConfigError, /GUEST_SMP/);
    });

    it("the guest's /init puts testpmd's forwarding lcore and l2fwd's lcore on vsperf.fwdcpu, both on CPU 0 without it", async () => {
      const { INIT } = (await import(pathToFileURL(join(ROOT, 'scripts', 'setup.d', '40-guest-image.mjs')).href)) as { INIT: string };
      const from = INIT.indexOf('FWDCPU=\n');
      const to = INIT.indexOf('\n', INIT.indexOf('testpmd_lcores() {'));
      expect(from, 'the FWDCPU block of /init').to.be.above(0);
      const cmdline = join(img, 'cmdline');
      const run = (line: string): string => {
        writeFileSync(cmdline, line + '\n');
        const script = INIT.slice(from, to).replaceAll('/proc/cmdline', cmdline) + '\necho "$(testpmd_lcores)|${FWDCPU:-0}"\n';
        const r = spawnSync('busybox', ['sh', '-c', script], { encoding: 'utf8' });
        expect(r.status, r.stderr).to.equal(0);
        return r.stdout.trim();
      };
      expect(run('console=ttyS0 isolcpus=1 vsperf.fwdcpu=1 vsperf.fwd=io')).to.equal('-l 0,1|1');
      expect(run('console=ttyS0 vsperf.fwd=io')).to.equal('--lcores=0@0,1@0|0');
      expect(INIT).to.include('dpdk-l2fwd -l ${FWDCPU:-0} ');
    });
  });
});
