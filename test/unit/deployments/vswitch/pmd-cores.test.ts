import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPmdMask, onlineCpus } from '../../../../deployments/vswitch/pmd-cores.js';

describe('VSWITCH_PMD_CPU_MASK against the host CPUs', () => {
  it('passes a mask of cores the host has, as OVS takes it', () => {
    expect(checkPmdMask('2', [0, 1], 'x')).to.equal('0x2');
    expect(checkPmdMask('0x3', [0, 1], 'x')).to.equal('0x3');
  });

  it("names the cores VSPERF's ovsdpdk_nic_* masks ask for and a 2-CPU host lacks, in one line", () => {
    const f = (mask: string) => () => checkPmdMask(mask, [0, 1], 'testcase ovsdpdk_nic_p2p_two_pmd_bidir_tput');
    expect(f('10')).to.throw(
      'VSWITCH_PMD_CPU_MASK 10 (from testcase ovsdpdk_nic_p2p_two_pmd_bidir_tput) puts PMD threads on core 4, which this host lacks (online CPUs: 0-1)',
    );
    expect(f('30')).to.throw(/on cores 4-5, which this host lacks/);
    expect(f('0x12')).to.throw(/on core 4, which/);
    try {
      f('30')();
    } catch (e) {
      expect((e as { code: string }).code).to.equal('E_ENV');
      expect((e as Error).message).to.not.include('\n');
    }
  });

  it('refuses a mask that names no CPU as a configuration error, not a host one', () => {
    expect(() => checkPmdMask('0', [0, 1], 'x')).to.throw(/names no CPU/);
    expect(() => checkPmdMask('zz', [0, 1], 'x')).to.throw(/^VSWITCH_PMD_CPU_MASK: "zz" names no CPU.*\(from x\)$/);
    expect(() => checkPmdMask('zz', [0, 1], 'x'))
      .to.throw()
      .with.property('code', 'E_CONFIG');
  });

  it("reads sysfs's online list (ranges and singles)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpus-'));
    try {
      writeFileSync(join(dir, 'online'), '0-2,5\n');
      expect(onlineCpus(join(dir, 'online'))).to.deep.equal([0, 1, 2, 5]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
