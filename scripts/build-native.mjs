#!/usr/bin/env node
// Builds native parts after tsc. Each native component adds itself here. Writes dist/.build-stamp.
import { writeFileSync, mkdirSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(root, 'dist'), { recursive: true });

// --- vsg-engine: the Software traffic generator's packet engine (trafficgen/software/engine) ---
// gcc via argv; rebuilt only when a source, the flags or the AF_XDP/DPDK availability changed (content hash).
function buildEngine() {
  const dir = join(root, 'trafficgen', 'software', 'engine');
  const out = join(dir, 'build', 'vsg-engine');
  const hashFile = join(dir, 'build', '.sources.sha256');
  const sources = readdirSync(dir)
    .filter((f) => f.endsWith('.c'))
    .sort();
  const headers = readdirSync(dir)
    .filter((f) => f.endsWith('.h'))
    .sort();
  const pc = spawnSync('pkg-config', ['--cflags', '--libs', 'libxdp', 'libbpf'], { encoding: 'utf8' });
  const xdp = pc.status === 0;
  const xdpFlags = xdp ? pc.stdout.trim().split(/\s+/).filter(Boolean) : [];
  // DPDK backend (io_dpdk.c) only when Debian's libdpdk-dev is there; its PMDs load from DPDK's plugin dir at run time.
  const dp = spawnSync('pkg-config', ['--cflags', '--libs', 'libdpdk'], { encoding: 'utf8' });
  const dpdk = dp.status === 0;
  const dpdkFlags = dpdk ? dp.stdout.trim().split(/\s+/).filter(Boolean) : [];
  const argv = [
    '-O2',
    '-g',
    '-Wall',
    '-Wextra',
    '-std=gnu11',
    '-pthread',
    ...(xdp ? ['-DVSG_HAVE_XDP'] : []),
    ...(dpdk ? ['-DVSG_HAVE_DPDK'] : []),
    '-o',
    out,
    ...sources.map((s) => join(dir, s)),
    ...xdpFlags,
    ...dpdkFlags,
    '-lm',
  ];
  const h = createHash('sha256');
  for (const f of [...sources, ...headers]) h.update(f).update(readFileSync(join(dir, f)));
  h.update(argv.join('\0'));
  const digest = h.digest('hex');
  if (existsSync(out) && existsSync(hashFile) && readFileSync(hashFile, 'utf8').trim() === digest) return;
  mkdirSync(join(dir, 'build'), { recursive: true });
  if (!xdp) console.warn('build-native: libxdp/libbpf not found by pkg-config: vsg-engine is built without the AF_XDP backend');
  if (!dpdk) console.warn('build-native: libdpdk not found by pkg-config: vsg-engine is built without the dpdk backend (npm run setup installs libdpdk-dev)');
  const r = spawnSync('gcc', argv, { stdio: 'inherit', cwd: dir });
  if (r.error || r.status !== 0) {
    console.error(`build-native: gcc failed building vsg-engine (${r.error ? r.error.message : `exit ${r.status}`}); install gcc (npm run setup)`);
    process.exit(1);
  }
  writeFileSync(hashFile, digest + '\n');
  console.log(`build-native: built ${out} (${['AF_PACKET', ...(xdp ? ['AF_XDP'] : []), ...(dpdk ? ['DPDK'] : [])].join(' + ')})`);
}
buildEngine();

writeFileSync(join(root, 'dist', '.build-stamp'), new Date().toISOString() + '\n');
