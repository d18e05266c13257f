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
  for (let o = 24; o + 16 <= b.length;) {
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

/**
 * The frames of one generator run: its trailer tag, stream 0, captured after the previous run's traffic
 * stopped (+ the 1 s drain) and up to this run's stop + drain. Tags are 8 bits: two runs may share one.
 */
export function framesOfRun(frames: readonly Captured[], tag: number, afterMs: number, untilMs: number): Captured[] {
  return frames.filter((f) => f.tag === tag && f.stream === 0 && f.tNs / 1e6 > afterMs && f.tNs / 1e6 <= untilMs);
}

/**
 * The longest silence between consecutive frames that overlaps the window (fromMs, toMs) (epoch ms), and
 * when it ended (the first frame after it); 0 and 0 when no two frames bracket the window.
 */
export function longestSilence(frames: readonly Captured[], fromMs: number, toMs: number): { gapMs: number; endMs: number } {
  let gapMs = 0;
  let endMs = 0;
  for (let k = 1; k < frames.length; k++) {
    const a = frames[k - 1]!.tNs / 1e6;
    const b = frames[k]!.tNs / 1e6;
    if (b > fromMs && a < toMs && b - a > gapMs) [gapMs, endMs] = [b - a, b];
  }
  return { gapMs, endMs };
}
