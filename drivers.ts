/**
 * Composition root: the built-in drivers (and the traffic types that live with them), listed explicitly (no folder scan: one broken driver must not break the rest).
 * Each entry is tiny; `create` imports the heavy module only when the driver is used, so
 * `vsperf --list` stays fast.
 */
import type { RegistryApi } from './framework/api/driver.js';
import { addTrafficType } from './framework/methodology/index.js';

export function registerBuiltins(r: RegistryApi): void {
  addTrafficType('live_migration', async () => (await import('./vnfs/migration/methodology.js')).liveMigration);
  r.add({
    kind: 'trafficgen',
    name: 'Simulated',
    aliases: ['Dummy'],
    summary: 'Simulated DUT and generator (computed, not measured: results are labelled simulated)',
    create: async (ctx) => (await import('./trafficgen/simulated/driver.js')).createSimulated(ctx),
    checkSettings: async (s) => (await import('./trafficgen/simulated/driver.js')).checkSimulatedSettings(s),
  });
  // --- builtins added by each area below (keep one block per area) ---
  // software generator (issue 4): native vsg-engine on AF_PACKET / AF_XDP
  r.add({
    kind: 'trafficgen',
    name: 'Software',
    aliases: ['vsg'],
    summary:
      'Built-in software generator: real frames on interfaces/veths via the native vsg-engine (AF_XDP or AF_PACKET), per-frame loss and latency (TRAFFICGEN_SOFTWARE_*)',
    // Where its ports are: here, or (ports on a generator host) through a vsperf-tgshim started there over SSH.
    create: async (ctx) =>
      new (await import('./framework/runner/placed-generator.js')).PlacedGenerator(
        await (await import('./trafficgen/software/driver.js')).createSoftware(ctx),
        (await import('./trafficgen/grpc/remote-shim.js')).remoteSoftwareOpener(ctx),
      ),
  });
  // deployments (issue 6): vSwitches and VSPERF deployment names
  r.add({
    kind: 'vswitch',
    name: 'OvsDpdkVhost',
    summary: 'Open vSwitch with DPDK (ovs-vswitchd-dpdk, private run dir), dpdk and vhost-user ports',
    create: async (ctx) => (await import('./deployments/vswitch/ovs-drivers.js')).createOvsDpdkVhost(ctx),
  });
  r.add({
    kind: 'vswitch',
    name: 'OvsVanilla',
    summary: 'Open vSwitch without DPDK (userspace netdev datapath, kernel netdevs as ports)',
    create: async (ctx) => (await import('./deployments/vswitch/ovs-drivers.js')).createOvsVanilla(ctx),
  });
  r.add({
    kind: 'vswitch',
    name: 'none',
    aliases: ['SriovVf'],
    summary: 'no vSwitch: ports wired straight; with WHITELIST_NICS "PCI|vfN" the SR-IOV VFs are used (VSPERF SR-IOV mode)',
    create: async () => new (await import('./deployments/vswitch/none.js')).NoSwitch(),
  });
  r.add({
    kind: 'deployment',
    name: 'p2p',
    aliases: ['phy2phy'],
    summary: 'physical port → vSwitch → physical port',
    create: async () => (await import('./deployments/index.js')).phy2phyFactory(),
  });
  r.add({
    kind: 'deployment',
    name: 'clean',
    summary: 'vSwitch started with nothing configured: the testcase TestSteps add bridges, ports, flows and guests',
    create: async () => (await import('./deployments/index.js')).cleanFactory(),
  });
  r.add({
    kind: 'deployment',
    name: 'op2p',
    summary: 'overlay: physical → tunnel endpoint (VXLAN/GRE/GENEVE on OVS) → physical; TUNNEL_TYPE, TUNNEL_OPERATION',
    create: async () => (await import('./deployments/index.js')).op2pFactory(),
    checkSettings: async (s) => (await import('./deployments/topologies/op2p.js')).checkOp2pSettings(s),
  });
  r.add({
    kind: 'deployment',
    name: 'ptunp',
    summary: 'VXLAN encap and decap inside the switch: physical → tunnel → modify bridges → tunnel → physical; the generator sends plain frames',
    create: async () => (await import('./deployments/index.js')).ptunpFactory(),
    checkSettings: async (s) => (await import('./deployments/topologies/ptunp.js')).checkPtunpSettings(s),
  });
  r.add({
    kind: 'deployment',
    name: 'pvp_peer',
    summary: 'pvp guest on one host migrating to another over SSH (TESTBED_HOSTS, or the two-host sandbox): OVS-DPDK per host, uplinked to one L2 fabric',
    checkSettings: async (s) => {
      (await import('./framework/host/testbed-hosts.js')).parseTestbedHosts(s.getOr('TESTBED_HOSTS', []), s.source('TESTBED_HOSTS'));
    },
    create: async () => ({
      name: 'pvp_peer',
      // The guest comes from the QEMU driver, handed in: a deployment does not import a VNF driver.
      build: async (ctx) => {
        const [{ PeerPvpDeployment }, { launchPeerGuest }] = await Promise.all([
          import('./deployments/topologies/peer.js'),
          import('./vnfs/qemu/peer-guest.js'),
        ]);
        return new PeerPvpDeployment(ctx, launchPeerGuest);
      },
    }),
  });
  const pxp: Array<[string, string[], string]> = [
    ['pvp', ['pvvp1'], 'physical → guest → physical'],
    ['pvvp', ['pvvp2'], 'two guests in series (pvvpN: N guests)'],
    ['pvvp3', [], 'three guests in series'],
    ['pvvp4', [], 'four guests in series'],
    ['pvpv', ['pvpv2'], 'two guests in parallel, traffic split by stream (pvpvN: N guests)'],
    ['pvpv1', [], 'one guest, each NIC pair wired to the physical ports in parallel'],
    ['pvpv3', [], 'three guests in parallel'],
    ['pvpv4', [], 'four guests in parallel'],
    ['pvpv6', [], 'six guests in parallel (VSPERF 6pvp_udp_dest_flows)'],
    ['pxp', [], 'guests in series, one per GUEST_NICS_NR entry'],
  ];
  for (const [name, aliases, summary] of pxp) {
    r.add({ kind: 'deployment', name, aliases, summary, create: async () => (await import('./deployments/index.js')).pxpFactory(name) });
  }
  // grpc (issue 8): IXIA through the tgshim.v1 gRPC shim
  r.add({
    kind: 'trafficgen',
    name: 'Ixia',
    aliases: ['IxNet'],
    summary: 'IXIA (or any generator) behind a vsperf-tgshim gRPC shim: TLS + token, trial timing in the shim (TRAFFICGEN_IXIA_SHIM_*)',
    create: async (ctx) => (await import('./trafficgen/grpc/client.js')).createShimClient(ctx),
    describePlan: async (s) => (await import('./trafficgen/grpc/ixnet-plan.js')).describeIxnetPlan(s),
  });
  // reporting (issue 9): load generators
  r.add({
    kind: 'loadgen',
    name: 'StressNg',
    aliases: ['stress-ng'],
    summary: 'stress-ng CPU/IO/memory load sized from LOADGEN_CONFIG (VSPERF Load: load %, reserved, pattern c/i/m, load_memory %)',
    create: async (ctx) => (await import('./framework/collectors/loadgen/stress-ng.js')).createStressNg(ctx),
  });
  r.add({
    kind: 'loadgen',
    name: 'DummyLoadGen',
    aliases: ['none'],
    summary: 'no background load (VSPERF default)',
    create: async () => (await import('./framework/collectors/loadgen/stress-ng.js')).createDummyLoadGen(),
  });
  // vnfs (issue 7): QEMU guests, loopback apps of the built-in image
  r.add({
    kind: 'vnf',
    name: 'QemuDpdkVhostUser',
    aliases: ['Qemu'],
    summary:
      'QEMU guest on vhost-user NICs (memfd shared memory; KVM when /dev/kvm works, else TCG), busybox image from `npm run setup`, QMP, live migration (GUEST_*)',
    create: async (ctx) => (await import('./vnfs/qemu/qemu-vm.js')).createQemuVm(ctx),
  });
  r.add({
    kind: 'vnf',
    name: 'QemuPciPassthrough',
    summary:
      'QEMU guest given the WHITELIST_NICS devices / SR-IOV VFs by PCI passthrough (vfio-pci), for --vswitch none pvp; preflight checks vfio binding, IOMMU group, /dev/vfio',
    create: async (ctx) => (await import('./vnfs/qemu/pci-passthrough-vm.js')).createQemuPciPassthrough(ctx),
  });
  r.add({
    kind: 'loopback',
    name: 'linux_bridge',
    summary: 'guest kernel bridge between each NIC pair (eth0<->eth1, ...)',
    create: async () => (await import('./vnfs/loopback.js')).linuxBridge,
  });
  r.add({
    kind: 'loopback',
    name: 'buildin',
    summary: "the image's own forwarding, vsperf configures nothing (built-in image: kernel bridge)",
    create: async () => (await import('./vnfs/loopback.js')).buildin,
  });
}
