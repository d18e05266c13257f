// DPDK loopback apps for the guest image, from Debian packages only: dpdk-testpmd (package dpdk) and
// l2fwd built from the example sources Debian ships in dpdk-doc against libdpdk-dev (pkg-config), plus
// the PMD plugins a virtio-net guest needs and every library they load (elf-closure.mjs).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import { elfClosure } from './elf-closure.mjs';

export const TESTPMD = '/usr/bin/dpdk-testpmd';
export const L2FWD_SRC = '/usr/share/dpdk/examples/l2fwd/main.c';
/**
 * coreutils' stdbuf preload library (Debian's coreutils is Essential): the guest's /init preloads it
 * so that a DPDK app's stdout is line-buffered. testpmd prints its ready line ("Press enter to exit")
 * with printf to a log file, which stdio buffers in 4 KiB blocks: without it the line never reaches
 * the file and testpmd looks stuck after its last rte_log line (rte_log flushes, printf does not).
 */
export const STDBUF_LIB = '/usr/libexec/coreutils/libstdbuf.so';
/** EAL loads every plugin in its compiled-in directory: the guest's holds only these. */
export const PLUGINS = ['librte_bus_pci.so', 'librte_net_virtio.so', 'librte_mempool_ring.so'];

function run(argv, opts = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', ...opts });
  if (r.error) throw new Error(`${argv[0]}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited with ${r.status}: ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`);
  return r.stdout;
}

/** DPDK's plugin directory (EAL's compiled-in RTE_EAL_PMD_PATH). */
export function pluginDir() {
  const base = '/usr/lib/x86_64-linux-gnu/dpdk';
  const d = existsSync(base) ? readdirSync(base).find((x) => x.startsWith('pmds-')) : undefined;
  if (!d) throw new Error(`no ${base}/pmds-* (install the Debian package dpdk)`);
  return join(base, d);
}

/** What the image's DPDK part is built from, for the rebuild check. */
export function dpdkInputs() {
  const v = spawnSync('pkg-config', ['--modversion', 'libdpdk'], { encoding: 'utf8' });
  return { dpdk: v.status === 0 ? v.stdout.trim() : 'missing' };
}

function buildL2fwd(workDir) {
  if (!existsSync(L2FWD_SRC)) throw new Error(`${L2FWD_SRC} is missing (install the Debian package dpdk-doc)`);
  const flags = run(['pkg-config', '--cflags', '--libs', 'libdpdk']).trim().split(/\s+/);
  const out = join(workDir, 'dpdk-l2fwd');
  run(['cc', '-O2', '-DALLOW_EXPERIMENTAL_API', '-o', out, L2FWD_SRC, ...flags]);
  return out;
}

/**
 * What to put in the initramfs: `files` maps a path inside the guest to the host file to copy, `links`
 * a path inside the guest to its symlink target. Throws with the package to install when a piece is
 * missing.
 */
export function dpdkFiles(workDir) {
  if (!existsSync(TESTPMD)) throw new Error(`${TESTPMD} is missing (install the Debian package dpdk)`);
  if (!existsSync(STDBUF_LIB)) throw new Error(`${STDBUF_LIB} is missing (install the Debian package coreutils)`);
  mkdirSync(workDir, { recursive: true });
  const l2fwd = buildL2fwd(workDir);
  const plugins = PLUGINS.map((p) => join(pluginDir(), p));
  const files = new Map([
    ['/bin/dpdk-testpmd', TESTPMD],
    ['/bin/dpdk-l2fwd', l2fwd],
    [STDBUF_LIB, STDBUF_LIB],
  ]);
  // A plugin is a symlink to the library itself, as Debian installs it: testpmd also links some of
  // them (bus_pci), and a copy under another inode would be loaded twice (EAL panics on the second
  // registration of the same tailq).
  const links = new Map();
  for (const p of plugins) {
    const at = join(LIB_DIR, soname(p));
    files.set(at, realpathSync(p));
    links.set(p, at);
  }
  // Every library goes to one system directory of the guest, including those the host finds through
  // testpmd's RUNPATH (DPDK's plugin directory): EAL loads every file in that directory as a plugin,
  // and the guest's must hold only the three above. The loader falls back to the system directory.
  // glibc loads libgcc_s with dlopen (thread cancellation and unwinding): no DT_NEEDED names it.
  const libgcc = join(LIB_DIR, 'libgcc_s.so.1');
  files.set(libgcc, realpathSync(libgcc));
  for (const [at, real] of elfClosure([TESTPMD, l2fwd, libgcc, STDBUF_LIB, ...plugins]))
    files.set(at.startsWith('/lib64/') ? at : join(LIB_DIR, basename(at)), real);
  return { files, links };
}

/** The directory the guest's loader searches first (glibc's multiarch system directory). */
const LIB_DIR = '/lib/x86_64-linux-gnu';

function soname(file) {
  const m = run(['readelf', '-d', '-W', file]).match(/\(SONAME\)\s+.*?\[(.*)\]/);
  if (!m) throw new Error(`${file} has no SONAME`);
  return m[1];
}
