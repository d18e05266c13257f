/**
 * The decoding step in front of every settings parser: conf files and --test-params must be UTF-8.
 * Node's default decoding turns an invalid byte into U+FFFD without a word, so a Latin-1 "é" in a
 * comment or a value would silently become "�". Here it is an error naming file:line:col instead.
 */
import { EncodingError } from '../errors.js';

export interface TextPosition {
  readonly line: number;
  /** 1-based, in characters (code points), as an editor shows it. */
  readonly col: number;
}

const fatal = new TextDecoder('utf-8', { fatal: true });

/** Length of the valid UTF-8 sequence starting at `i` (RFC 3629: no overlongs, surrogates or > U+10FFFF), or 0. */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c >= 0xe1 && c <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/** Where the first invalid byte is, or undefined when all of `bytes` is valid UTF-8. */
export function firstInvalidUtf8(bytes: Uint8Array): (TextPosition & { offset: number; byte: number }) | undefined {
  let line = 1;
  let col = 1;
  for (let i = 0; i < bytes.length;) {
    const n = sequenceLength(bytes, i);
    if (n === 0) return { line, col, offset: i, byte: bytes[i]! };
    if (bytes[i] === 0x0a) {
      line++;
      col = 1;
    } else col++;
    i += n;
  }
  return undefined;
}

/** The text of a settings file: UTF-8 with an optional BOM (dropped). `name` is how errors name the file. */
export function decodeUtf8(bytes: Uint8Array, name: string): string {
  try {
    return fatal.decode(bytes);
  } catch {
    const bad = firstInvalidUtf8(bytes)!;
    throw new EncodingError(
      `${name}:${bad.line}:${bad.col}`,
      `invalid UTF-8 byte 0x${bad.byte.toString(16).toUpperCase().padStart(2, '0')} at byte offset ${bad.offset}`,
    );
  }
}

/** Line and column (1-based, in code points) of UTF-16 offset `index` in `text`. */
export function positionOf(text: string, index: number): TextPosition {
  const before = [...text.slice(0, index)];
  const nl = before.lastIndexOf('\n');
  return { line: before.filter((c) => c === '\n').length + 1, col: before.length - nl };
}

/**
 * A command-line argument. Node has already decoded argv, replacing bytes that are not UTF-8 with
 * U+FFFD, so that character is the only trace left: it is refused (nobody types U+FFFD on purpose).
 */
export function checkArgumentText(text: string, name: string): string {
  const i = text.indexOf('\uFFFD');
  if (i < 0) return text;
  const p = positionOf(text, i);
  throw new EncodingError(`${name}:${p.line}:${p.col}`, 'bytes that are not UTF-8 (shown as U+FFFD)');
}
