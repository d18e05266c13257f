import { expect } from 'chai';
import { cpus, tmpdir } from 'node:os';
import { qemuArgv } from '../../../../vnfs/qemu/cmdline.js';
import { defaultGuestMac } from '../../../../framework/api/vnf.js';
import { coreBinding, cpusOfMask, needsTcgPad, parseCpuList, perGuest, ramSizeArg, tcgRamPad, withTcg, type QemuConfig } from '../../../../vnfs/qemu/config.js';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Settings } from '../../../../framework/config/settings.js';
import { ConfigError } from '../../../../framework/errors.js';
import { testQemuConfig } from './helpers.js';

const cfg: QemuConfig = testQemuConfig;
const files = { name: 'guest0', qmpSocket: '/w/guest0-qmp.sock', serialLog: '/w/guest0-serial.log' };
const nics = [{ socketPath: '/run/vhu0' }, { socketPath: '/run/vhu1', mac: '02:aa:00:00:00:01' }];

describe('vnfs/qemu command line and GUEST_* settings', () => {
  it('vhost-user NICs: server=on sockets, memfd shared memory, vectors=0 under TCG, MACs', () => {
    const a = qemuArgv(cfg, 0, nics, files).join(' ');
    expect(a).to.include('-accel tcg -cpu qemu64');
    expect(a).to.include('-object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem');
    expect(a).to.include('-chardev socket,id=char0,path=/run/vhu0,server=on');
    expect(a).to.include('-netdev vhost-user,id=net1,chardev=char1');
    expect(a).to.include(`virtio-net-pci,netdev=net0,mac=${defaultGuestMac(0, 0)},id=nic0,vectors=0`);
    expect(a).to.include('mac=02:aa:00:00:00:01');
    expect(a).to.include('vsperf.loopback=linux_bridge vsperf.nics=2');
    expect(a).to.include('-qmp unix:/w/guest0-qmp.sock,server=on,wait=off');
    expect(a).to.include('-serial file:/w/guest0-serial.log');
    // No clock port unless the instance has a socket for it (ttyS1, bidirectional: guest-clock.ts).
    expect(a).to.not.include('isa-serial');
    const c = qemuArgv(cfg, 0, nics, { ...files, clockSocket: '/w/guest0-clock.sock' }).join(' ');
    expect(c).to.include('-chardev socket,id=clock,path=/w/guest0-clock.sock,server=on,wait=off -device isa-serial,chardev=clock,index=1');
    // The command port (virtio-serial, guest-command.ts) comes after the NICs, so their PCI slots do not move.
    expect(a).to.not.include('virtio-serial');
    const k = qemuArgv(cfg, 0, nics, { ...files, commandSocket: '/w/guest0-cmd.sock' }).join(' ');
    expect(k).to.include(
      '-device virtio-serial-pci,id=vsperfser -chardev socket,id=cmd,path=/w/guest0-cmd.sock,server=on,wait=off -device virtserialport,bus=vsperfser.0,chardev=cmd,name=org.vsperf.cmd',
    );
    expect(k.indexOf('virtio-serial-pci')).to.be.above(k.lastIndexOf('virtio-net-pci'));
    expect(a).to.not.include('-incoming');
    expect(a.endsWith('-snapshot')).to.equal(true);
  });

  it('a socket the vSwitch serves (VSWITCH_VHOSTUSER_SERVER_MODE) is connected to as a client, as VSPERF does', () => {
    const a = qemuArgv(cfg, 0, [{ socketPath: '/run/vhu0', switchServes: true }, { socketPath: '/run/vhu1' }], files).join(' ');
    expect(a).to.include('-chardev socket,id=char0,path=/run/vhu0 -netdev');
    expect(a).to.include('-chardev socket,id=char1,path=/run/vhu1,server=on');
  });

  it('destination: same device config plus -incoming defer; no NICs → -nic none; binding → taskset; KVM omits vectors', () => {
    const src = qemuArgv(cfg, 3, nics, files);
    const dst = qemuArgv(cfg, 3, [{ socketPath: '/run/vhu2' }, { socketPath: '/run/vhu3', mac: '02:aa:00:00:00:01' }], files, { incoming: true });
    const macs = (argv: string[]): string[] => argv.filter((x) => x.startsWith('virtio-net-pci')).map((x) => /mac=([^,]+)/.exec(x)![1]!);
    expect(macs(dst)).to.deep.equal(macs(src));
    expect(dst.slice(-3)).to.deep.equal(['-incoming', 'defer', '-snapshot']);
    // MIGRATION_VERIFY_RAM: the destination stays paused after the migration.
    expect(qemuArgv(cfg, 3, [], files, { incoming: true, paused: true }).slice(-4)).to.deep.equal(['-incoming', 'defer', '-S', '-snapshot']);
    expect(src).to.not.include('-S');
    expect(qemuArgv(cfg, 0, [], files).join(' ')).to.include('-nic none');
    expect(qemuArgv({ ...cfg, coreBinding: [0, 2] }, 0, [], files).slice(0, 4)).to.deep.equal(['taskset', '-c', '0,2', 'qemu-system-x86_64']);
    expect(qemuArgv({ ...cfg, accel: 'kvm', vectors: undefined }, 0, nics, files).join(' ')).to.not.include('vectors=');
    expect(withTcg({ ...cfg, accel: 'kvm', cpu: 'host,-arch-capabilities', vectors: undefined }, 'hang')).to.include({
      accel: 'tcg',
      cpu: 'qemu64',
      vectors: 0,
    });
    // A DPDK loopback app keeps SSE4.2/POPCNT after the fallback (on qemu64 it dies of SIGILL, silently).
    expect(withTcg({ ...cfg, accel: 'kvm', cpu: 'host,-arch-capabilities', loopback: 'testpmd' }, 'hang').cpu).to.equal(
      'qemu64,+ssse3,+sse4.1,+sse4.2,+popcnt',
    );
  });

  it('GUEST_TCG_RAM_PAD_KB: under TCG with memfd the RAM is not a multiple of 256 KiB (QEMU < 9.0 TCG migration fix)', () => {
    const padded = { ...cfg, tcgRamPadKiB: 64 };
    const a = qemuArgv(padded, 0, nics, files).join(' ');
    // 256 MiB + 64 KiB = 262208 KiB, on -m and on the memory backend alike (the destination gets the same).
    expect(a).to.include('-m 262208K');
    expect(a).to.include('memory-backend-memfd,id=mem,size=262208K,share=on');
    expect(262208 % 256).to.not.equal(0);
    // Not under KVM (its dirty log is the kernel's), not with hugepages (2 MiB pages), not when 0.
    expect(ramSizeArg({ ...padded, accel: 'kvm' })).to.equal('256M');
    expect(ramSizeArg({ ...padded, memBackend: 'hugepages' })).to.equal('256M');
    expect(ramSizeArg({ ...padded, tcgRamPadKiB: 0 })).to.equal('256M');
    // A KVM guest that falls back to TCG gets the pad too.
    expect(ramSizeArg(withTcg({ ...padded, accel: 'kvm', vectors: undefined }, 'hang'))).to.equal('262208K');
  });

  it('GUEST_TCG_RAM_PAD_KB: default 64 KiB; a multiple of 256 KiB or a partial page is a ConfigError', () => {
    expect(tcgRamPad(new Settings({}), 0)).to.equal(64);
    expect(tcgRamPad(new Settings({ GUEST_TCG_RAM_PAD_KB: [0] }), 0)).to.equal(0);
    expect(tcgRamPad(new Settings({ GUEST_TCG_RAM_PAD_KB: [64, 4] }), 1)).to.equal(4);
    for (const bad of [256, 512, 2, -4]) {
      expect(() => tcgRamPad(new Settings({ GUEST_TCG_RAM_PAD_KB: [bad] }), 0), String(bad)).to.throw(ConfigError, /GUEST_TCG_RAM_PAD_KB/);
    }
  });

  it('per-guest lists like VSPERF: index past the end takes the last entry; scalars apply to all', () => {
    const s = new Settings({ GUEST_MEMORY: ['512', '1024'], GUEST_SMP: 2 });
    expect(perGuest(s, 'GUEST_MEMORY', 0)).to.equal('512');
    expect(perGuest(s, 'GUEST_MEMORY', 5)).to.equal('1024');
    expect(perGuest(s, 'GUEST_SMP', 3)).to.equal(2);
    expect(perGuest(s, 'GUEST_NOPE', 0)).to.equal(undefined);
  });

  it('CPU lists and masks; GUEST_CORE_BINDING auto keeps QEMU off the PMD cores', () => {
    expect(parseCpuList('0-2,5', 'K', 'f')).to.deep.equal([0, 1, 2, 5]);
    expect(parseCpuList([1, 3], 'K', 'f')).to.deep.equal([1, 3]);
    expect(() => parseCpuList('a-b', 'GUEST_CORE_BINDING', 'f')).to.throw(ConfigError, /GUEST_CORE_BINDING/);
    expect(cpusOfMask('2')).to.deep.equal([1]);
    expect(cpusOfMask('0x6')).to.deep.equal([1, 2]);
    const n = cpus().length;
    const auto = coreBinding(new Settings({ GUEST_CORE_BINDING: ['auto'], VSWITCH_PMD_CPU_MASK: '2' }), 0);
    if (n > 1) expect(auto).to.deep.equal(Array.from({ length: n }, (_, i) => i).filter((c) => c !== 1));
    expect(coreBinding(new Settings({ GUEST_CORE_BINDING: [[0]] }), 0)).to.deep.equal([0]);
    expect(coreBinding(new Settings({ GUEST_CORE_BINDING: [[]] }), 0)).to.deep.equal([]);
  });
});

describe('TCG RAM pad only where QEMU lacks the dirty-bitmap fix', () => {
  it('QEMU < 9.0 (or a version it cannot read) gets the pad, QEMU ≥ 9.0 does not', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsv-qemu-'));
    const fake = (name: string, version: string): string => {
      const p = join(dir, name);
      writeFileSync(p, `#!/bin/sh\necho "QEMU emulator version ${version} (Debian)"\n`);
      chmodSync(p, 0o755);
      return p;
    };
    try {
      expect(needsTcgPad(fake('q7', '7.2.22'))).to.equal(true);
      expect(needsTcgPad(fake('q10', '10.0.2'))).to.equal(false);
      expect(needsTcgPad(fake('q9', '9.0.0'))).to.equal(false);
      expect(needsTcgPad(join(dir, 'missing'))).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
