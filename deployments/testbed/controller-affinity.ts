/**
 * The controller (this process: the runner, its conditions sampler, the ovs-* commands it runs) off a
 * PMD's CPU while the vhost sandbox runs. Each time the kernel runs it there, the PMD stops draining
 * the generator's vhost-user rings for that long; a stall longer than a ring holds is frame loss
 * charged to the switch. The CPUs before are read back and restored when the deployment is torn down.
 */
import { exec } from '../../framework/host/exec.js';
import type { Logger } from '../../framework/log/logger.js';
import { ranges } from '../vswitch/pmd-cores.js';
import { parseTasksetList, processAffinityArgv } from '../vswitch/pmd-isolation.js';

export interface Confined {
  readonly before: readonly number[];
  readonly cpus: readonly number[];
  restore(): Promise<void>;
}

/** Every thread of this process (and what it starts from now on) on `cpus`. */
export async function confineController(cpus: readonly number[], log: Logger, pid = process.pid): Promise<Confined> {
  const before = parseTasksetList((await exec(['taskset', '-c', '-p', String(pid)])).stdout);
  await exec(processAffinityArgv(pid, cpus));
  log.info(`controller (pid ${pid}) and the commands it runs on CPU ${ranges(cpus)} while the switch's PMDs poll (was ${ranges(before)})`);
  return {
    before,
    cpus,
    restore: async () => {
      await exec(processAffinityArgv(pid, before));
    },
  };
}
