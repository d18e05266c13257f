import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config } from '../../../../framework/config/load.js';
import type { Json, JsonObject } from '../../../../framework/config/settings.js';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Settings } from '../../../../framework/config/settings.js';
import { hostLacks, hostNeeds, hostProbe, numaNodeCount, type HostProbe } from '../../../../framework/runner/host-needs.js';

/** A host of `nodes` NUMA nodes whose OVS-DPDK says it is 9.8.7. */
const probe = (nodes: number): HostProbe => ({ numaNodes: () => nodes, ovsDpdkVersion: async () => 'OVS 9.8.7' });

const LACKS_NUMA = 'needs a host with 2 NUMA nodes (it places guests and PMD threads on different nodes); this host has 1';

describe("host needs read from a testcase's TestSteps", () => {
  const catalogue = new Config({ integration: true });
  const named = (name: string): { raw: JsonObject } => {
    const tc = catalogue.testcases().find((t) => t.name === name);
    expect(tc, name).to.not.equal(undefined);
    return tc!;
  };

  it("VSPERF's NUMA testcases need 2 nodes: one line naming what the host has", async () => {
    expect(await hostLacks(named('vhost_numa_awareness'), probe(1))).to.equal(LACKS_NUMA);
    expect(await hostLacks(named('ovsdpdk_numa'), probe(1))).to.equal(LACKS_NUMA);
    expect(await hostLacks(named('ovsdpdk_numa'), probe(2))).to.equal(undefined);
    expect(await hostLacks(named('vswitch_add_del_bridge'), probe(1))).to.equal(undefined);
  });

  it("VSPERF's vhost-user MTU testcases need a guest on the port's socket: one line, on any host; the physical-port ones run", async () => {
    const vport = [
      'ovsdpdk_jumbo_increase_mtu_vport_ovsdb',
      'ovsdpdk_jumbo_increase_mtu_vport_datapath',
      'ovsdpdk_jumbo_reduce_mtu_vport_ovsdb',
      'ovsdpdk_jumbo_reduce_mtu_vport_datapath',
      'ovsdpdk_jumbo_mtu_upper_bound_vport',
      'ovsdpdk_jumbo_mtu_lower_bound_vport',
      'ovsdpdk_jumbo_pvp',
    ];
    for (const n of vport)
      expect(await hostLacks(named(n), probe(2)), n).to.equal(
        "checks a vhost-user client port's MTU before any guest is on its socket: this OVS-DPDK (OVS 9.8.7) reports MTU 0 until a guest connects",
      );
    for (const n of ['ovsdpdk_jumbo_increase_mtu_phy_port_datapath', 'ovsdpdk_jumbo_mtu_lower_bound_phy_port', 'ovsdpdk_jumbo_p2p', 'vswitch_add_del_vport'])
      expect(await hostLacks(named(n), probe(1)), n).to.equal(undefined);
    // Read after the guest started: no need.
    const later = {
      raw: {
        TestSteps: [
          ['vswitch', 'add_vport', 'br0'],
          ['vnf', 'start'],
          ['tools', 'exec_shell', 'ovs-vsctl get Interface dpdkvhostuserclient0 mtu'],
        ],
      },
    };
    expect(hostNeeds(later)).to.deep.equal({});
  });

  it("testcases whose steps bind a PCI NIC with VSPERF's bind-tool need one: one line, before the switch starts", async () => {
    for (const name of ['ovsdpdk_hotplug_attach', 'capture_p2p2p_strip_vlan_ovs']) {
      expect(hostNeeds(named(name)), name).to.deep.equal({ bindsNic: true });
      expect(await hostLacks(named(name), probe(4)), name).to.match(/^needs a physical \(PCI\) NIC that its steps bind to a DPDK driver .*veth$/);
    }
    expect(hostNeeds(named('ovsdpdk_vdev_add_af_packet_pmd'))).to.deep.equal({});
  });

  it("a user's own testcase with the same steps gets the same check, whatever its name", async () => {
    const own = { raw: { Name: 'my_numa_check', TestSteps: named('ovsdpdk_numa').raw.TestSteps! } };
    expect(await hostLacks(own, probe(1))).to.equal(LACKS_NUMA);
  });

  it('the node count comes from the steps: node N read, or an assert on numactl "available:"', () => {
    const shell = (re: string): Json => ['tools', 'exec_shell', 'numactl -H', re];
    expect(hostNeeds({ raw: { TestSteps: [shell('node 3 cpus:.*\\s+(\\d+)$')] } })).to.deep.equal({ numaNodes: 4 });
    expect(hostNeeds({ raw: { TestSteps: [shell('available: ([0-9]+)'), ['tools', 'assert', '#STEP[-1][0]>2']] } })).to.deep.equal({ numaNodes: 3 });
    expect(hostNeeds({ raw: { TestSteps: [shell('available: ([0-9]+)'), ['tools', 'assert', '#STEP[-1][0]>=2']] } })).to.deep.equal({ numaNodes: 2 });
    // node 0 exists on every host; a step that is not numactl says nothing of NUMA.
    expect(hostNeeds({ raw: { TestSteps: [shell('node 0 cpus:.*'), ['tools', 'exec_shell', 'lscpu', 'node 1 cpus']] } })).to.deep.equal({});
    expect(hostNeeds({ raw: {} })).to.deep.equal({});
  });

  it('counts nodeN entries of sysfs', () => {
    const d = mkdtempSync(join(tmpdir(), 'numa-'));
    for (const n of ['node0', 'node1', 'possible', 'has_cpu']) mkdirSync(join(d, n));
    expect(numaNodeCount(d)).to.equal(2);
    expect(numaNodeCount(join(d, 'absent'))).to.equal(1);
    rmSync(d, { recursive: true });
  });

  it('the vhost-MTU line names the OVS version the OVS-DPDK binary of the settings reports (Debian package version the independent observer)', async function () {
    this.timeout(20_000);
    const tc = named('ovsdpdk_jumbo_pvp');
    // This host's build, as dpkg knows the package: 3.1.0-2+deb12u1 → 3.1.0.
    const pkg = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'openvswitch-switch-dpdk']).toString();
    const upstream = /^(?:\d+:)?([\d.]+)/.exec(pkg)![1]!;
    expect(await hostLacks(tc, hostProbe(new Settings({})))).to.equal(
      `checks a vhost-user client port's MTU before any guest is on its socket: this OVS-DPDK (OVS ${upstream}) reports MTU 0 until a guest connects`,
    );
    const d = mkdtempSync(join(tmpdir(), 'ovsver-'));
    try {
      const bin = join(d, 'ovs-vswitchd-dpdk');
      writeFileSync(bin, '#!/bin/sh\necho "ovs-vswitchd (Open vSwitch) 3.3.4"\necho "DPDK 23.11.1"\n', { mode: 0o755 });
      expect(await hostLacks(tc, hostProbe(new Settings({ OVS_VSWITCHD_DPDK_BIN: bin })))).to.match(/this OVS-DPDK \(OVS 3\.3\.4\) reports MTU 0/);
      writeFileSync(bin, '#!/bin/sh\necho "something else"\n', { mode: 0o755 });
      expect(await hostLacks(tc, hostProbe(new Settings({ OVS_VSWITCHD_DPDK_BIN: bin })))).to.match(
        /this OVS-DPDK \(version unknown: .* --version printed "something else"\)/,
      );
      expect(await hostLacks(tc, hostProbe(new Settings({ OVS_VSWITCHD_DPDK_BIN: join(d, 'absent') })))).to.match(
        /this OVS-DPDK \(version unknown: command not found: .*absent\)/,
      );
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
