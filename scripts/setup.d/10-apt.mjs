// Debian packages the project needs. Add a package here when a component needs it (one line, with why).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

// QEMU >= 9.0 from Debian's bookworm-backports: 7.2 (bookworm) loses TCG guest writes during migration
// (upstream fix 03bfc2188f), which 7.2 can only dodge with a RAM pad that makes every migration start with a
// 100-270 ms stall. Backports is an official Debian suite: nothing is fetched from outside Debian.
export const BACKPORTS = { suite: 'bookworm-backports', packages: ['qemu-system-x86'], minQemuMajor: 9 };
const BACKPORTS_LIST = '/etc/apt/sources.list.d/vsperf-ts-backports.sources';

export const PACKAGES = [
  'openvswitch-switch-dpdk', // OVS with the DPDK datapath (OvsDpdkVhost) and the plain build (OvsVanilla)
  'dpdk',
  'dpdk-dev', // dpdk-testpmd (generator benchmark), PMDs net_af_packet/net_af_xdp/net_virtio_user/net_pcap
  'libdpdk-dev', // vsg-engine's dpdk backend (pkg-config libdpdk)
  // qemu-system-x86 comes from bookworm-backports (BACKPORTS below), not from this list
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
  'numactl', // VSPERF's integration steps read the NUMA layout with `numactl -H` (vhost_numa_awareness)
  'tcpdump', // debugging aids used by the docs
  'influxdb', // InfluxDB 1.x for the export test
  'chromium', // headless rendering test of the HTML report
  'python3-grpcio',
  'python3-protobuf', // foreign-client interop test of the shim (gRPC C core, stubs from a buf descriptor set)
  'openssh-server', // sshd of each two-host sandbox host (own config per namespace; never started as a service)
];

/** The archive this host already uses for bookworm (a mirror or snapshot), so backports comes from the same place. */
function debianMirror() {
  for (const f of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    if (!existsSync(f)) continue;
    const text = readFileSync(f, 'utf8');
    const deb822 = /^URIs:\s*(\S+)\s*$\n^Suites:.*\bbookworm\b/m.exec(text);
    if (deb822) return deb822[1];
    const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(text);
    if (oneLine) return oneLine[1];
  }
  return 'http://deb.debian.org/debian';
}

/** Backports is for bookworm only: a later Debian has QEMU >= 9 in its own suite. */
function onBookworm() {
  return existsSync('/etc/os-release') && /^VERSION_CODENAME=bookworm$/m.test(readFileSync('/etc/os-release', 'utf8'));
}

function backportsListed() {
  return existsSync(BACKPORTS_LIST);
}

function qemuMajor() {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'qemu-system-x86'], { encoding: 'utf8' });
  const m = /^(?:\d+:)?(\d+)\./.exec(r.stdout || '');
  return r.status === 0 && m ? Number(m[1]) : 0;
}

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
  return missing().length === 0 && qemuMajor() >= BACKPORTS.minQemuMajor;
}
export async function run(ctx) {
  const m = missing();
  if (m.length) ctx.log(`installing ${m.join(' ')}`);
  if (process.getuid?.() !== 0) throw new Error('installing packages needs root (run as root or sudo npm run setup)');
  const needQemu = qemuMajor() < BACKPORTS.minQemuMajor;
  if (needQemu && onBookworm() && !backportsListed()) {
    const uri = debianMirror();
    ctx.log(`adding ${BACKPORTS.suite} from ${uri} to apt's sources (${BACKPORTS_LIST})`);
    writeFileSync(
      BACKPORTS_LIST,
      `Types: deb\nURIs: ${uri}\nSuites: ${BACKPORTS.suite}\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`,
    );
  }
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  ctx.sh(['apt-get', 'update', '-q']);
  if (m.length) ctx.sh(['apt-get', 'install', '-y', '-q', '--no-install-recommends', ...m], { env });
  if (needQemu) {
    const from = backportsListed() ? ['-t', BACKPORTS.suite] : [];
    ctx.log(`installing ${BACKPORTS.packages.join(' ')}${from.length ? ` from ${BACKPORTS.suite}` : ''}`);
    ctx.sh(['apt-get', 'install', '-y', '-q', '--no-install-recommends', ...from, ...BACKPORTS.packages], { env });
  }
}
