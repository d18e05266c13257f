import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, EnvironmentError, DriverError } from '../../../../framework/errors.js';
import { Settings } from '../../../../framework/config/settings.js';
import { optionsFromSettings } from '../../../../trafficgen/software/driver.js';
import { checkCpusFree, checkHugepages, cpuOwners, dpdkDevargs, isDpdkPort, parseCpuList, parseMeminfo } from '../../../../trafficgen/software/dpdk.js';
import { engineArgv, portArg } from '../../../../trafficgen/software/protocol.js';

describe('Software generator: dpdk backend (pure parts)', () => {
  it('a port is its devargs, else its PCI address, else net_af_packet on its interface', () => {
    expect(dpdkDevargs({ name: 'x', speedMbps: 1, devargs: 'net_virtio_user0,path=/tmp/a.sock,server=1' }, 0)).to.equal(
      'net_virtio_user0,path=/tmp/a.sock,server=1',
    );
    expect(dpdkDevargs({ name: 'x', speedMbps: 1, pci: '0000:05:00.0' }, 1)).to.equal('0000:05:00.0');
    expect(dpdkDevargs({ name: 'veth1', speedMbps: 1 }, 1)).to.equal('net_af_packet1,iface=veth1,framecnt=4096');
  });

  it('queues: net_af_packet on an interface gets qpairs= to match, --queues N goes to the engine, devargs are left as given', () => {
    expect(dpdkDevargs({ name: 'veth1', speedMbps: 1 }, 1, 2)).to.equal('net_af_packet1,iface=veth1,framecnt=4096,qpairs=2');
    expect(dpdkDevargs({ name: 'x', speedMbps: 1, devargs: 'net_virtio_user0,path=/a.sock,queues=2' }, 0, 4)).to.equal(
      'net_virtio_user0,path=/a.sock,queues=2',
    );
    const plan = {
      ports: [{ name: 'p', backend: 'dpdk' as const, dev: 'net_null0' }],
      streams: [],
      durationS: 1,
      drainS: 0,
      backend: 'dpdk' as const,
      progressMs: 0,
      latency: true,
    };
    expect(engineArgv({ ...plan, queues: 3 }).join(' ')).to.contain('--queues 3');
    expect(engineArgv({ ...plan, queues: 1 })).to.not.include('--queues');
  });

  it('TRAFFICGEN_SOFTWARE_QUEUES: 1..4, anything else one ConfigError naming the key', () => {
    const settings = (q: unknown): Settings => new Settings({ TRAFFICGEN_SOFTWARE_QUEUES: q } as never, new Map([['TRAFFICGEN_SOFTWARE_QUEUES', 'test']]));
    expect(optionsFromSettings(settings(2)).queues).to.equal(2);
    for (const q of [0, 5, 1.5, 'two']) expect(() => optionsFromSettings(settings(q)), String(q)).to.throw(ConfigError, /TRAFFICGEN_SOFTWARE_QUEUES/);
  });

  it('TRAFFICGEN_SOFTWARE_TX_BURST 1..32 and _TX_BURST_WAIT_US 0..10000 (defaults 32, 50), anything else one ConfigError naming the key', () => {
    const settings = (k: string, v: unknown): Settings => new Settings({ [k]: v } as never, new Map([[k, 'test']]));
    const d = optionsFromSettings(new Settings({} as never));
    expect([d.txBurst, d.txBurstWaitUs]).to.deep.equal([32, 50]);
    expect(optionsFromSettings(settings('TRAFFICGEN_SOFTWARE_TX_BURST', 1)).txBurst).to.equal(1);
    expect(optionsFromSettings(settings('TRAFFICGEN_SOFTWARE_TX_BURST_WAIT_US', 0)).txBurstWaitUs).to.equal(0);
    for (const b of [0, 33, 2.5])
      expect(() => optionsFromSettings(settings('TRAFFICGEN_SOFTWARE_TX_BURST', b)), String(b)).to.throw(
        ConfigError,
        /TRAFFICGEN_SOFTWARE_TX_BURST\b.*1\.\.32/,
      );
    expect(() => optionsFromSettings(settings('TRAFFICGEN_SOFTWARE_TX_BURST', '8'))).to.throw(ConfigError, /TRAFFICGEN_SOFTWARE_TX_BURST\b.*number/);
    for (const w of [-1, 10_001, 'x'])
      expect(() => optionsFromSettings(settings('TRAFFICGEN_SOFTWARE_TX_BURST_WAIT_US', w)), String(w)).to.throw(
        ConfigError,
        /TRAFFICGEN_SOFTWARE_TX_BURST_WAIT_US/,
      );
  });

  it('--tx-burst and --tx-burst-wait-us go to the engine as given, out of range is a usage error', () => {
    const plan = {
      ports: [{ name: 'p', backend: 'dpdk' as const, dev: 'net_null0' }],
      streams: [],
      durationS: 1,
      drainS: 0,
      backend: 'dpdk' as const,
      progressMs: 0,
      latency: true,
    };
    const a = engineArgv({ ...plan, txBurst: 16, txBurstWaitUs: 20 });
    expect(a.slice(a.indexOf('--tx-burst'), a.indexOf('--tx-burst') + 2)).to.deep.equal(['--tx-burst', '16']);
    expect(a.slice(a.indexOf('--tx-burst-wait-us'), a.indexOf('--tx-burst-wait-us') + 2)).to.deep.equal(['--tx-burst-wait-us', '20']);
    expect(engineArgv(plan)).to.not.include('--tx-burst').and.not.include('--tx-burst-wait-us');
    for (const txBurst of [0, 33, 1.5]) expect(() => engineArgv({ ...plan, txBurst }), String(txBurst)).to.throw(DriverError, /TX burst/);
    for (const txBurstWaitUs of [-1, 20_000, NaN])
      expect(() => engineArgv({ ...plan, txBurstWaitUs }), String(txBurstWaitUs)).to.throw(DriverError, /TX burst wait/);
  });

  it('dpdk is the port wish, the default backend, or implied by devargs', () => {
    expect(isDpdkPort({ name: 'a', speedMbps: 1 }, 'dpdk')).to.equal(true);
    expect(isDpdkPort({ name: 'a', speedMbps: 1, backend: 'af_xdp' }, 'dpdk')).to.equal(false);
    expect(isDpdkPort({ name: 'a', speedMbps: 1, devargs: 'net_pcap0,iface=a' }, 'auto')).to.equal(true);
    expect(isDpdkPort({ name: 'a', speedMbps: 1 }, 'auto')).to.equal(false);
  });

  it('--port for a DPDK device: devargs[@netns]#dpdk; a bad device string is a usage error', () => {
    expect(portArg({ name: 'p0', backend: 'dpdk', dev: 'net_af_packet0,iface=v0', netns: 'ns1' })).to.equal('net_af_packet0,iface=v0@ns1#dpdk');
    expect(portArg({ name: 'p0', backend: 'dpdk', dev: '0000:05:00.0' })).to.equal('0000:05:00.0#dpdk');
    for (const dev of ['net_pcap0,iface=a b', 'x#af_xdp', 'a@b', '', undefined])
      expect(() => portArg({ name: 'p0', backend: 'dpdk', ...(dev !== undefined ? { dev } : {}) })).to.throw(DriverError);
    const argv = engineArgv({
      ports: [{ name: 'p', backend: 'dpdk', dev: 'net_null0' }],
      streams: [],
      durationS: 1,
      drainS: 0,
      backend: 'dpdk',
      progressMs: 0,
      latency: true,
      dpdkPrefix: 'vsg-1-2',
    });
    expect(argv.slice(argv.indexOf('--dpdk-prefix'))).to.deep.equal(['--dpdk-prefix', 'vsg-1-2']);
    expect(() => engineArgv({ ports: [], streams: [], durationS: 1, drainS: 0, backend: 'dpdk', progressMs: 0, latency: true, dpdkPrefix: '../x' })).to.throw(
      DriverError,
    );
  });

  it('hugepages: too few free is one EnvironmentError naming nr_hugepages', () => {
    const h = parseMeminfo('HugePages_Total:    1024\nHugePages_Free:      16\nHugepagesize:       2048 kB\n');
    expect(h).to.deep.equal({ totalPages: 1024, freePages: 16, pageKiB: 2048 });
    expect(() => checkHugepages(h)).to.throw(EnvironmentError, /64 MiB of free hugepages, 32 MiB are free/);
    expect(() => checkHugepages(parseMeminfo('HugePages_Total: 0\nHugePages_Free: 0\n'))).to.throw(EnvironmentError, /none are reserved/);
    try {
      checkHugepages(parseMeminfo('HugePages_Total: 0\n'));
    } catch (e) {
      expect((e as EnvironmentError).hint).to.match(/nr_hugepages/);
    }
    expect(() => checkHugepages({ totalPages: 512, freePages: 32, pageKiB: 2048 })).to.not.throw();
  });

  it('CPU lists and the CPUs busy-polling threads own', () => {
    expect(parseCpuList('0-2,5')).to.deep.equal([0, 1, 2, 5]);
    expect(parseCpuList('1')).to.deep.equal([1]);
    const root = mkdtempSync(join(tmpdir(), 'vsg-proc-'));
    try {
      const task = (pid: number, tid: number, name: string, cpus: string): void => {
        mkdirSync(join(root, String(pid), 'task', String(tid)), { recursive: true });
        writeFileSync(join(root, String(pid), 'task', String(tid), 'status'), `Name:\t${name}\nCpus_allowed_list:\t${cpus}\n`);
      };
      task(100, 100, 'ovs-vswitchd', '0-1');
      task(100, 101, 'pmd-c01/id:7', '1');
      task(200, 201, 'pmd-c00/id:8', '0-1'); // not pinned: shares
      task(300, 301, 'bash', '0');
      const owners = cpuOwners(root, 1);
      expect(owners).to.deep.equal([{ pid: 100, comm: 'pmd-c01/id:7', cpu: 1 }]);
      expect(() => checkCpusFree([0], owners)).to.not.throw();
      expect(() => checkCpusFree([0, 1], owners)).to.throw(EnvironmentError, /CPU 1 .* is busy: thread pmd-c01\/id:7 of pid 100/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
