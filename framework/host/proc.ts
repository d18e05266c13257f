import { readFileSync } from 'node:fs';

/** Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), or undefined if gone. */
export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[19]);
  } catch {
    return undefined;
  }
}

/** True if the pid exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Same process as recorded (pid reuse safe). */
export function isSameProcess(pid: number, startTicks: number): boolean {
  return isAlive(pid) && processStartTicks(pid) === startTicks;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal!.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Poll `pred` every `intervalMs` until true or `timeoutMs` passes; returns whether it became true. */
export async function waitUntil(pred: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return true;
    if (Date.now() >= end) return false;
    await sleep(intervalMs);
  }
}

/** Kill a process group (then the pid alone), TERM first, KILL after graceMs. Resolves when gone. */
export async function killTree(pid: number, graceMs = 2000): Promise<void> {
  const send = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  if (!isAlive(pid)) return;
  send('SIGTERM');
  if (await waitUntil(() => !isAlive(pid), graceMs, 20)) return;
  send('SIGKILL');
  await waitUntil(() => !isAlive(pid), 5000, 20);
}
