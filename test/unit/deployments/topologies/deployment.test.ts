/**
 * Orchestration of the deployments without root: NIC mode on a fake sysfs (two PCI NICs), a recording
 * vSwitch and recording guests registered in a Registry. Checks the order that matters (flows before
 * guests boot, guests stopped before the switch), the NIC/vhost wiring, and the errors.
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Settings, type JsonObject } from '../../../../framework/config/settings.js';
import { UsageError } from '../../../../framework/errors.js';
import { Host } from '../../../../framework/host/host.js';
import { Journal } from '../../../../framework/host/journal.js';
import { silentLogger } from '../../../../framework/log/logger.js';
import { Registry } from '../../../../framework/registry/registry.js';
import type { DriverContext, DriverKind, DriverOf } from '../../../../framework/api/driver.js';
import { CleanupStack } from '../../../../framework/runner/cleanup-stack.js';
import { phy2phyFactory, pxpFactory } from '../../../../deployments/index.js';
import { flowText } from '../../../../deployments/flows.js';
import type { FlowSpec, PhyPort, PortStats, SwitchPort, VSwitch } from '../../../../framework/api/deployment.js';
import type { Vnf, VnfAttachment } from '../../../../framework/api/vnf.js';
import { NoSwitch } from '../../../../deployments/vswitch/none.js';
import { FAKE_PF, fakeSysfs, fakeVf } from '../sriov/fake-sysfs.js';

const NICS = ['0000:05:00.0', '0000:05:00.1'];

class RecordingSwitch implements VSwitch {
  readonly name = 'Recording';
  stats: PortStats[] = [];
  constructor(private readonly log: string[]) {}
  async start() {
    this.log.push('switch:start');
  }
  async stop() {
    this.log.push('switch:stop');
  }
  async version() {
    return '9.9';
  }
  async addBridge(b: string) {
    this.log.push(`bridge:${b}`);
  }
  async addPhyPort(_b: string, name: string, p: PhyPort, ofport: number): Promise<SwitchPort> {
    this.log.push(`phy:${name}:${p.kind === 'pci' ? p.pci : p.kind === 'veth' ? p.iface : p.socketPath}:${ofport}`);
    return { name, ofport };
  }
  async addVhostPort(_b: string, name: string, ofport: number): Promise<SwitchPort> {
    this.log.push(`vhost:${name}:${ofport}`);
    return { name, ofport, socketPath: `/run/x/${name}` };
  }
  async delPort() {}
  async addFlow(_b: string, f: FlowSpec) {
    this.log.push(`flow:${flowText(f)}`);
  }
  async delFlows() {}
  async dumpFlows() {
    return this.log.filter((l) => l.startsWith('flow:')).map((l) => l.slice(5));
  }
  async portStats() {
    return this.stats;
  }
}

class RecordingVnf implements Vnf {
  attached: VnfAttachment | undefined;
  constructor(
    readonly name: string,
    private readonly log: string[],
  ) {}
  attach(a: VnfAttachment) {
    this.attached = a;
    this.log.push(`vnf:attach:${a.index}:${a.nics.map((n) => n.socketPath).join('|')}`);
  }
  async start() {
    this.log.push(`vnf:start:${this.attached?.index}`);
  }
  async waitReady() {
    this.log.push(`vnf:ready:${this.attached?.index}`);
  }
  async stop() {
    this.log.push(`vnf:stop:${this.attached?.index}`);
  }
  facts() {
    return { loopback: 'linux_bridge' };
  }
}

/** A VNF that takes host PCI devices (like QemuPciPassthrough). */
class RecordingPtVnf extends RecordingVnf {
  readonly pciPassthrough = true as const;
  override attach(a: VnfAttachment) {
    super.attach(a);
    this.log2.push(`vnf:pci:${a.index}:${(a.pciDevices ?? []).join('|')}`);
  }
  constructor(
    name: string,
    private readonly log2: string[],
  ) {
    super(name, log2);
  }
}

function fakeNics(root: string): void {
  for (const d of ['ixgbe', 'vfio-pci']) {
    mkdirSync(join(root, 'bus/pci/drivers', d), { recursive: true });
    for (const f of ['bind', 'unbind']) writeFileSync(join(root, 'bus/pci/drivers', d, f), '');
  }
  for (const pci of NICS) {
    mkdirSync(join(root, 'bus/pci/devices', pci), { recursive: true });
    writeFileSync(join(root, 'bus/pci/devices', pci, 'driver_override'), '(null)\n');
    symlinkSync(join(root, 'bus/pci/drivers/ixgbe'), join(root, 'bus/pci/devices', pci, 'driver'));
  }
}

describe('deployments/topologies/deployment (NIC mode, recording drivers)', () => {
  let root: string;
  let log: string[];
  let cleanup: CleanupStack;
  let ctx: DriverContext;
  let sw: RecordingSwitch;

  function make(values: JsonObject, vswitch: 'Recording' | 'none' = 'Recording'): DriverContext {
    const registry = new Registry();
    registry.add({ kind: 'vswitch', name: 'Recording', summary: 'test', create: async () => sw });
    registry.add({ kind: 'vswitch', name: 'none', summary: 'test', create: async () => new NoSwitch() });
    let n = 0;
    registry.add({ kind: 'vnf', name: 'RecVnf', summary: 'test', create: async () => new RecordingVnf(`g${n++}`, log) });
    registry.add({ kind: 'vnf', name: 'RecPt', summary: 'test', create: async () => new RecordingPtVnf(`g${n++}`, log) });
    const settings = new Settings({
      VSWITCH: vswitch,
      VNF: 'RecVnf',
      WHITELIST_NICS: NICS,
      SRIOV_SYSFS_ROOT: root,
      TRAFFICGEN_PORTS: [{ name: 'ixia-1' }, { name: 'ixia-2' }],
      TRAFFICGEN_PORT_SPEED_MBPS: 10000,
      TRAFFIC: { stream_type: 'L4', l4: { dstport: 3001 }, l3: { proto: 'udp' }, multistream: 0, bidir: 'True' },
      ...values,
    });
    const host = new Host(cleanup, new Journal('dep-unit', join(root, 'journal')), silentLogger);
    const c: DriverContext = {
      settings,
      log: silentLogger,
      host,
      signal: new AbortController().signal,
      workDir: root,
      create: <K extends DriverKind>(k: K, name: string): Promise<DriverOf[K]> => registry.create(k, name, c),
    };
    return c;
  }

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'vsd-dep-'));
    fakeNics(root);
    log = [];
    cleanup = new CleanupStack();
    sw = new RecordingSwitch(log);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('phy2phy on NICs: PCI ports bound to vfio-pci, port flows both ways, generator ports from TRAFFICGEN_PORTS', async () => {
    ctx = make({});
    const dep = await phy2phyFactory().build(ctx);
    const topo = await dep.setup(ctx.signal);
    expect(log).to.deep.equal([
      'switch:start',
      'bridge:vsperf-br0',
      `phy:dpdk0:${NICS[0]}:1`,
      `phy:dpdk1:${NICS[1]}:2`,
      'flow:in_port=1,actions=output:2',
      'flow:in_port=2,actions=output:1',
    ]);
    expect(topo.generatorPorts.map((p) => p.name)).to.deep.equal(['ixia-1', 'ixia-2']);
    expect(readFileSync(join(root, 'bus/pci/drivers/vfio-pci/bind'), 'utf8')).to.equal(NICS[1]);
    expect(readFileSync(join(root, 'bus/pci/devices', NICS[0]!, 'driver_override'), 'utf8')).to.equal('vfio-pci');
    expect(topo.facts).to.deep.include({ vswitch: 'Recording', vswitch_version: '9.9', testbed: 'nics', flows_installed: 2 });
    // Counters: deltas against the snapshot taken before the trial, mapped to generator ports.
    sw.stats = [
      { name: 'dpdk0', ofport: 1, rxPackets: 100, txPackets: 5, rxDropped: 0, txDropped: 0 },
      { name: 'dpdk1', ofport: 2, rxPackets: 7, txPackets: 50, rxDropped: 0, txDropped: 0 },
    ];
    await topo.beforeTrial!();
    sw.stats = [
      { name: 'dpdk0', ofport: 1, rxPackets: 1100, txPackets: 5, rxDropped: 3, txDropped: 0 },
      { name: 'dpdk1', ofport: 2, rxPackets: 7, txPackets: 1040, rxDropped: 0, txDropped: 0 },
    ];
    const c = (await topo.afterTrial!()) as { generatorPorts: unknown; ports: PortStats[] };
    expect(c.generatorPorts).to.deep.equal([
      { index: 0, port: 'dpdk0', rxFromGenerator: 1000, txToGenerator: 0 },
      { index: 1, port: 'dpdk1', rxFromGenerator: 0, txToGenerator: 990 },
    ]);
    expect(c.ports[0]!.rxDropped).to.equal(3);
    await dep.teardown();
    expect(log.at(-1)).to.equal('switch:stop');
    expect(readFileSync(join(root, 'bus/pci/drivers/ixgbe/bind'), 'utf8')).to.equal(NICS[0]); // original driver back
    expect(cleanup.labels(), 'every host step released').to.deep.equal([]);
  });

  it('pvvp: vhost ports and all flows exist before any guest starts; guests stop before the switch', async () => {
    ctx = make({ GUEST_NICS_NR: [2, 2] });
    const dep = await pxpFactory('pvvp').build(ctx);
    const topo = await dep.setup(ctx.signal);
    const firstStart = log.findIndex((l) => l.startsWith('vnf:start'));
    const lastFlow = log.map((l) => l.startsWith('flow:')).lastIndexOf(true);
    expect(lastFlow).to.be.lessThan(firstStart);
    expect(log.filter((l) => l.startsWith('vhost:'))).to.deep.equal([
      'vhost:dpdkvhostuserclient0:3',
      'vhost:dpdkvhostuserclient1:4',
      'vhost:dpdkvhostuserclient2:5',
      'vhost:dpdkvhostuserclient3:6',
    ]);
    expect(log.filter((l) => l.startsWith('vnf:attach'))).to.deep.equal([
      'vnf:attach:0:/run/x/dpdkvhostuserclient0|/run/x/dpdkvhostuserclient1',
      'vnf:attach:1:/run/x/dpdkvhostuserclient2|/run/x/dpdkvhostuserclient3',
    ]);
    expect(log).to.include('flow:in_port=4,actions=output:5'); // VM1 eth1 → VM2 eth0
    expect(topo.guests).to.have.length(2);
    expect(topo.facts).to.deep.include({ guests: 2, guest_topology: 'serial', guest0_loopback: 'linux_bridge' });
    await dep.teardown();
    const tail = log.slice(log.indexOf('vnf:stop:1'));
    expect(tail).to.deep.equal(['vnf:stop:1', 'vnf:stop:0', 'switch:stop']);
  });

  it('pvpv: asks the runner for one stream per guest (trafficOverrides)', async () => {
    ctx = make({ GUEST_NICS_NR: [2] });
    const topo = await (await pxpFactory('pvpv3').build(ctx)).setup(ctx.signal);
    expect(topo.trafficOverrides).to.deep.equal({ multistream: 3, stream_type: 'L4' });
    expect(log).to.include('flow:in_port=1,dl_type=0x0800,nw_proto=17,tp_dst=3003,actions=output:7');
  });

  it('pvp with VSWITCH=none and a PCI-passthrough VNF: the SR-IOV VFs are created, bound to vfio-pci and given to the guest', async () => {
    const sys = join(root, 'sriov');
    fakeSysfs(sys);
    ctx = make({ VNF: 'RecPt', SRIOV_SYSFS_ROOT: sys, WHITELIST_NICS: [`${FAKE_PF}|vf0`, `${FAKE_PF}|vf1`] }, 'none');
    const dep = await pxpFactory('pvp').build(ctx);
    const topo = await dep.setup(ctx.signal);
    expect(log).to.deep.equal(['vnf:attach:0:', `vnf:pci:0:${fakeVf(0)}|${fakeVf(1)}`, 'vnf:start:0', 'vnf:ready:0']);
    expect(readFileSync(join(sys, 'bus/pci/devices', FAKE_PF, 'sriov_numvfs'), 'utf8')).to.equal('2');
    expect(readFileSync(join(sys, 'bus/pci/devices', fakeVf(1), 'driver_override'), 'utf8')).to.equal('vfio-pci');
    expect(readFileSync(join(sys, 'bus/pci/drivers/vfio-pci/bind'), 'utf8')).to.equal(fakeVf(1));
    expect(topo.guests).to.have.length(1);
    expect(topo.vswitch).to.equal(undefined);
    expect(topo.facts).to.deep.include({
      vswitch: 'none',
      guests: 1,
      guest_topology: 'pci-passthrough',
      pci_passthrough: `${fakeVf(0)} (${FAKE_PF}|vf0), ${fakeVf(1)} (${FAKE_PF}|vf1)`,
    });
    expect(topo.generatorPorts.map((p) => p.name)).to.deep.equal(['ixia-1', 'ixia-2']);
    await dep.teardown();
    expect(log.at(-1)).to.equal('vnf:stop:0');
    expect(readFileSync(join(sys, 'bus/pci/devices', FAKE_PF, 'sriov_numvfs'), 'utf8')).to.equal('0');
    expect(cleanup.labels()).to.deep.equal([]);
  });

  it('errors: PCI passthrough only with VSWITCH=none, pvp and WHITELIST_NICS', async () => {
    const fail = async (c: DriverContext, dep: string, text: string) =>
      (await pxpFactory(dep).build(c)).setup(c.signal).then(
        () => expect.fail('should throw'),
        (e) => expect(e).to.be.instanceOf(UsageError).and.have.property('message').that.includes(text),
      );
    await fail(make({ VNF: 'RecPt' }, 'none'), 'pvvp', 'pvp only');
    await fail(make({ VNF: 'RecPt', WHITELIST_NICS: [] }, 'none'), 'pvp', 'needs WHITELIST_NICS');
    await fail(make({ VNF: 'RecPt' }), 'pvp', 'needs --vswitch none');
    expect(
      log.filter((l) => l.startsWith('vnf:start')),
      'no guest started',
    ).to.deep.equal([]);
    expect(cleanup.size, 'failed setups released what they created').to.equal(0);
  });

  it('errors: guests without vhost-user (VSWITCH=none), frame modification without a switch, one NIC only', async () => {
    ctx = make({}, 'none');
    await (await pxpFactory('pvp').build(ctx)).setup(ctx.signal).then(
      () => expect.fail('should throw'),
      (e) =>
        expect(e)
          .to.be.instanceOf(UsageError)
          .and.include({ hint: 'without a vSwitch the guest gets the NICs by PCI passthrough: --vnf QemuPciPassthrough (VNF RecVnf uses vhost-user)' })
          .and.have.property('message')
          .that.includes('vhost-user'),
    );
    ctx = make({ FRAME_MOD: 'vlan' }, 'none');
    await (await phy2phyFactory().build(ctx)).setup(ctx.signal).then(
      () => expect.fail('should throw'),
      (e) => expect(e).to.be.instanceOf(UsageError).and.have.property('message').that.includes('frame modification'),
    );
    ctx = make({ WHITELIST_NICS: [NICS[0]!] });
    await (await phy2phyFactory().build(ctx)).setup(ctx.signal).then(
      () => expect.fail('should throw'),
      (e) => expect((e as Error).message).to.include('needs 2 NICs'),
    );
    expect(cleanup.size, 'failed setups released what they created').to.equal(0);
  });
});
