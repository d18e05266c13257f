/**
 * QMP framing: one JSON document per line. Splits socket chunks on '\n', keeping partial lines (and
 * partial UTF-8 sequences) across chunks. A line longer than `maxLineBytes` is a protocol error
 * before it can eat memory.
 */
import { QmpProtocolError } from './errors.js';

export const DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024;

export class LineSplitter {
  private parts: Buffer[] = [];
  private pending = 0;

  constructor(readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES) {}

  /** Complete lines in this chunk (without '\n', '\r' stripped, empty lines skipped). */
  push(chunk: Buffer): string[] {
    const out: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      if (this.pending + piece.length > this.maxLineBytes) this.overflow(piece);
      const line = this.parts.length ? Buffer.concat([...this.parts, piece]).toString('utf8') : piece.toString('utf8');
      this.parts = [];
      this.pending = 0;
      const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
      if (trimmed.trim()) out.push(trimmed);
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (this.pending + rest.length > this.maxLineBytes) this.overflow(rest);
      this.parts.push(Buffer.from(rest));
      this.pending += rest.length;
    }
    return out;
  }

  /** Bytes of an unterminated line held (EOF with data pending is a truncated message). */
  get buffered(): number {
    return this.pending;
  }

  private overflow(piece: Buffer): never {
    const head = Buffer.concat([...this.parts, piece])
      .subarray(0, 120)
      .toString('utf8');
    this.parts = [];
    this.pending = 0;
    throw new QmpProtocolError(`line longer than ${this.maxLineBytes} bytes`, head);
  }
}
