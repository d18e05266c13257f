/**
 * QMP events: a history of everything received (QEMU's timestamp and our monotonic receive time side
 * by side) and listeners with their own queue and filter. `waitFor` registers at call time, so create
 * it BEFORE the command that triggers the event:
 *   const resumed = dst.events.waitFor('RESUME', { timeoutMs: 5000 });
 *   await src.execute('migrate', { uri });
 *   await resumed;
 */
import { AbortedError } from '../../framework/errors.js';
import { QmpInterruptedError, QmpTimeoutError } from './errors.js';

export interface QmpEvent {
  readonly event: string;
  readonly data: Readonly<Record<string, unknown>>;
  /** QEMU's timestamp (µs since the Unix epoch, host clock of the QEMU process). */
  readonly qemuTsUs: number;
  /** Local monotonic receive time (process.hrtime.bigint(), ns). */
  readonly recvHrNs: bigint;
  /** Local wall-clock receive time (ms since the epoch). */
  readonly recvWallMs: number;
}

export type EventFilter = (e: QmpEvent) => boolean;

export interface WaitOptions {
  /** Only events whose data match these members (shallow equality), or a predicate. */
  readonly match?: Readonly<Record<string, unknown>> | EventFilter;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

interface Waiter {
  readonly accept: EventFilter;
  readonly resolve: (e: QmpEvent) => void;
  readonly reject: (e: Error) => void;
}

/** A subscription: its own FIFO of matching events (nothing is lost between two `next()` calls). */
export class EventListener {
  private readonly queue: QmpEvent[] = [];
  private waiter: Waiter | undefined;
  private closedWith: Error | undefined;

  constructor(
    private readonly hub: EventHub,
    readonly accept: EventFilter,
  ) {}

  /** @internal */
  deliver(e: QmpEvent): void {
    if (!this.accept(e)) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve(e);
    } else this.queue.push(e);
  }

  /** @internal */
  fail(err: Error): void {
    this.closedWith = err;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(err);
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Next matching event (queued or future). */
  next(opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<QmpEvent> {
    const q = this.queue.shift();
    if (q) return Promise.resolve(q);
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (this.waiter) return Promise.reject(new Error('EventListener.next: another next() is already waiting'));
    return new Promise<QmpEvent>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        this.waiter = undefined;
        done();
        reject(new AbortedError('aborted while waiting for a QMP event'));
      };
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.waiter = undefined;
          done();
          reject(new QmpTimeoutError('event wait', opts.timeoutMs!));
        }, opts.timeoutMs);
      }
      this.waiter = {
        accept: this.accept,
        resolve: (e) => {
          done();
          resolve(e);
        },
        reject: (err) => {
          done();
          reject(err);
        },
      };
    });
  }

  /** Queued events, removed from the queue. */
  drain(): QmpEvent[] {
    return this.queue.splice(0);
  }

  close(): void {
    this.hub.remove(this);
    this.fail(new QmpInterruptedError('event listener', 'listener closed'));
  }
}

export function matcher(name: string | readonly string[], match?: WaitOptions['match']): EventFilter {
  const names = typeof name === 'string' ? [name] : name;
  const dataOk: EventFilter =
    match === undefined ? () => true : typeof match === 'function' ? match : (e) => Object.entries(match).every(([k, v]) => e.data[k] === v);
  return (e) => names.includes(e.event) && dataOk(e);
}

export class EventHub {
  readonly history: QmpEvent[] = [];
  private readonly listeners = new Set<EventListener>();
  private failure: Error | undefined;

  constructor(private readonly maxHistory = 10_000) {}

  /** @internal */
  publish(e: QmpEvent): void {
    this.history.push(e);
    if (this.history.length > this.maxHistory) this.history.splice(0, this.history.length - this.maxHistory);
    for (const l of [...this.listeners]) l.deliver(e);
  }

  /** @internal: the session ended; every listener's waiting next() rejects. */
  fail(err: Error): void {
    this.failure = err;
    for (const l of [...this.listeners]) l.fail(err);
    this.listeners.clear();
  }

  /** @internal: a new session starts. */
  reset(): void {
    this.failure = undefined;
  }

  listen(name: string | readonly string[], match?: WaitOptions['match']): EventListener {
    const l = new EventListener(this, matcher(name, match));
    if (this.failure) l.fail(this.failure);
    else this.listeners.add(l);
    return l;
  }

  /** @internal */
  remove(l: EventListener): void {
    this.listeners.delete(l);
  }

  /**
   * One future event (registered now). The returned promise is pre-marked as handled, so not awaiting
   * it (e.g. after the trigger failed) never crashes the process with an unhandled rejection.
   */
  waitFor(name: string | readonly string[], opts: WaitOptions = {}): Promise<QmpEvent> {
    const l = this.listen(name, opts.match);
    const p = l
      .next({ ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}), ...(opts.signal ? { signal: opts.signal } : {}) })
      .finally(() => this.remove(l));
    p.catch(() => undefined);
    return p;
  }

  /** Events seen so far with this name (and data match). */
  seen(name: string | readonly string[], match?: WaitOptions['match']): QmpEvent[] {
    const f = matcher(name, match);
    return this.history.filter(f);
  }
}
