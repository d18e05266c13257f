import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config } from '../../../../framework/config/load.js';
import type { Json, JsonObject } from '../../../../framework/config/settings.js';
import { hostLacks, hostNeeds, numaNodeCount } from '../../../../framework/runner/host-needs.js';

const LACKS_NUMA = 'needs a host with 2 NUMA nodes (it places guests and PMD threads on different nodes); this host has 1';

describe("host needs read from a testcase's TestSteps", () => {
  const catalogue = new Config({ integration: true });
  const named = (name: string): { raw: JsonObject } => {
    const tc = catalogue.testcases().find((t) => t.name === name);
    expect(tc, name).to.not.equal(undefined);
    return tc!;
  };

  it("VSPERF's NUMA testcases need 2 nodes: one line naming what the host has", () => {
    expect(hostLacks(named('vhost_numa_awareness'), { numaNodes: () => 1 })).to.equal(LACKS_NUMA);
    expect(hostLacks(named('ovsdpdk_numa'), { numaNodes: () => 1 })).to.equal(LACKS_NUMA);
    expect(hostLacks(named('ovsdpdk_numa'), { numaNodes: () => 2 })).to.equal(undefined);
    expect(hostLacks(named('vswitch_add_del_bridge'), { numaNodes: () => 1 })).to.equal(undefined);
  });

  it("VSPERF's vhost-user MTU testcases need a guest on the port's socket: one line, on any host; the physical-port ones run", () => {
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
      expect(hostLacks(named(n), { numaNodes: () => 2 }), n).to.equal(
        "checks a vhost-user client port's MTU before any guest is on its socket: this OVS-DPDK (3.1) reports MTU 0 until a guest connects",
      );
    for (const n of ['ovsdpdk_jumbo_increase_mtu_phy_port_datapath', 'ovsdpdk_jumbo_mtu_lower_bound_phy_port', 'ovsdpdk_jumbo_p2p', 'vswitch_add_del_vport'])
      expect(hostLacks(named(n), { numaNodes: () => 1 }), n).to.equal(undefined);
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

  it("testcases whose steps bind a PCI NIC with VSPERF's bind-tool need one: one line, before the switch starts", () => {
    for (const name of ['ovsdpdk_hotplug_attach', 'capture_p2p2p_strip_vlan_ovs']) {
      expect(hostNeeds(named(name)), name).to.deep.equal({ bindsNic: true });
      expect(hostLacks(named(name), { numaNodes: () => 4 }), name).to.match(/^needs a physical \(PCI\) NIC that its steps bind to a DPDK driver .*veth$/);
    }
    expect(hostNeeds(named('ovsdpdk_vdev_add_af_packet_pmd'))).to.deep.equal({});
  });

  it("a user's own testcase with the same steps gets the same check, whatever its name", () => {
    const own = { raw: { Name: 'my_numa_check', TestSteps: named('ovsdpdk_numa').raw.TestSteps! } };
    expect(hostLacks(own, { numaNodes: () => 1 })).to.equal(LACKS_NUMA);
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
});
