/** A Host for a driver's tests: what it creates is journalled in a temporary directory and released by release(). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Host } from '../host/host.js';
import { Journal } from '../host/journal.js';
import { CleanupStack } from '../runner/cleanup-stack.js';

export function conformanceHost(tag: string): { host: Host; release(): Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), `vsperf-conformance-${tag}-`));
  const host = new Host(new CleanupStack(), new Journal(`${tag}-${process.pid}`, dir));
  return {
    host,
    release: async () => {
      await host.cleanup.unwind();
      host.journal.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
