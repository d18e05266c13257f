/** Our frames in a pcap file, decoded from the engine's 14-byte trailer: an observer independent of the engine. */
import { readFileSync } from 'node:fs';

export interface Captured {
  readonly tNs: number;
  readonly tag: number;
  readonly stream: number;
  readonly seq: number;
}

/** One record of a pcap file: capture time, the bytes captured and the frame's length on the wire. */
export interface PcapRecord {
  readonly tNs: number;
  readonly frame: Buffer;
  readonly origLen: number;
}

/** The records of a pcap file (either byte order, µs or ns timestamps); throws on another format. */
export function pcapRecords(file: string): PcapRecord[] {
  const b = readFileSync(file);
  const m = b.length >= 24 ? b.readUInt32LE(0) : 0;
  const le = m === 0xa1b2c3d4 || m === 0xa1b23c4d;
  const be = b.length >= 24 ? b.readUInt32BE(0) : 0;
  if (!le && be !== 0xa1b2c3d4 && be !== 0xa1b23c4d) throw new Error(`${file}: not a pcap file (magic ${m.toString(16)})`);
  const nano = (le ? m : be) === 0xa1b23c4d;
  const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const out: PcapRecord[] = [];
  for (let o = 24; o + 16 <= b.length;) {
    const incl = u32(o + 8);
    out.push({ tNs: u32(o) * 1e9 + u32(o + 4) * (nano ? 1 : 1000), frame: b.subarray(o + 16, o + 16 + incl), origLen: u32(o + 12) });
    o += 16 + incl;
  }
  return out;
}

/** The frames of a pcap file. */
export function pcapFrames(file: string): Buffer[] {
  return pcapRecords(file).map((r) => r.frame);
}

/** Our frames in a pcap, decoded from the 14-byte trailer. */
export function readTrailers(file: string): Captured[] {
  const out: Captured[] = [];
  for (const { tNs, frame: f } of pcapRecords(file)) {
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
