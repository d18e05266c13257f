// Debian packages the project needs. Add a package here when a component needs it (one line, with why).
import { spawnSync } from 'node:child_process';

export const PACKAGES = [
  'openvswitch-switch-dpdk', // OVS with the DPDK datapath (OvsDpdkVhost) and the plain build (OvsVanilla)
  'dpdk',
  'dpdk-dev', // dpdk-testpmd (generator benchmark), PMDs net_af_packet/net_af_xdp/net_virtio_user/net_pcap
  'libdpdk-dev', // vsg-engine's dpdk backend (pkg-config libdpdk)
  'qemu-system-x86', // guests and live migration
  'busybox-static',
  'cpio', // guest initramfs
  'dpdk-doc',
  'binutils', // guest image: l2fwd example sources (built against libdpdk-dev), readelf for the apps' libraries
  'iproute2', // netns, veth
  'gcc',
  'make',
  'pkg-config',
  'libc6-dev', // native packet engine
  'libxdp-dev',
  'libbpf-dev',
  'xdp-tools', // AF_XDP backend
  'stress-ng',
  'rt-tests', // load generators (phy2phy_cpu_load/mem_load), cyclictest
  'socat',
  'tcpdump', // debugging aids used by the docs
  'influxdb', // InfluxDB 1.x for the export test
  'chromium', // headless rendering test of the HTML report
  'python3-grpcio',
  'python3-protobuf', // foreign-client interop test of the shim (gRPC C core, stubs from a buf descriptor set)
  'openssh-server', // sshd of each two-host sandbox host (own config per namespace; never started as a service)
];

function missing() {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\n', ...PACKAGES], { encoding: 'utf8' });
  const installed = new Set(
    (r.stdout || '')
      .split('\n')
      .filter((l) => l.endsWith(' installed'))
      .map((l) => l.split(' ')[0]),
  );
  return PACKAGES.filter((p) => !installed.has(p));
}

export const title = 'Debian packages';
export async function check() {
  return missing().length === 0;
}
export async function run(ctx) {
  const m = missing();
  ctx.log(`installing ${m.join(' ')}`);
  if (process.getuid?.() !== 0) throw new Error('installing packages needs root (run as root or sudo npm run setup)');
  ctx.sh(['apt-get', 'update', '-q']);
  ctx.sh(['apt-get', 'install', '-y', '-q', '--no-install-recommends', ...m], { env: { DEBIAN_FRONTEND: 'noninteractive' } });
}
