// The shared libraries an ELF program needs, resolved from the ELF files themselves (DT_NEEDED,
// DT_RUNPATH/DT_RPATH and the program interpreter, read with binutils' readelf), never by running
// the program (ldd would execute the host's loader on it). Used to copy DPDK's apps into the guest's
// initramfs with exactly the libraries they load.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

const SYSTEM_DIRS = ['/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/lib', '/usr/lib'];

function readelf(args, file) {
  const r = spawnSync('readelf', [...args, '-W', file], { encoding: 'utf8' });
  if (r.error) throw new Error(`readelf: ${r.error.message} (install binutils)`);
  if (r.status !== 0) throw new Error(`readelf ${args.join(' ')} ${file}: ${(r.stderr || '').trim()}`);
  return r.stdout;
}

/** Parse `readelf -d` output: NEEDED sonames and RUNPATH/RPATH directories ($ORIGIN expanded). */
export function parseDynamic(text, file) {
  const needed = [];
  const paths = [];
  for (const line of text.split('\n')) {
    const m = line.match(/\((NEEDED|RUNPATH|RPATH)\)\s+.*?\[(.*)\]/);
    if (!m) continue;
    if (m[1] === 'NEEDED') needed.push(m[2]);
    else paths.push(...m[2].split(':').map((p) => p.replace(/\$\{?ORIGIN\}?/g, dirname(file))));
  }
  return { needed, paths };
}

/** The program interpreter of an executable (`readelf -l`), or undefined for a shared object. */
export function parseInterpreter(text) {
  return text.match(/\[Requesting program interpreter: ([^\]]+)\]/)?.[1];
}

/**
 * Every file `roots` need at run time: a Map from the path the loader will look for (the soname in
 * the directory it was found in, or the interpreter's path) to the real file on this host.
 */
export function elfClosure(roots) {
  const out = new Map();
  const queue = [...roots];
  const seen = new Set();
  while (queue.length) {
    const file = queue.shift();
    if (seen.has(file)) continue;
    seen.add(file);
    const interp = parseInterpreter(readelf(['-l'], file));
    if (interp && !out.has(interp)) out.set(interp, realpathSync(interp));
    const { needed, paths } = parseDynamic(readelf(['-d'], file), file);
    for (const soname of needed) {
      const dir = [...paths, ...SYSTEM_DIRS].find((d) => existsSync(join(d, soname)));
      if (!dir) throw new Error(`${file} needs ${soname}, which is in none of ${[...paths, ...SYSTEM_DIRS].join(', ')}`);
      const at = join(dir, soname);
      if (out.has(at)) continue;
      out.set(at, realpathSync(at));
      queue.push(at);
    }
  }
  return out;
}
