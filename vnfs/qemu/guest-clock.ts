/**
 * The guest's clock against the host's, queried on the guest's second serial port (ttyS1, a QEMU
 * isa-serial on a Unix socket; vsperf-clockd in the guest image answers, scripts/guest/clockd.c).
 *
 * Method (one NTP-style exchange per sample): host time t0 just before the query is written, guest
 * CLOCK_REALTIME g read by the guest when the query's newline arrives, host time t1 when the reply is
 * read. The guest read happened somewhere in [t0, t1], so offset = g − (t0 + t1) / 2 is right within
 * (t1 − t0) / 2, plus the guest clock's resolution. Of several samples the one with the smallest round
 * trip is kept (the least delayed by scheduling on either side).
 *
 * Host time is Node's `performance.timeOrigin + performance.now()`: CLOCK_REALTIME at process start
 * plus the monotonic clock (sub-microsecond). It departs from CLOCK_REALTIME only by what NTP slews
 * during the process's life (ppm); a step across one migration (seconds apart) does not see it.
 */
import type { Socket } from 'node:net';
import { DriverError } from '../../framework/errors.js';
import { connectUnix, LineReader } from './socket-lines.js';

export interface ClockSample {
  /** Host clock when the query was written and when the reply was read (epoch ms). */
  readonly t0Ms: number;
  readonly t1Ms: number;
  /** Guest CLOCK_REALTIME in the reply (epoch ms). */
  readonly guestMs: number;
  /** Guest CLOCK_REALTIME resolution (clock_getres, ns). */
  readonly resolutionNs: number;
}

export interface GuestClockReading {
  /** Guest clock − host clock (ms), from the sample with the smallest round trip. */
  readonly offsetMs: number;
  /** The method's uncertainty on offsetMs: half that round trip + the guest clock's resolution (ms). */
  readonly uncertaintyMs: number;
  readonly rttMs: number;
  /** Host time of that sample's midpoint (epoch ms). */
  readonly atMs: number;
  /** Answered queries (of those sent). */
  readonly samples: number;
  readonly sent: number;
}

/** The host clock the exchange is bracketed with (epoch ms, sub-µs resolution). */
export function hostNowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A reply line "T <id> <sec>.<nsec> <res ns>" for query `id` → guest time; undefined for anything else. */
export function parseClockReply(line: string, id: string): { guestMs: number; resolutionNs: number } | undefined {
  const m = /^T (\S+) (\d+)\.(\d{9}) (\d+)$/.exec(line.trim());
  if (!m || m[1] !== id) return undefined;
  return { guestMs: Number(m[2]) * 1000 + Number(m[3]) / 1e6, resolutionNs: Number(m[4]) };
}

/** The reading from the samples: the one with the smallest round trip. Undefined without samples. */
export function bestReading(samples: readonly ClockSample[], sent = samples.length): GuestClockReading | undefined {
  let best: ClockSample | undefined;
  for (const s of samples) if (s.t1Ms >= s.t0Ms && (!best || s.t1Ms - s.t0Ms < best.t1Ms - best.t0Ms)) best = s;
  if (!best) return undefined;
  const rttMs = best.t1Ms - best.t0Ms;
  const atMs = (best.t0Ms + best.t1Ms) / 2;
  return { offsetMs: best.guestMs - atMs, uncertaintyMs: rttMs / 2 + best.resolutionNs / 1e6, rttMs, atMs, samples: samples.length, sent };
}

/** How far the guest clock moved against the host's between two readings (ms), and the uncertainty of that. */
export function clockStep(before: GuestClockReading, after: GuestClockReading): { stepMs: number; uncertaintyMs: number } {
  return { stepMs: after.offsetMs - before.offsetMs, uncertaintyMs: before.uncertaintyMs + after.uncertaintyMs };
}

export interface ClockQueryOptions {
  /** Queries to send, one after the other (default 8). */
  readonly samples?: number;
  /** Give up on one unanswered query after this long (default 500 ms); two unanswered in a row end the reading. */
  readonly replyTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

let querySeq = 0;

/**
 * Query the guest clock behind `socketPath` (the QEMU chardev of ttyS1) `samples` times; the reading of
 * the fastest exchange. DriverError when the guest answers none.
 */
export async function queryGuestClock(socketPath: string, opts: ClockQueryOptions = {}): Promise<GuestClockReading> {
  const n = opts.samples ?? 8;
  const replyTimeoutMs = opts.replyTimeoutMs ?? 500;
  let sock: Socket;
  try {
    sock = await connectUnix(socketPath, 2000);
  } catch (e) {
    throw new DriverError('QemuDpdkVhostUser', 'clock', `guest clock port: ${(e as Error).message}`, { cause: e });
  }
  const lines = new LineReader(sock);
  const samples: ClockSample[] = [];
  let sent = 0;
  let unanswered = 0;
  try {
    // Two unanswered queries in a row: a guest without the responder (a GUEST_IMAGE of its own); stop there.
    for (let k = 0; k < n && unanswered < 2 && !opts.signal?.aborted; k++) {
      const id = `q${++querySeq}`;
      const t0Ms = hostNowMs();
      sock.write(`${id}\n`);
      sent++;
      unanswered++;
      // One deadline per query: a guest printing noise on the port must not hold the reading open.
      for (;;) {
        const left = t0Ms + replyTimeoutMs - hostNowMs();
        const line = left > 0 ? await lines.next(Date.now() + left) : undefined;
        const t1Ms = hostNowMs();
        if (line === undefined) break;
        const r = parseClockReply(line, id);
        if (!r) continue; // a late reply to an earlier query, or noise
        samples.push({ t0Ms, t1Ms, ...r });
        unanswered = 0;
        break;
      }
    }
  } finally {
    sock.destroy();
  }
  const best = bestReading(samples, sent);
  if (!best)
    throw new DriverError(
      'QemuDpdkVhostUser',
      'clock',
      `the guest answered none of ${sent} time queries on ${socketPath} (guest image without vsperf-clockd? run npm run setup)`,
    );
  return best;
}
