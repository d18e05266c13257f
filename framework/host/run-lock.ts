import { openSync, closeSync, writeSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { isSameProcess, processStartTicks } from './proc.js';
import { stateDir } from './journal.js';
import { makeDirectory } from './paths.js';

/**
 * One vsperf run per host at a time: two runs would fight over ports, hugepages and CPU and both
 * measure nonsense. A lock held by a dead process is stale and taken over.
 */
export class RunLock {
  private constructor(private readonly path: string) {}

  static acquire(dir = stateDir()): RunLock {
    makeDirectory('state directory (VSPERF_STATE_DIR)', dir);
    const path = join(dir, 'run.lock');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx');
        writeSync(fd, JSON.stringify({ pid: process.pid, startTicks: processStartTicks(process.pid) ?? 0 }));
        closeSync(fd);
        return new RunLock(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        let holder: { pid: number; startTicks: number } | undefined;
        try {
          holder = JSON.parse(readFileSync(path, 'utf8')) as { pid: number; startTicks: number };
        } catch {
          holder = undefined;
        }
        if (holder && isSameProcess(holder.pid, holder.startTicks)) {
          throw new UsageError(`another vsperf run (pid ${holder.pid}) holds ${path}`, {
            hint: 'wait for it to finish, or set VSPERF_STATE_DIR to run isolated',
          });
        }
        rmSync(path, { force: true });
      }
    }
    throw new UsageError(`could not take the run lock ${path}`);
  }

  release(): void {
    rmSync(this.path, { force: true });
  }
}
