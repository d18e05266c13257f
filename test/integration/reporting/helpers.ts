/** Plumbing for the reporting integration tests: a DriverContext on the real host, PNG decoding, the leftover audit. */
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { Config } from '../../../framework/config/load.js';
import type { JsonObject } from '../../../framework/config/settings.js';
import { Journal } from '../../../framework/host/journal.js';
import type { DriverContext } from '../../../framework/api/driver.js';
import { CleanupStack } from '../../../framework/runner/cleanup-stack.js';
import { hostContext } from '../../helpers/driver-context.js';

export const STATE_DIR = '/tmp/vsperf-vsr-test';
process.env.VSPERF_STATE_DIR = STATE_DIR;
export const ROOT = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..', '..', '..');
export const VSPERF = join(ROOT, 'bin', 'vsperf.js');

export function settingsWith(overrides: JsonObject = {}) {
  const cfg = new Config({ testParams: [overrides], validate: false });
  return cfg.base;
}

export interface TestCtx {
  readonly ctx: DriverContext;
  readonly cleanup: CleanupStack;
  readonly journal: Journal;
  readonly workDir: string;
  dispose(): Promise<Error[]>;
}

/**
 * `journalDir`: where the test's own resources are journalled. Tests that also start `vsperf` with
 * STATE_DIR must journal elsewhere: the janitor of that run would otherwise "clean up" the test's
 * resources as leftovers of a crashed run.
 */
export function makeCtx(overrides: JsonObject = {}, journalDir = join(STATE_DIR, 'journal')): TestCtx {
  const { ctx, cleanup, journal, workDir } = hostContext(settingsWith(overrides), {
    runId: `vsr-test-${randomBytes(3).toString('hex')}`,
    journalDir,
    workDirPrefix: 'vsr-t',
  });
  return {
    ctx,
    cleanup,
    journal,
    workDir,
    async dispose() {
      const errors = await cleanup.unwind();
      rmSync(workDir, { recursive: true, force: true });
      journal.close();
      return errors;
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

interface ProcInfo {
  pid: number;
  pgid: number;
  cmdline: string;
}

export function processes(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (rest[0] === 'Z') continue;
      out.push({ pid: Number(d), pgid: Number(rest[2]), cmdline: readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ').trim() });
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * Leftover audit: no live process in the given process groups or whose command line mentions one of
 * `markers` (our temp dirs), no mount under /tmp/vsr-, no live journal entry in our state dir.
 */
export function leftovers(opts: { pgids?: readonly number[]; markers?: readonly string[] } = {}): string[] {
  const found: string[] = [];
  for (const p of processes()) {
    if (p.pid === process.pid) continue;
    if (opts.pgids?.includes(p.pgid)) found.push(`process ${p.pid} in group ${p.pgid}: ${p.cmdline}`);
    else if (opts.markers?.some((m) => p.cmdline.includes(m))) found.push(`process ${p.pid}: ${p.cmdline}`);
  }
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const mp = line.split(' ')[1];
    if (mp?.startsWith('/tmp/vsr-')) found.push(`mount ${mp}`);
  }
  for (const j of Journal.list(join(STATE_DIR, 'journal'))) {
    const live = Journal.read(j);
    if (live.length) found.push(`journal ${j}: ${live.map((e) => e.kind).join(', ')}`);
  }
  return found;
}

/** Decode an 8-bit RGB/RGBA PNG (what Chromium writes) into RGBA pixels. */
export function decodePng(buf: Buffer): { width: number; height: number; rgba: Uint8Array } {
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let pos = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('ascii', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8) throw new Error(`bit depth ${data[8]} not supported`);
      colorType = data[9]!;
      if (data[12] !== 0) throw new Error('interlaced PNG not supported');
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  const bpp = colorType === 6 ? 4 : colorType === 2 ? 3 : 0;
  if (!bpp) throw new Error(`PNG colour type ${colorType} not supported`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const cur = new Uint8Array(stride);
  const prev = new Uint8Array(stride);
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp]! : 0;
      const b = prev[i]!;
      const c = i >= bpp ? prev[i - bpp]! : 0;
      let v = line[i]!;
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[i] = v & 0xff;
    }
    for (let x = 0; x < width; x++) {
      rgba[(y * width + x) * 4] = cur[x * bpp]!;
      rgba[(y * width + x) * 4 + 1] = cur[x * bpp + 1]!;
      rgba[(y * width + x) * 4 + 2] = cur[x * bpp + 2]!;
      rgba[(y * width + x) * 4 + 3] = bpp === 4 ? cur[x * bpp + 3]! : 255;
    }
    prev.set(cur);
  }
  return { width, height, rgba };
}

/** Pixels within `tol` of an RGB colour. */
export function countColor(img: { rgba: Uint8Array }, rgb: readonly [number, number, number], tol = 12): number {
  let n = 0;
  for (let i = 0; i < img.rgba.length; i += 4) {
    if (Math.abs(img.rgba[i]! - rgb[0]) <= tol && Math.abs(img.rgba[i + 1]! - rgb[1]) <= tol && Math.abs(img.rgba[i + 2]! - rgb[2]) <= tol) n++;
  }
  return n;
}
