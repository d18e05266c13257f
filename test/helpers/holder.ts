/**
 * A holder: a child node process that sets something up, prints `READY <json>` on stdout and waits to be
 * killed. Crash tests SIGKILL it and let the janitor clean up after it.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** Start `script` with `args`; resolves with the child and what it printed after READY, rejects if it exits or stays silent. */
export function startHolder<T>(script: string, args: readonly string[], timeoutMs: number): Promise<{ child: ChildProcess; info: T }> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    // A holder that never gets ready must not outlive the test: the caller has no handle to kill it.
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGTERM');
      reject(new Error(why));
    };
    const timer = setTimeout(() => fail(`holder not ready within ${timeoutMs} ms: ${out} ${err}`), timeoutMs);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /READY (\{.*\})/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      try {
        resolve({ child, info: JSON.parse(m[1]!) as T });
      } catch (e) {
        fail(`holder printed READY with bad JSON (${(e as Error).message}): ${m[1]}`);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`holder exited ${code}: ${err}`));
    });
  });
}
