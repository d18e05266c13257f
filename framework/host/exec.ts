import { spawn } from 'node:child_process';
import { ProcessError, TimeoutError, EnvironmentError, AbortedError } from '../errors.js';

export interface ExecOptions {
  /** Kill the command and reject with TimeoutError after this many ms (default 30 s). */
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly input?: string;
  readonly signal?: AbortSignal;
  /** Resolve instead of rejecting on a non-zero exit. */
  readonly allowFail?: boolean;
}

export interface ExecResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Run a command to completion. argv only: never a shell string, so no value can be interpreted by a
 * shell. A missing binary becomes an EnvironmentError naming it.
 */
export function exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  if (argv.length === 0) throw new TypeError('exec: empty argv');
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new AbortedError(`aborted before running ${argv[0]}`));
      return;
    }
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(() => reject(new TimeoutError(argv.slice(0, 3).join(' '), timeoutMs)));
    }, timeoutMs);
    const onAbort = (): void => {
      child.kill('SIGKILL');
      finish(() => reject(new AbortedError(`aborted while running ${argv[0]}`)));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err: NodeJS.ErrnoException) => {
      finish(() =>
        reject(
          err.code === 'ENOENT' ? new EnvironmentError(`command not found: ${argv[0]}`, { hint: 'run `npm run setup` to install the system packages' }) : err,
        ),
      );
    });
    child.on('close', (code, signal) => {
      finish(() => {
        if ((code === 0 || opts.allowFail) && !(signal && !opts.allowFail)) resolve({ code, signal, stdout, stderr });
        else reject(new ProcessError(argv, code, stderr || stdout, signal));
      });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** True when `name` resolves on PATH (or is an existing absolute path). */
export async function commandExists(name: string): Promise<boolean> {
  const { access, constants } = await import('node:fs/promises');
  const { delimiter, join, isAbsolute } = await import('node:path');
  const candidates = isAbsolute(name) ? [name] : (process.env.PATH ?? '').split(delimiter).map((d) => join(d, name));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
}
