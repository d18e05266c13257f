/**
 * Directories the run writes to (results, state, work, archive), checked before anything starts and
 * created one component at a time. Node's `mkdirSync(p, { recursive: true })` spins for ever on a
 * path under /proc (mkdir there fails with ENOENT while the parent exists, so it retries the parent
 * endlessly, holding the event loop: SIGTERM is never handled). Here the walk is bounded by the number
 * of path components and every failure is one PathError naming the path and the reason.
 */
import { accessSync, constants, mkdirSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { PathError } from '../errors.js';

/** Pseudo file systems: never a place for results, and mkdir there can hang or fail oddly. */
const PSEUDO = ['/proc', '/sys', '/dev'];

function under(path: string, root: string): boolean {
  return path === root || path.startsWith(root + sep);
}

function errno(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/** What exists of `abs`: the deepest existing ancestor (or abs itself) and the components still missing. */
function existingPrefix(label: string, raw: string, abs: string): { existing: string; missing: string[] } {
  const missing: string[] = [];
  let cur = abs;
  for (;;) {
    try {
      const st = statSync(cur);
      if (!st.isDirectory()) throw new PathError(label, raw, `${cur === abs ? 'it' : cur} is not a directory`);
      return { existing: cur, missing: missing.reverse() };
    } catch (e) {
      if (e instanceof PathError) throw e;
      const code = errno(e);
      if (code !== 'ENOENT') throw new PathError(label, raw, code === 'ENOTDIR' ? `a component of it is not a directory` : `cannot be inspected (${code})`);
    }
    const parent = dirname(cur);
    if (parent === cur) throw new PathError(label, raw, 'no component of it exists');
    missing.push(cur);
    cur = parent;
  }
}

/**
 * Throws a PathError unless `raw` names a directory that exists or can be created, is writable and
 * is not under /proc, /sys or /dev. Creates nothing; returns the absolute path.
 */
export function checkDirectory(label: string, raw: string): string {
  if (raw.trim() === '') throw new PathError(label, raw, 'is empty (use "." for the current directory)');
  if (raw.includes('\0')) throw new PathError(label, raw, 'contains a NUL character');
  const abs = resolve(raw);
  if (Buffer.byteLength(abs) > 4000) throw new PathError(label, raw, 'is longer than 4000 bytes');
  const { existing } = existingPrefix(label, raw, abs);
  let real: string;
  try {
    real = realpathSync(existing);
  } catch (e) {
    throw new PathError(label, raw, `cannot be resolved (${errno(e)})`);
  }
  for (const p of PSEUDO) {
    if (under(abs, p) || under(real, p)) throw new PathError(label, raw, `is under ${p}, a pseudo file system`);
  }
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new PathError(label, raw, `${existing === abs ? 'it' : existing} is not writable (${errno(e)})`);
  }
  return abs;
}

/** checkDirectory, then create the missing components one by one (never a recursive mkdir). */
export function makeDirectory(label: string, raw: string): string {
  const abs = checkDirectory(label, raw);
  for (const dir of existingPrefix(label, raw, abs).missing) {
    try {
      mkdirSync(dir);
    } catch (e) {
      if (errno(e) !== 'EEXIST') throw new PathError(label, raw, `cannot create ${dir} (${errno(e)})`);
    }
  }
  return abs;
}
