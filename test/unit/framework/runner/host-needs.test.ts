import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostLacks, numaNodeCount } from '../../../../framework/runner/host-needs.js';

describe('host needs of VSPERF integration testcases', () => {
  it('the NUMA testcases need 2 nodes: one line naming what the host has', () => {
    expect(hostLacks('vhost_numa_awareness', { numaNodes: () => 1 })).to.equal(
      'needs a host with 2 NUMA nodes (it places guests and PMD threads on different nodes); this host has 1',
    );
    expect(hostLacks('ovsdpdk_numa', { numaNodes: () => 2 })).to.equal(undefined);
    expect(hostLacks('vswitch_add_del_bridge', { numaNodes: () => 1 })).to.equal(undefined);
  });

  it('counts nodeN entries of sysfs', () => {
    const d = mkdtempSync(join(tmpdir(), 'numa-'));
    for (const n of ['node0', 'node1', 'possible', 'has_cpu']) mkdirSync(join(d, n));
    expect(numaNodeCount(d)).to.equal(2);
    expect(numaNodeCount(join(d, 'absent'))).to.equal(1);
    rmSync(d, { recursive: true });
  });
});
