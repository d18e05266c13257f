/**
 * VSWITCH_PMD_CPU_MASK against the CPUs this host has. OVS quietly starts no PMD thread for a core
 * that does not exist, and with none the switch forwards nothing: VSPERF's ovsdpdk_nic_* testcases
 * (mask 0x10, 0x30: cores 4 and 5) then end in "nothing was forwarded" on a small box. Say instead,
 * before the switch starts, which cores are missing.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, EnvironmentError } from '../../framework/errors.js';
import { cpuList } from '../../framework/fidelity/host-checks.js';
import { maskCpus } from '../../framework/fidelity/testcase.js';

export const ONLINE_CPUS = '/sys/devices/system/cpu/online';

/** Online CPUs of this host (sysfs), e.g. [0, 1]. */
export function onlineCpus(path = ONLINE_CPUS): number[] {
  return cpuList(readFileSync(path, 'utf8').trim());
}

/** [0,1,2,5] → "0-2,5" (the kernel's CPU list format, as taskset -c takes it). */
export const ranges = (cpus: readonly number[]): string => {
  const out: string[] = [];
  for (let i = 0; i < cpus.length; i++) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j]! + 1) j++;
    out.push(j > i ? `${cpus[i]}-${cpus[j]}` : String(cpus[i]));
    i = j;
  }
  return out.join(',');
};

/** Throws one line naming the mask's cores this host lacks; returns the mask as OVS takes it (0x…). */
export function checkPmdMask(mask: string, online: readonly number[], source: string): string {
  const m = mask.trim();
  const cores = maskCpus(m);
  if (cores.length === 0)
    throw new ConfigError('VSWITCH_PMD_CPU_MASK', source, `${JSON.stringify(mask)} names no CPU: a hex mask such as "2" or "0x6" is needed`);
  const have = new Set(online);
  const missing = cores.filter((c) => !have.has(c));
  if (missing.length) {
    throw new EnvironmentError(
      `VSWITCH_PMD_CPU_MASK ${m} (from ${source}) puts PMD threads on core${missing.length > 1 ? 's' : ''} ${ranges(missing)}, which this host lacks (online CPUs: ${ranges(online)})`,
      { hint: 'set VSWITCH_PMD_CPU_MASK to cores this host has, or VSWITCH_AFFINITIZATION_ON=0 to let OVS choose' },
    );
  }
  return m.toLowerCase().startsWith('0x') ? m : `0x${m}`;
}
