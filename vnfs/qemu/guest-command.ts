/**
 * Commands inside the guest (VSPERF's `vnf execute_and_wait`), on the guest's command port: a
 * virtio-serial port whose QEMU chardev is a Unix socket here; vsperf-cmdd in the guest image answers
 * (scripts/guest/cmdd.c has the protocol). Every payload crosses base64-encoded in its own line, so
 * what a command prints can never be read as the end of the command or as another command's output.
 *
 * One command at a time per guest (the caller serialises); a connection per command. A guest without
 * the responder (a GUEST_IMAGE of its own) is found by a ping before anything is sent.
 */
import type { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { DriverError, UsageError } from '../../framework/errors.js';
import type { GuestCommandResult } from '../../framework/api/vnf.js';
import { connectUnix, LineReader } from './socket-lines.js';

const DRIVER = 'QemuDpdkVhostUser';
/** Longest command the guest's line buffer takes (64 KiB of base64, less the header). */
export const MAX_COMMAND_BYTES = 48 * 1024;

export type CommandReply =
  | { readonly kind: 'hello'; readonly id: string }
  | { readonly kind: 'output'; readonly id: string; readonly data: Buffer }
  | { readonly kind: 'end'; readonly id: string; readonly how: 'exit' | 'signal' | 'timeout' | 'error'; readonly n: number; readonly truncated: boolean };

const ID = /^[A-Za-z0-9_-]{1,32}$/;

export function pingLine(id: string): string {
  return `P ${id}\n`;
}

/** The request line for `command`; UsageError for what the guest cannot take. */
export function requestLine(id: string, timeoutMs: number, command: string): string {
  if (!ID.test(id)) throw new UsageError(`guest command id ${JSON.stringify(id)}: 1-32 letters, digits, _ or -`);
  const raw = Buffer.from(command, 'utf8');
  if (raw.length === 0) throw new UsageError('guest command: empty command');
  if (raw.includes(0)) throw new UsageError('guest command: the command contains a NUL character');
  if (raw.length > MAX_COMMAND_BYTES) throw new UsageError(`guest command: ${raw.length} bytes, the guest takes at most ${MAX_COMMAND_BYTES}`);
  const ms = Math.ceil(timeoutMs);
  if (!Number.isFinite(ms) || ms <= 0) throw new UsageError(`guest command: timeout ${timeoutMs} ms must be positive`);
  return `R ${id} ${ms} ${raw.toString('base64')}\n`;
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** One line from the guest; undefined for anything that is not protocol (noise, a truncated line). */
export function parseReply(line: string): CommandReply | undefined {
  const f = line.replace(/\r$/, '').split(' ');
  const id = f[1];
  if (id === undefined || !ID.test(id)) return undefined;
  if (f[0] === 'A' && f.length === 4 && f[2] === 'vsperf-cmdd') return { kind: 'hello', id };
  if (f[0] === 'O' && f.length === 3 && f[2]!.length > 0 && B64.test(f[2]!)) return { kind: 'output', id, data: Buffer.from(f[2]!, 'base64') };
  if (f[0] === 'X' && f.length === 5 && /^(exit|signal|timeout|error)$/.test(f[2]!) && /^\d+$/.test(f[3]!) && /^[01]$/.test(f[4]!))
    return { kind: 'end', id, how: f[2] as 'exit' | 'signal' | 'timeout' | 'error', n: Number(f[3]), truncated: f[4] === '1' };
  return undefined;
}

/** Errno values the guest reports when it ran nothing (Linux numbering). */
const ERRNO: Readonly<Record<number, string>> = {
  7: 'E2BIG: the request line is too long',
  12: 'ENOMEM',
  22: 'EINVAL: malformed request',
  24: 'EMFILE',
  28: 'ENOSPC',
};

export interface GuestCommandOptions {
  /** The guest kills the command's process group after this long (ms). */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Output as it arrives (VSPERF `wait` watches for a prompt in it). */
  readonly onOutput?: (text: string) => void;
  /** How long the guest may take to answer the ping (default 5 s; TCG guests on a loaded host are slow). */
  readonly pingTimeoutMs?: number;
}

let seq = 0;
/** How often an unanswered ping is repeated. */
const PING_REPEAT_MS = 500;

/**
 * Run `command` with `sh -c` in the guest behind `socketPath`: its output (stdout and stderr as they
 * interleave) and how it ended. DriverError when the guest cannot be reached or stops answering.
 */
export async function runGuestCommand(socketPath: string, command: string, o: GuestCommandOptions): Promise<GuestCommandResult> {
  const id = `c${process.pid}-${++seq}`;
  const request = requestLine(id, o.timeoutMs, command);
  let sock: Socket;
  try {
    sock = await connectUnix(socketPath, 2000);
  } catch (e) {
    throw new DriverError(DRIVER, 'execute', `guest command port ${socketPath}: ${(e as Error).message}`, { cause: e });
  }
  const lines = new LineReader(sock);
  const t0 = performance.now();
  let pinger: NodeJS.Timeout | undefined;
  try {
    const pingDeadline = Date.now() + (o.pingTimeoutMs ?? 5000);
    // The ping is repeated until the guest answers: right after the previous connection closed, the
    // guest can lose what arrives before it has seen the port reopen. The leading newline ends any
    // partial line the guest still holds; a repeated ping is harmless (each hello names the same id).
    const ping = (): void => {
      sock.write(`\n${pingLine(id)}`);
    };
    ping();
    pinger = setInterval(ping, PING_REPEAT_MS);
    /** The guest's next line; a closed port or a passed deadline is a DriverError with the matching message. */
    const nextLine = async (deadline: number, closed: string, silent: string): Promise<string> => {
      const l = await lines.next(deadline, o.signal);
      o.signal?.throwIfAborted();
      if (l === undefined) throw new DriverError(DRIVER, 'execute', lines.closed ? closed : silent);
      return l;
    };
    for (;;) {
      const l = await nextLine(
        pingDeadline,
        `the guest's command port closed before it answered (QEMU gone?)`,
        `the guest does not answer on its command port within ${(o.pingTimeoutMs ?? 5000) / 1000} s (guest image without vsperf-cmdd? run npm run setup)`,
      );
      const r = parseReply(l);
      if (r?.kind === 'hello' && r.id === id) break;
    }
    clearInterval(pinger);
    sock.write(request);
    const chunks: Buffer[] = [];
    // The guest cuts its output where its reads end, inside a UTF-8 character too: decode across chunks.
    const text = new StringDecoder('utf8');
    // The guest enforces the timeout; this deadline only catches a guest that stopped answering.
    const deadline = Date.now() + o.timeoutMs + 15_000;
    for (;;) {
      const l = await nextLine(
        deadline,
        `the guest's command port closed while ${JSON.stringify(command)} ran (QEMU gone?)`,
        `no end of ${JSON.stringify(command)} from the guest within ${Math.round((o.timeoutMs + 15_000) / 1000)} s`,
      );
      const r = parseReply(l);
      if (!r || r.id !== id) continue; // a reply to an earlier connection's command, or noise
      if (r.kind === 'output') {
        chunks.push(r.data);
        o.onOutput?.(text.write(r.data));
        continue;
      }
      if (r.kind !== 'end') continue;
      if (r.how === 'error') throw new DriverError(DRIVER, 'execute', `the guest ran nothing: ${ERRNO[r.n] ?? `errno ${r.n}`}`);
      return {
        output: Buffer.concat(chunks).toString('utf8'),
        ...(r.how === 'exit' ? { exitCode: r.n } : {}),
        ...(r.how === 'signal' ? { signal: r.n } : {}),
        timedOut: r.how === 'timeout',
        truncated: r.truncated,
        elapsedMs: performance.now() - t0,
      };
    }
  } finally {
    clearInterval(pinger);
    sock.destroy();
  }
}
