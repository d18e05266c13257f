// Guest image for QemuDpdkVhostUser: the Debian kernel (via the linux-image-amd64 metapackage, fetched
// with `apt-get download`, never installed) + a busybox-static initramfs whose /init loads virtio-net,
// starts the loopback app named on the kernel command line and prints a ready marker on ttyS0; ttyS1
// carries time queries (vsperf-clockd, built here from scripts/guest/clockd.c); the virtio-serial port
// org.vsperf.cmd carries commands from the host (vsperf-cmdd, scripts/guest/cmdd.c).
// Cached under .vsperf/guest/ (or $VSPERF_GUEST_DIR); rebuilt when the kernel package, busybox or this
// file's init script change. Debian packages only.
import { existsSync, mkdirSync, readFileSync, writeFileSync, readdirSync, rmSync, copyFileSync, chmodSync, renameSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { dpdkFiles, dpdkInputs } from '../guest/dpdk-apps.mjs';
import { captureFiles, captureInputs } from '../guest/capture-tools.mjs';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';

/** Kernel modules, in insmod order (from `modinfo -F depends`; the .deb ships no modules.dep). */
export const MODULES = [
  'virtio_ring',
  'virtio',
  'virtio_pci_modern_dev',
  'virtio_pci_legacy_dev',
  'virtio_pci',
  'virtio_console',
  'failover',
  'net_failover',
  'virtio_net',
  'llc',
  'stp',
  'bridge',
  'uio',
  'uio_pci_generic',
];

/**
 * /init of the guest. Kernel parameters it reads: vsperf.loopback=<app> (linux_bridge | buildin |
 * testpmd | l2fwd), vsperf.nics=<n>. Serial markers: VSPERF-INIT, VSPERF-ERR <what>, VSPERF-READY.
 * ttyS1: vsperf-clockd answers time queries (a line in, "T <id> <sec>.<nsec> <res ns>" out).
 * virtio-serial port org.vsperf.cmd: vsperf-cmdd runs the host's commands (cwd /root).
 */
export const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mkdir -p /tmp /var/run
say() { echo "$*" > /dev/ttyS0; }
say "VSPERF-INIT uptime=$(cut -d' ' -f1 /proc/uptime)"
# Time queries from the host on the second serial port (QEMU isa-serial index 1; vnfs/qemu/guest-clock.ts).
[ -e /dev/ttyS1 ] && { vsperf-clockd /dev/ttyS1 2>/dev/null & }
APP=buildin; NICS=2
for a in $(cat /proc/cmdline); do
  case "$a" in vsperf.loopback=*) APP="\${a#vsperf.loopback=}";; vsperf.nics=*) NICS="\${a#vsperf.nics=}";; esac
done
for m in ${MODULES.join(' ')}; do
  insmod /mods/$m.ko || say "VSPERF-ERR insmod $m"
done
# Commands from the host (vnfs/qemu/guest-command.ts) on the virtio-serial port named org.vsperf.cmd;
# virtio_console adds ports as the host announces them, so look for it for a while in the background.
mkdir -p /root
(
  i=0
  while [ $i -lt 200 ]; do
    for p in /sys/class/virtio-ports/*; do
      [ "$(cat $p/name 2>/dev/null)" = org.vsperf.cmd ] && [ -e /dev/\${p##*/} ] && { cd /root; HOME=/root exec vsperf-cmdd /dev/\${p##*/} 2>/dev/null; }
    done
    [ -e /sys/class/virtio-ports ] || [ $i -lt 40 ] || exit 0
    sleep 0.05; i=$((i+1))
  done
) &
echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6
echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6
if [ "$NICS" -gt 0 ]; then
  last=$((NICS-1)); i=0
  while [ ! -e /sys/class/net/eth$last ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
  [ -e /sys/class/net/eth$last ] || { say "VSPERF-ERR only $(ls /sys/class/net | tr '\\n' ' ') appeared, expected $NICS NICs"; APP=none; }
fi
bridge_pairs() {
  k=0
  while [ $((2*k+1)) -lt $NICS ]; do
    b=br$k; brctl addbr $b
    echo 0 > /sys/class/net/$b/bridge/stp_state
    echo 0 > /sys/class/net/$b/bridge/forward_delay
    echo 0 > /sys/class/net/$b/bridge/ageing_time 2>/dev/null
    for e in eth$((2*k)) eth$((2*k+1)); do ip link set $e up; brctl addif $b $e; done
    ip link set $b up; k=$((k+1))
  done
}
# DPDK apps (their plugins: symlinks to the libraries, nothing else in the plugin directory) drive the virtio NICs from user space. The guest kernel hands them over through
# uio_pci_generic: Debian's kernel has no CONFIG_VFIO_NOIOMMU and a TCG guest has no IOMMU, so
# vfio-pci cannot take them; DPDK's virtio PMD polls and needs no interrupt from uio.
dpdk_bind() {
  n=0
  for d in /sys/bus/pci/devices/*; do
    [ "$(cat $d/vendor)" = 0x1af4 ] || continue
    case "$(cat $d/device)" in 0x1000|0x1041) ;; *) continue;; esac
    a=\${d##*/}
    echo uio_pci_generic > $d/driver_override
    [ -e $d/driver ] && echo $a > $d/driver/unbind
    echo $a > /sys/bus/pci/drivers_probe
    n=$((n+1))
  done
  [ "$n" -eq "$NICS" ] || say "VSPERF-ERR bound $n virtio NICs to uio_pci_generic, expected $NICS"
  mkdir -p /dev/hugepages; mount -t hugetlbfs nodev /dev/hugepages
  [ "$(cat /proc/sys/vm/nr_hugepages)" -gt 0 ] || say "VSPERF-ERR no hugepages (kernel command line hugepages=)"
}
# Run a DPDK app in the background with a stdin that never ends (testpmd exits on EOF) and wait for
# its ready line. $1 name, $2 ready pattern, then the argv.
dpdk_run() {
  app=$1; pat=$2; shift 2
  mkfifo /tmp/$app.in; sleep 2147483647 > /tmp/$app.in &
  # Line-buffered stdout (coreutils' libstdbuf): the app's printf lines, the ready line among them,
  # reach the log file as they are printed, not when a 4 KiB stdio buffer fills.
  LD_PRELOAD=/usr/libexec/coreutils/libstdbuf.so _STDBUF_O=L "$@" < /tmp/$app.in > /tmp/$app.log 2>&1 &
  pid=$!; i=0
  # GUEST_KERNEL_APPEND=vsperf.debug=1 (libgcc_s in the image) streams the app's output to the serial console.
  grep -q vsperf.debug=1 /proc/cmdline && tail -f /tmp/$app.log > /dev/ttyS0 &
  while ! grep -q "$pat" /tmp/$app.log; do
    # A status above 128 is a signal: 132 (SIGILL) is a CPU without the instructions DPDK was built for.
    kill -0 $pid 2>/dev/null || { wait $pid; say "VSPERF-ERR $app exited with status $?: $(tail -n 12 /tmp/$app.log | tr '\\n' ' ')"; return 1; }
    i=$((i+1)); [ $((i % 100)) -ne 0 ] || say "VSPERF-WAIT $app $((i/10)) s: $(tail -n 1 /tmp/$app.log)"
    [ $i -lt 1800 ] || { say "VSPERF-ERR $app not forwarding after 180 s: $(tail -n 4 /tmp/$app.log | tr '\\n' ' ')"; return 1; }
    sleep 0.1
  done
  say "VSPERF-READY app=$app uptime=$(cut -d' ' -f1 /proc/uptime) ports=$NICS"
}
# vsperf.fwdcpu= (the host sets it with 2+ vCPUs): the CPU the guest kernel leaves to the app
# (isolcpus, nohz_full). testpmd's main lcore only waits on stdin: on CPU 0, its forwarding lcore on
# that CPU; without it both on CPU 0. l2fwd forwards on its main lcore.
FWDCPU=
for a in $(cat /proc/cmdline); do case "$a" in vsperf.fwdcpu=*) FWDCPU="\${a#vsperf.fwdcpu=}";; esac; done
testpmd_lcores() { [ -n "$FWDCPU" ] && echo "-l 0,$FWDCPU" || echo "--lcores=0@0,1@0"; }
case "$APP" in
  testpmd)
    dpdk_bind
    FWD=io; EXTRA=
    for a in $(cat /proc/cmdline); do
      case "$a" in vsperf.fwd=*) FWD="\${a#vsperf.fwd=}";; vsperf.testpmd=*) EXTRA="$(echo "\${a#vsperf.testpmd=}" | base64 -d)";; esac
    done
    dpdk_run testpmd "Press enter to exit" dpdk-testpmd $(testpmd_lcores) -n 1 -m 64 --no-telemetry -- \
      --forward-mode=$FWD --auto-start --disable-link-check --no-lsc-interrupt --nb-cores=1 --total-num-mbufs=8192 $EXTRA;;
  l2fwd)
    dpdk_bind
    mask=$(printf '0x%x' $(( (1 << NICS) - 1 )))
    dpdk_run l2fwd "entering main loop" dpdk-l2fwd -l \${FWDCPU:-0} -n 1 -m 64 --no-telemetry -- -p $mask -q $NICS -T 0 --no-mac-updating;;
  linux_bridge) bridge_pairs; say "VSPERF-READY app=linux_bridge uptime=$(cut -d' ' -f1 /proc/uptime) $(ls /sys/class/net | tr '\\n' ' ')";;
  buildin) bridge_pairs; say "VSPERF-READY app=buildin uptime=$(cut -d' ' -f1 /proc/uptime) $(ls /sys/class/net | tr '\\n' ' ')";;
  none) ;;
  *) say "VSPERF-ERR loopback app $APP is not in this image (it has linux_bridge, buildin, testpmd, l2fwd)";;
esac
while true; do sleep 3600; done
`;

const ROOT = new URL('../..', import.meta.url).pathname;
const CLOCKD_SRC = join(ROOT, 'scripts', 'guest', 'clockd.c');
const CMDD_SRC = join(ROOT, 'scripts', 'guest', 'cmdd.c');
export const GUEST_DIR = process.env.VSPERF_GUEST_DIR || join(ROOT, '.vsperf', 'guest');

function out(argv, opts = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', ...opts });
  if (r.error) throw new Error(`${argv[0]}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited with ${r.status}: ${(r.stderr || '').trim().split('\n').slice(-2).join(' | ')}`);
  return r.stdout;
}

/** The concrete kernel package behind linux-image-amd64 and its pinned version (one apt-cache call). */
function kernelPackage() {
  const show = out(['apt-cache', 'show', '--no-all-versions', 'linux-image-amd64']);
  const m = show.match(/^Depends:.*?(linux-image-[0-9][^\s,]*) \(= ([^)\s]+)\)/m);
  if (!m) throw new Error('apt-cache show linux-image-amd64 names no linux-image-<ver> (= version) dependency (run apt-get update)');
  return { pkg: m[1], version: m[2] };
}

function busyboxVersion() {
  return out(['dpkg-query', '-W', '-f=${Version}', 'busybox-static']).trim();
}

function inputs() {
  const k = kernelPackage();
  return {
    kernelPackage: k.pkg,
    kernelVersion: k.version,
    busybox: busyboxVersion(),
    dpdk: dpdkInputs().dpdk,
    tcpdump: captureInputs().tcpdump,
    init: initHash(),
  };
}

/** The init script, its module list and the sources of the clock and command responders: what the image is built from here. */
function initHash() {
  return createHash('sha256').update(INIT).update(MODULES.join(',')).update(readFileSync(CLOCKD_SRC)).update(readFileSync(CMDD_SRC)).digest('hex').slice(0, 16);
}

function manifestPath() {
  return join(GUEST_DIR, 'manifest.json');
}

export const title = `guest image (Debian kernel + busybox initramfs in ${GUEST_DIR})`;

export async function check() {
  if (!existsSync(join(GUEST_DIR, 'vmlinuz')) || !existsSync(join(GUEST_DIR, 'initramfs.gz')) || !existsSync(manifestPath())) return false;
  let have;
  try {
    have = JSON.parse(readFileSync(manifestPath(), 'utf8'));
  } catch {
    return false;
  }
  let want;
  try {
    want = inputs();
  } catch {
    // apt metadata unavailable (offline box): keep a complete image built from the same init script.
    return have.init === initHash();
  }
  return ['kernelPackage', 'kernelVersion', 'busybox', 'dpdk', 'tcpdump', 'init'].every((k) => have[k] === want[k]);
}

export async function run(ctx) {
  const log = ctx?.log ?? ((m) => console.log(m));
  const want = inputs();
  mkdirSync(GUEST_DIR, { recursive: true });
  const debs = readdirSync(GUEST_DIR).filter((f) => f.endsWith('.deb'));
  const verFile = want.kernelVersion.replace(/:/g, '%3a');
  let deb = debs.find((f) => f.startsWith(`${want.kernelPackage}_${verFile}_`));
  if (!deb) {
    log(`downloading ${want.kernelPackage} ${want.kernelVersion} (~70 MB) with apt-get download`);
    out(['apt-get', 'download', '-q', `${want.kernelPackage}=${want.kernelVersion}`], { cwd: GUEST_DIR });
    deb = readdirSync(GUEST_DIR).find((f) => f.startsWith(`${want.kernelPackage}_`) && f.endsWith('.deb'));
    if (!deb) throw new Error('apt-get download produced no .deb');
  }
  for (const f of readdirSync(GUEST_DIR)) if (f.endsWith('.deb') && f !== deb) rmSync(join(GUEST_DIR, f));
  const work = join(GUEST_DIR, 'build');
  rmSync(work, { recursive: true, force: true });
  const kroot = join(work, 'kroot');
  const rootfs = join(work, 'rootfs');
  mkdirSync(kroot, { recursive: true });
  out(['dpkg-deb', '-x', join(GUEST_DIR, deb), kroot]);
  const kver = readdirSync(join(kroot, 'lib', 'modules'))[0];
  for (const d of ['bin', 'proc', 'sys', 'dev', 'mods']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
  chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
  out(['gcc', '-O2', '-static', '-Wall', '-Werror', '-o', join(rootfs, 'bin', 'vsperf-clockd'), CLOCKD_SRC]);
  out(['gcc', '-O2', '-static', '-Wall', '-Werror', '-o', join(rootfs, 'bin', 'vsperf-cmdd'), CMDD_SRC]);
  const modRoot = join(kroot, 'lib', 'modules', kver, 'kernel');
  const all = out(['find', modRoot, '-name', '*.ko']).split('\n').filter(Boolean);
  for (const m of MODULES) {
    const f = all.find((p) => p.endsWith(`/${m}.ko`));
    if (!f) throw new Error(`module ${m}.ko not found in ${deb}`);
    copyFileSync(f, join(rootfs, 'mods', `${m}.ko`));
  }
  const dpdk = dpdkFiles(join(work, 'dpdk'));
  for (const [at, real] of dpdk.files) {
    const dest = join(rootfs, at);
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(real, dest);
    chmodSync(dest, 0o755);
  }
  for (const [at, target] of dpdk.links) {
    mkdirSync(dirname(join(rootfs, at)), { recursive: true });
    symlinkSync(target, join(rootfs, at));
  }
  // tcpdump shares most libraries with testpmd (libc, …): the same host file lands on the same path.
  const capture = captureFiles();
  for (const [at, real] of capture.files) {
    const dest = join(rootfs, at);
    if (existsSync(dest)) continue;
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(real, dest);
    chmodSync(dest, 0o755);
  }
  for (const [at, text] of capture.texts) {
    mkdirSync(dirname(join(rootfs, at)), { recursive: true });
    writeFileSync(join(rootfs, at), text, { mode: 0o644 });
  }
  log(`guest image: tcpdump, ${capture.files.size - 1} libraries (with those of the DPDK apps)`);
  log(`guest image: dpdk-testpmd, dpdk-l2fwd, ${dpdk.files.size - 3} libraries, ${dpdk.links.size} PMD plugins`);
  writeFileSync(join(rootfs, 'init'), INIT, { mode: 0o755 });
  const list = out(['find', '.'], { cwd: rootfs });
  const cpio = spawnSync('cpio', ['-o', '-H', 'newc', '--quiet'], { cwd: rootfs, input: list, maxBuffer: 512 * 1024 * 1024 });
  if (cpio.status !== 0) throw new Error(`cpio failed: ${String(cpio.stderr)}`);
  writeFileSync(join(GUEST_DIR, 'initramfs.gz.tmp'), gzipSync(cpio.stdout, { level: 6 }));
  copyFileSync(join(kroot, 'boot', `vmlinuz-${kver}`), join(GUEST_DIR, 'vmlinuz.tmp'));
  renameSync(join(GUEST_DIR, 'initramfs.gz.tmp'), join(GUEST_DIR, 'initramfs.gz'));
  renameSync(join(GUEST_DIR, 'vmlinuz.tmp'), join(GUEST_DIR, 'vmlinuz'));
  rmSync(work, { recursive: true, force: true });
  writeFileSync(manifestPath(), JSON.stringify({ ...want, kernelRelease: kver, deb, builtAt: new Date().toISOString() }, null, 2) + '\n');
  log(`guest image: kernel ${kver}, initramfs ${(readFileSync(join(GUEST_DIR, 'initramfs.gz')).length / 1e6).toFixed(1)} MB`);
}
