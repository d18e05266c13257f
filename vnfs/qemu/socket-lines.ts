/**
 * Line-framed exchanges with a guest over a Unix socket (the QEMU chardevs of the guest's clock and
 * command ports): connecting within a time limit, and reading whole lines as they arrive.
 */
import { connect, type Socket } from 'node:net';

/** Connect to the Unix socket `path`; rejects after `timeoutMs` or with the connection's error. */
export function connectUnix(path: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no connection to ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      resolve(sock);
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Lines from a socket, one waiter at a time. */
export class LineReader {
  private buf = '';
  private readonly queue: string[] = [];
  private waiter: (() => void) | undefined;
  closed = false;

  /** `maxLine`: longer than any line of the protocol; that much without a newline is noise, dropped. */
  constructor(sock: Socket, maxLine = 8192) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.buf += d;
      for (let i = this.buf.indexOf('\n'); i >= 0; i = this.buf.indexOf('\n')) {
        this.queue.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 1);
      }
      if (this.buf.length > maxLine) this.buf = '';
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** The next line; undefined at the deadline (Date.now() ms), on abort, or when the socket closed. */
  async next(deadlineMs: number, signal?: AbortSignal): Promise<string | undefined> {
    while (!this.queue.length) {
      if (this.closed || Date.now() >= deadlineMs || signal?.aborted) return undefined;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(t);
          signal?.removeEventListener('abort', done);
          if (this.waiter === done) this.waiter = undefined;
          resolve();
        };
        const t = setTimeout(done, deadlineMs - Date.now());
        signal?.addEventListener('abort', done, { once: true });
        this.waiter = done;
      });
    }
    return this.queue.shift();
  }
}
