/**
 * A file write that an abort ends. Node's writeFile opens the path in a libuv thread, and open() of a
 * FIFO without a reader blocks there until one comes (as Python's open(PATH, "w") does): no signal
 * can wake it, so a run told to stop would wait forever. Here the path is opened non-blocking and the
 * open retried while the FIFO has no reader (ENXIO), the write retried while the pipe is full
 * (EAGAIN); every wait ends with the signal. A regular file is written as writeFile would.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { AbortedError } from '../errors.js';
import { sleep } from './proc.js';

const FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NONBLOCK;

const code = (e: unknown): string | undefined => (e as NodeJS.ErrnoException).code;

export async function writeFileAbortable(path: string, text: string, signal: AbortSignal, pollMs = 20): Promise<void> {
  const aborted = (): AbortedError => new AbortedError(`aborted while writing ${path}`);
  const wait = (): Promise<void> => sleep(pollMs, signal).catch(() => Promise.reject(aborted()));
  let fh: FileHandle | undefined;
  while (!fh) {
    if (signal.aborted) throw aborted();
    try {
      fh = await open(path, FLAGS, 0o666);
    } catch (e) {
      if (code(e) !== 'ENXIO') throw e;
      await wait();
    }
  }
  try {
    const buf = Buffer.from(text);
    for (let off = 0; off < buf.length;) {
      if (signal.aborted) throw aborted();
      try {
        off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
      } catch (e) {
        if (code(e) !== 'EAGAIN') throw e;
        await wait();
      }
    }
  } finally {
    await fh.close();
  }
}
