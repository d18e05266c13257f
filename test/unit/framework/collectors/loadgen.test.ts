import { expect } from 'chai';
import { parseLoadConfig, stressNgArgv } from '../../../../framework/collectors/loadgen/stress-ng.js';
import { parseCyclictest, cyclictestArgv } from '../../../../framework/collectors/cyclictest.js';
import { ConfigError } from '../../../../framework/errors.js';

describe('collectors/loadgen (StressNg sizing, cyclictest parsing)', () => {
  it('sizes workers as VSPERF does: % of non-reserved CPUs, split by pattern letters', () => {
    expect(stressNgArgv({ load: 100, reserved: 4, pattern: 'c' }, 16, 1e9)).to.deep.equal(['stress-ng', '--cpu', '12', '--cpu-load', '100', '--timeout', '6h']);
    expect(stressNgArgv({ load: 50, pattern: 'cm', load_memory: 10 }, 8, 8e9)).to.deep.equal([
      'stress-ng',
      '--cpu',
      '2',
      '--cpu-load',
      '100',
      '--vm',
      '2',
      '--vm-bytes',
      '400000000',
      '--timeout',
      '6h',
    ]);
    // At least one worker even on a tiny box with everything reserved.
    expect(stressNgArgv({ load: 100, reserved: 4, pattern: 'c' }, 2, 1e9).slice(1, 3)).to.deep.equal(['--cpu', '1']);
    expect(stressNgArgv({ load: 10, pattern: 'i', options: ' --metrics-brief  -t 5s' }, 4, 1e9)).to.deep.equal([
      'stress-ng',
      '--io',
      '1',
      '--metrics-brief',
      '-t',
      '5s',
    ]);
  });

  it('rejects bad Load dicts with the key and source named', () => {
    expect(() => parseLoadConfig({ load: 150, pattern: 'c' }, 'testcase x')).to.throw(ConfigError, /LOADGEN_CONFIG\.load.*testcase x/);
    expect(() => parseLoadConfig({ load: 50, pattern: 'cx' }, 's')).to.throw(ConfigError, /pattern/);
    try {
      parseLoadConfig({}, 's');
      expect.fail('should throw');
    } catch (e) {
      expect((e as ConfigError).brief()).to.match(/LOADGEN_CONFIG\.load.*hint: .*DummyLoadGen/);
    }
    expect(() => parseLoadConfig({ load: 50, pattern: 'c', extra: 1 }, 's')).to.throw(ConfigError, /extra/);
    expect(parseLoadConfig({ load: 50, pattern: 'CM', load_memory: 80 }, 's')).to.deep.equal({ load: 50, pattern: 'cm', load_memory: 80 });
  });

  it('parses cyclictest -q -h output', () => {
    const out = [
      '000000 000000',
      '000001 000005',
      '000002 000090',
      '000003 000004',
      '000004 000001',
      '000005 000000',
      '# Total: 000000100',
      '# Min Latencies: 00001',
      '# Avg Latencies: 00002',
      '# Max Latencies: 00150',
      '# Histogram Overflows: 00001',
      '# Histogram Overflow at cycle number:',
      '# Thread 0: 00042',
    ].join('\n');
    const r = parseCyclictest(out);
    expect(r).to.include({ minUs: 1, avgUs: 2, maxUs: 150, samples: 100, overflows: 1 });
    expect(r.histogram.counts).to.deep.equal([0, 5, 90, 4, 1]);
    expect(() => parseCyclictest('garbage')).to.throw(/no latency summary/);
    expect(cyclictestArgv({ durationS: 2, threads: 2 })).to.include.members(['--threads=2', '--duration=2']);
  });
});
