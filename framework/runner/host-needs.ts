/**
 * What some of VSPERF's integration testcases need of the host beyond what their steps say in words
 * (they find out with an assert deep in the steps: `numactl -H` … `#STEP[-1][0]>1`). Checked before
 * the testcase starts (and by the plan), so it fails with one line naming what the host lacks.
 */
import { readdirSync } from 'node:fs';

interface HostNeeds {
  /** NUMA nodes: the testcase pins guests and PMD threads to different nodes. */
  readonly numaNodes?: number;
}

const NEEDS: Readonly<Record<string, HostNeeds>> = {
  vhost_numa_awareness: { numaNodes: 2 },
  ovsdpdk_numa: { numaNodes: 2 },
};

/** NUMA nodes of this host (/sys/devices/system/node/nodeN); 1 when the kernel has no NUMA. */
export function numaNodeCount(dir = '/sys/devices/system/node'): number {
  try {
    return Math.max(1, readdirSync(dir).filter((n) => /^node\d+$/.test(n)).length);
  } catch {
    return 1;
  }
}

/** Why this host cannot run the testcase, or undefined. */
export function hostLacks(testcase: string, probe: { numaNodes: () => number } = { numaNodes: () => numaNodeCount() }): string | undefined {
  const need = NEEDS[testcase];
  if (need?.numaNodes !== undefined) {
    const have = probe.numaNodes();
    if (have < need.numaNodes)
      return `needs a host with ${need.numaNodes} NUMA nodes (it places guests and PMD threads on different nodes); this host has ${have}`;
  }
  return undefined;
}
