import { expect } from 'chai';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuList, formatChecks, judgeHost, readHostFacts, type HostFacts } from '../../../../framework/fidelity/host-checks.js';

const FIT: HostFacts = {
  clocksource: 'tsc',
  availableClocksources: ['tsc', 'hpet'],
  governors: { cpu0: 'performance', cpu1: 'performance' },
  boost: false,
  isolated: [1, 2],
  nohzFull: [1, 2],
  pmdCpus: [1],
  generatorCpus: [2],
  hugepages: { total: 1024, free: 1024, sizeKb: 2048 },
  thp: 'never',
  portIrqs: { eth0: [0] },
  kvm: { present: true, usable: true },
  steal: { pct: 0, overS: 2 },
  numaNodes: 1,
  portNuma: {},
};

describe('fidelity: vsperf --check-host rules', () => {
  it('a fit host passes every check', () => {
    const checks = judgeHost(FIT);
    expect(checks.map((c) => c.name)).to.deep.equal([
      'clocksource',
      'cpu-governor',
      'frequency-boost',
      'isolcpus',
      'nohz_full',
      'hugepages',
      'transparent-hugepages',
      'irq-affinity',
      'kvm',
      'steal',
      'numa',
    ]);
    expect(checks.filter((c) => c.status !== 'pass')).to.deep.equal([]);
  });

  it('an unfit host gets warn/fail lines that say what to do', () => {
    const checks = judgeHost({
      ...FIT,
      clocksource: 'hpet',
      governors: { cpu0: 'powersave' },
      boost: true,
      isolated: [],
      nohzFull: [],
      hugepages: { total: 0, free: 0, sizeKb: 2048 },
      thp: 'always',
      portIrqs: { eth0: [1] },
      kvm: { present: false, usable: false },
      steal: { pct: 12.5, overS: 2 },
      numaNodes: 2,
      portNuma: { eth0: 1 },
    });
    const by = Object.fromEntries(checks.map((c) => [c.name, c]));
    expect(by.clocksource!.status).to.equal('fail');
    expect(by.clocksource!.fix).to.match(/echo tsc/);
    expect(by.hugepages!.status).to.equal('fail');
    expect(by.steal!.status).to.equal('fail');
    for (const n of ['cpu-governor', 'frequency-boost', 'isolcpus', 'nohz_full', 'transparent-hugepages', 'irq-affinity', 'kvm', 'numa'])
      expect(by[n]!.status, n).to.equal('warn');
    expect(formatChecks(checks).split('\n')).to.have.length(checks.length);
    expect(formatChecks(checks)).to.match(/^FAIL {2}clocksource\s+current hpet .* — echo tsc/m);
  });

  it('reads the facts from /sys and /proc trees', () => {
    const root = mkdtempSync(join(tmpdir(), 'vsperf-hc-'));
    const sys = join(root, 'sys');
    const proc = join(root, 'proc');
    const w = (p: string, text: string): void => {
      mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, text);
    };
    w(join(sys, 'devices/system/clocksource/clocksource0/current_clocksource'), 'kvm-clock\n');
    w(join(sys, 'devices/system/cpu/cpu0/cpufreq/scaling_governor'), 'schedutil\n');
    w(join(sys, 'devices/system/cpu/isolated'), '2-3,5\n');
    w(join(sys, 'kernel/mm/transparent_hugepage/enabled'), 'always [madvise] never\n');
    mkdirSync(join(sys, 'devices/system/node/node0'), { recursive: true });
    w(join(proc, 'meminfo'), 'HugePages_Total:     512\nHugePages_Free:      100\nHugepagesize:       2048 kB\n');
    w(join(proc, 'interrupts'), '           CPU0       CPU1\n 40:  1  2  PCI-MSI eth1-TxRx-0\n 41:  1 2 PCI-MSI other\n');
    w(join(proc, 'irq/40/smp_affinity_list'), '0-1\n');
    let f: ReturnType<typeof readHostFacts>;
    try {
      f = readHostFacts({ pmdCpus: [1], generatorCpus: [], ports: ['eth1'], sys, proc });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
    expect(f.clocksource).to.equal('kvm-clock');
    expect(f.governors).to.deep.equal({ cpu0: 'schedutil' });
    expect(f.isolated).to.deep.equal([2, 3, 5]);
    expect(f.thp).to.equal('madvise');
    expect(f.hugepages).to.deep.equal({ total: 512, free: 100, sizeKb: 2048 });
    expect(f.portIrqs).to.deep.equal({ eth1: [0, 1] });
    expect(f.numaNodes).to.equal(1);
    expect(cpuList('0-2,7')).to.deep.equal([0, 1, 2, 7]);
  });
});
