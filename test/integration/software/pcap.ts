/** Our frames in a pcap file, decoded from the engine's 14-byte trailer: an observer independent of the engine. */
import { readFileSync } from 'node:fs';

export interface Captured {
  readonly tNs: number;
  readonly tag: number;
  readonly stream: number;
  readonly seq: number;
}

/** Our frames in a pcap (ns or µs timestamps, either byte order), decoded from the 14-byte trailer. */
export function readTrailers(file: string): Captured[] {
  const b = readFileSync(file);
  const m = b.readUInt32LE(0);
  const le = m === 0xa1b2c3d4 || m === 0xa1b23c4d;
  const nano = (le ? m : b.readUInt32BE(0)) === 0xa1b23c4d;
  const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const out: Captured[] = [];
  for (let o = 24; o + 16 <= b.length; ) {
    const incl = u32(o + 8);
    const f = b.subarray(o + 16, o + 16 + incl);
    const tNs = u32(o) * 1e9 + u32(o + 4) * (nano ? 1 : 1000);
    o += 16 + incl;
    if (f.length < 14) continue;
    const t = f.subarray(f.length - 14);
    if (t[0] !== 0x56) continue;
    out.push({ tNs, tag: t[1]!, stream: t.readUInt16BE(2), seq: t.readUInt32BE(4) });
  }
  return out;
}

