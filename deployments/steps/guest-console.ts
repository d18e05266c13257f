/**
 * VSPERF's console methods of a guest (vnfs/vnf/vnf.py `execute`, `wait`, `execute_and_wait`) on a
 * VNF with a command channel (Vnf.execute). VSPERF types into a login shell on the serial console and
 * waits for the shell prompt (GUEST_PROMPT, `root.*#`); here each command runs with `sh -c` in the
 * guest and its end is known exactly, so "wait for the shell prompt" means "wait until the commands
 * sent so far have ended". A prompt other than GUEST_PROMPT is a regular expression looked for in
 * the output, as pexpect does.
 *
 * - `execute(cmd, delay=0)`: sends the command and returns None after `delay` s; output collects.
 * - `wait(prompt=None, timeout=30)`: the output collected since the last `execute`, once the commands
 *   ended (or up to the prompt's match); a timeout fails the step.
 * - `execute_and_wait(cmd, timeout=30, prompt=None)`: both; the command is killed at the timeout.
 * Validation of execute_and_wait (VSPERF: the output is not empty, which its echoed command line
 * always made true): the command ended with status 0.
 */
import { sleep } from '../../framework/host/proc.js';
import { VsperfError } from '../../framework/errors.js';
import type { Logger } from '../../framework/log/logger.js';
import type { GuestCommandResult, Vnf } from '../../framework/api/vnf.js';
import { pyStr, type PyValue } from '../../framework/steps/pyvalue.js';
import { pyRegex } from '../../framework/steps/steps.js';

export interface GuestConsoleOptions {
  /** Step object name (vnf, vnf1, VNF0) for messages. */
  readonly object: string;
  readonly vnf: () => Vnf;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** VSPERF GUEST_PROMPT of this guest: as a prompt it means "the commands ended". */
  readonly shellPrompt: string;
  /** Limit of a command sent with `execute` (it has no timeout of its own), s. */
  readonly executeTimeoutS: number;
}

/** How a command ended, in words: `exit status 127: sh: ethtool: not found`. */
export function commandOutcome(r: GuestCommandResult): string {
  const how = r.timedOut
    ? 'timed out (killed)'
    : r.truncated
      ? 'output over 1 MiB (killed)'
      : r.signal !== undefined
        ? `killed by signal ${r.signal}`
        : `exit status ${r.exitCode}`;
  const last = r.output.trim().split('\n').slice(-1)[0]?.trim();
  return last ? `${how}: ${last.slice(0, 200)}` : how;
}

/** A step's seconds parameter: a timeout (> 0) or a delay (≥ 0); else the step's parameter error. */
function seconds(object: string, method: string, what: 'timeout' | 'delay', v: PyValue | undefined, dflt: number): number {
  const n = v === undefined || v === null ? dflt : Number(v);
  if (!Number.isFinite(n) || n < 0 || (what === 'timeout' && n === 0))
    throw new VsperfError(
      'E_STEP_PARAM',
      `${object} ${method}: ${what} must be a number of seconds (${what === 'timeout' ? '> 0' : '≥ 0'}), got ${JSON.stringify(v)}`,
    );
  return n;
}

function ok(r: GuestCommandResult): boolean {
  return r.exitCode === 0 && !r.timedOut && !r.truncated;
}

export class GuestConsole {
  /** Output since the last execute (pexpect's buffer). */
  private buffer = '';
  private readonly waiters = new Set<() => void>();
  /** Commands run one after the other, as typed into one shell. */
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;
  /** Commands sent by `execute` that ended, and why others could not run, since the last wait. */
  private ended: GuestCommandResult[] = [];
  private failures: string[] = [];
  /** How the last execute_and_wait ended, for its validation. */
  private last: GuestCommandResult | undefined;

  constructor(private readonly o: GuestConsoleOptions) {}

  private get executor(): NonNullable<Vnf['execute']> {
    const vnf = this.o.vnf();
    if (!vnf.execute) throw new VsperfError('E_STEP_UNSUPPORTED', `${this.o.object}: VNF driver ${vnf.name} has no command channel into its guest`);
    return vnf.execute.bind(vnf);
  }

  private append(text: string): void {
    this.buffer += text;
    for (const w of [...this.waiters]) w();
  }

  /**
   * Queue `cmd` after the commands still running; its output goes to the buffer. A command sent by
   * `execute` (background) leaves its outcome for the next wait, recorded before that wait can end.
   */
  private send(cmd: string, timeoutS: number, background: boolean): Promise<GuestCommandResult> {
    const exec = this.executor;
    this.o.log.debug(`${this.o.object} cmd: ${cmd}`);
    this.pending++;
    const one = this.queue
      .then(() => exec(cmd, { timeoutMs: timeoutS * 1000, signal: this.o.signal, onOutput: (t) => this.append(t) }))
      .then(
        (r) => {
          if (background) this.ended.push(r);
          if (background && !ok(r)) this.o.log.warn(`${this.o.object} execute ${JSON.stringify(cmd)}: ${commandOutcome(r)}`);
          return r;
        },
        (e: unknown) => {
          if (background) this.failures.push(`${JSON.stringify(cmd)}: ${(e as Error).message.split('\n')[0]}`);
          throw e;
        },
      )
      .finally(() => {
        this.pending--;
        for (const w of [...this.waiters]) w();
      });
    this.queue = one.catch(() => undefined);
    return one;
  }

  async call(method: string, args: readonly PyValue[]): Promise<PyValue> {
    switch (method) {
      case 'execute': {
        this.buffer = '';
        const cmd = pyStr(args[0] ?? null);
        const delay = seconds(this.o.object, method, 'delay', args[1], 0);
        // The outcome is read by the next wait (send records it before that wait can end).
        this.send(cmd, this.o.executeTimeoutS, true).catch(() => undefined);
        if (delay > 0) await sleep(delay * 1000, this.o.signal);
        return null;
      }
      case 'wait':
        return this.wait(args[0] ?? null, seconds(this.o.object, method, 'timeout', args[1], 30));
      case 'execute_and_wait': {
        const cmd = pyStr(args[0] ?? null);
        const timeoutS = seconds(this.o.object, method, 'timeout', args[1], 30);
        const prompt = args[2] ?? null;
        if (!this.isShellPrompt(prompt)) {
          await this.call('execute', [cmd]);
          return this.wait(prompt, timeoutS);
        }
        this.buffer = '';
        // Commands sent by `execute` before this one end first (one shell, as in VSPERF).
        const r = await this.send(cmd, timeoutS, false);
        this.last = r;
        // This command's own output (the channel keeps it apart from what earlier commands still print).
        this.take();
        const out = r.output;
        if (r.timedOut)
          throw new VsperfError('E_STEP_TIMEOUT', `${this.o.object} execute_and_wait ${JSON.stringify(cmd)}: not finished within ${timeoutS} s (killed)`);
        if (!ok(r)) this.o.log.warn(`${this.o.object} execute_and_wait ${JSON.stringify(cmd)}: ${commandOutcome(r)}`);
        return out;
      }
      default:
        throw new VsperfError('E_STEP_UNSUPPORTED', `${this.o.object} ${method} is not supported`);
    }
  }

  private isShellPrompt(prompt: PyValue): boolean {
    return prompt === null || prompt === '' || pyStr(prompt) === this.o.shellPrompt;
  }

  /** A command sent by `execute` that never reached the guest fails the wait that follows it. */
  private takeFailures(): void {
    const f = this.failures;
    this.failures = [];
    if (f.length) throw new VsperfError('E_STEP_VNF', `${this.o.object}: a command could not run: ${f[0]}`);
  }

  private take(upTo = this.buffer.length, resumeAt = upTo): string {
    const out = this.buffer.slice(0, upTo);
    this.buffer = this.buffer.slice(resumeAt);
    return out;
  }

  /** Resolves when `ready()` holds (re-checked on output and command ends), false at the timeout. */
  private async until(ready: () => boolean, timeoutS: number): Promise<boolean> {
    if (ready()) return true;
    return new Promise<boolean>((resolve) => {
      const done = (v: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        this.o.signal.removeEventListener('abort', abort);
        resolve(v);
      };
      const check = (): void => void (ready() && done(true));
      const abort = (): void => done(false);
      const timer = setTimeout(() => done(ready()), timeoutS * 1000);
      this.waiters.add(check);
      this.o.signal.addEventListener('abort', abort, { once: true });
    });
  }

  private async wait(prompt: PyValue, timeoutS: number): Promise<PyValue> {
    if (this.isShellPrompt(prompt)) {
      const ended = await this.until(() => this.pending === 0, timeoutS);
      this.o.signal.throwIfAborted();
      if (!ended) throw new VsperfError('E_STEP_TIMEOUT', `${this.o.object} wait: commands still running after ${timeoutS} s`);
      this.takeFailures();
      this.last = this.ended[this.ended.length - 1];
      this.ended = [];
      return this.take();
    }
    const re = pyRegex(pyStr(prompt), 'm');
    let m: RegExpExecArray | null = null;
    const found = await this.until(() => (m = re.exec(this.buffer)) !== null, timeoutS);
    this.o.signal.throwIfAborted();
    if (!found || !m)
      throw new VsperfError(
        'E_STEP_TIMEOUT',
        `${this.o.object} wait: ${JSON.stringify(pyStr(prompt))} did not appear in the guest's output within ${timeoutS} s`,
      );
    this.takeFailures();
    const hit = m as RegExpExecArray;
    this.last = { output: '', exitCode: 0, timedOut: false, truncated: false, elapsedMs: 0 };
    return this.take(hit.index, hit.index + hit[0].length);
  }

  /** VSPERF validate_execute_and_wait, made meaningful: the command ended with status 0. */
  validate(): boolean {
    const r = this.last;
    if (!r) return false;
    if (!ok(r)) throw new VsperfError('E_STEP_VALIDATION', `the command in ${this.o.object} ended with ${commandOutcome(r)}`);
    return true;
  }

  /** Resolves when the commands sent so far ended (before the guest stops). */
  async settle(): Promise<void> {
    await this.queue;
  }
}
