import { expect } from 'chai';
import { conditionsBetween, withGeneratorBusy, type TrialConditions } from '../../../../framework/fidelity/conditions.js';
import { pmdProcessing } from '../../../../framework/methodology/trial-runner.js';
import { parsePidStat, parseProcStat, descendants, type HostSnapshot } from '../../../../framework/fidelity/host-sample.js';
import { DEFAULT_THRESHOLDS, rowVerdict, trialVerdict, validityThresholds } from '../../../../framework/fidelity/verdict.js';
import { maskCpus } from '../../../../framework/fidelity/testcase.js';
import { ConfigError } from '../../../../framework/errors.js';
import { compareSets } from '../../../../framework/compare/gate.js';
import { extractMetrics } from '../../../../framework/compare/metrics.js';
import { settings } from '../methodology/helpers.js';
import type { RunResults } from '../../../../framework/results/types.js';

const QUIET: TrialConditions = {
  wallS: 1,
  cpus: [0, 1],
  stealPct: 0,
  busyPct: { 0: 30, 1: 100 },
  runQueuePerCpu: 1,
  runQueueMaxPerCpu: 1.5,
  otherCpuPct: 3,
  otherTop: [],
  coLocated: [],
  clocksource: 'tsc',
};

describe('fidelity: /proc parsing and conditions between two snapshots', () => {
  it('parses /proc/stat per CPU (steal apart) and procs_running, and a pid stat line with a tricky comm', () => {
    const st = parseProcStat('cpu  1 2 3 4 5 6 7 8 0 0\ncpu0 100 0 50 800 10 5 5 30 0 0\ncpu1 1 1 1 1 1 1 1 1 0 0\nprocs_running 4\n');
    expect(st.cpus.get(0)).to.deep.equal({ busy: 160, idle: 810, steal: 30 });
    expect(st.running).to.equal(4);
    const p = parsePidStat('123 (a (b) c) S 7 123 123 0 -1 4194560 10 0 0 0 40 2 0 0 20 0 1 0 5 0 0');
    expect(p).to.deep.equal({ pid: 123, ppid: 7, comm: 'a (b) c', ticks: 42, start: 5 });
  });

  it('descendants follow ppid links', () => {
    const procs = [1, 2, 3, 4].map((pid) => ({ pid, ppid: pid === 1 ? 0 : pid === 4 ? 1 : pid - 1, comm: 'x', ticks: 0 }));
    expect([...descendants(procs, 2)].sort()).to.deep.equal([2, 3]);
  });

  it('steal, run queue, other processes and co-located measurements from two snapshots', () => {
    const cpu = (busy: number, idle: number, steal: number) => ({ busy, idle, steal });
    const a: HostSnapshot = {
      tMs: 0,
      running: 1,
      cpus: new Map([
        [0, cpu(0, 0, 0)],
        [1, cpu(0, 0, 0)],
      ]),
      procs: [
        { pid: 10, ppid: 1, comm: 'node', ticks: 0 },
        { pid: 11, ppid: 10, comm: 'vsg-engine', ticks: 0 },
        { pid: 50, ppid: 1, comm: 'cc1', ticks: 100 },
        { pid: 60, ppid: 1, comm: 'vsg-engine', ticks: 0 },
        { pid: 12, ppid: 10, comm: 'stress-ng-cpu', ticks: 0 },
      ],
    };
    const b: HostSnapshot = {
      tMs: 2000,
      running: 3,
      cpus: new Map([
        [0, cpu(150, 40, 10)],
        [1, cpu(200, 0, 0)],
      ]),
      procs: [
        { pid: 10, ppid: 1, comm: 'node', ticks: 20 },
        { pid: 11, ppid: 10, comm: 'vsg-engine', ticks: 190 },
        { pid: 50, ppid: 1, comm: 'cc1', ticks: 200 },
        { pid: 60, ppid: 1, comm: 'vsg-engine', ticks: 30 },
        { pid: 12, ppid: 10, comm: 'stress-ng-cpu', ticks: 180 },
      ],
    };
    const c = conditionsBetween(a, b, { cpus: [], ours: new Set([10, 11, 12]), runQueue: [2, 4], hz: 100, clocksource: 'kvm-clock' });
    expect(c.stealPct).to.equal(5);
    expect(c.runQueuePerCpu).to.equal(1.5);
    expect(c.runQueueMaxPerCpu).to.equal(2);
    // cc1 100 ticks + foreign engine 30 + our stress-ng 180 (load is load) over 2 s = 155 % of a CPU.
    expect(c.otherCpuPct).to.equal(155);
    expect(c.otherTop[0]).to.deep.equal({ pid: 12, comm: 'stress-ng-cpu', cpuPct: 90 });
    expect(c.coLocated.map((p) => p.pid).sort()).to.deep.equal([12, 60]);
    const v = trialVerdict({ valid: true, conditions: c });
    expect(v.validity).to.equal('invalid');
    expect(v.reasons).to.include.members(['cpu-contention', 'co-located', 'clock']);
  });
});

describe('fidelity: verdicts', () => {
  it('a quiet trial is valid; pmd-saturated says who limited without lowering it', () => {
    expect(trialVerdict({ valid: true, conditions: QUIET })).to.deep.include({ validity: 'valid', reasons: [] });
    const v = trialVerdict({ valid: true, conditions: QUIET, pmdProcessingPct: [97.5] });
    expect(v.validity).to.equal('valid');
    expect(v.reasons).to.deep.equal(['pmd-saturated']);
  });

  it("frames dropped at the generator's full vhost-user TX ring are the switch's loss; valid only when its PMD was saturated", () => {
    const sat = trialVerdict({ valid: true, conditions: QUIET, pmdProcessingPct: [96.4], txFullDrops: 812, lostFrames: 815 });
    expect(sat.validity).to.equal('valid');
    expect(sat.reasons).to.deep.equal(['pmd-saturated', 'switch-ring-full']);
    const v = trialVerdict({ valid: true, conditions: QUIET, pmdProcessingPct: [81.2], txFullDrops: 812, lostFrames: 815 });
    expect(v.validity).to.equal('questionable');
    expect(v.reasons).to.deep.equal(['switch-ring-full']);
    expect(v.details[0]).to.equal(
      "switch-ring-full: 812 frames of the 815 lost dropped at the generator's full vhost-user TX ring: the switch did not take them in time (counted as its loss, as a NIC's full RX ring; PMD 81.2 % busy, under 95 %: it stalled rather than ran out of cycles)",
    );
    expect(trialVerdict({ valid: true, conditions: QUIET, txFullDrops: 5, lostFrames: 5 }).validity).to.equal('questionable');
    expect(trialVerdict({ valid: true, conditions: QUIET, txFullDrops: 0, lostFrames: 0 }).reasons).to.deep.equal([]);
  });

  it("a polling generator's busy share stands for its threads' CPU time; without a probe nothing is made up", () => {
    const polled = withGeneratorBusy({ ...QUIET, generatorThreadMaxPct: 3 }, { info: { generatorBusyPct: 41.26 } });
    expect(polled?.generatorThreadMaxPct).to.equal(41.3);
    expect(trialVerdict({ valid: true, conditions: polled! }).reasons).to.deep.equal([]);
    const busy = withGeneratorBusy(QUIET, { info: { generatorBusyPct: 97 } });
    expect(trialVerdict({ valid: true, conditions: busy! }).reasons).to.deep.equal(['generator-saturated']);
    expect(withGeneratorBusy(undefined, { info: { generatorBusyPct: 97 } })).to.equal(undefined);
    expect(withGeneratorBusy(QUIET, {})).to.equal(QUIET);
  });

  it("PMD processing share: scaled from OVS's stats window to the traffic's duration, capped at 100, main thread left out", () => {
    const sw = (windowS?: number): unknown => ({
      vswitch: 'OvsDpdkVhost',
      ports: [],
      extra: {
        pmd: [
          { thread: 'pmd thread numa_id 0 core_id 1', packetsReceived: 9, processingPct: 30 },
          { thread: 'main thread', packetsReceived: 0, processingPct: 80 },
        ],
        ...(windowS !== undefined ? { pmdWindowS: windowS } : {}),
      },
    });
    expect(pmdProcessing(sw(15), 10)).to.deep.equal([45]);
    expect(pmdProcessing(sw(50), 10)).to.deep.equal([100]);
    expect(pmdProcessing(sw(), 10)).to.deep.equal([30]);
    expect(pmdProcessing(sw(15))).to.deep.equal([30]);
    expect(pmdProcessing({ nothing: 1 }, 10)).to.deep.equal([]);
  });

  it('each measured condition gives its code and level', () => {
    expect(trialVerdict({ valid: false, invalidReason: 'generator-limited: sent 1 of 2' })).to.deep.include({
      validity: 'invalid',
      reasons: ['generator-limited'],
    });
    expect(trialVerdict({ valid: true, countersConsistent: false }).reasons).to.deep.equal(['counter-mismatch']);
    expect(trialVerdict({ valid: true, conditions: { ...QUIET, stealPct: 3 } })).to.deep.include({ validity: 'questionable', reasons: ['cpu-contention'] });
    expect(trialVerdict({ valid: true, conditions: { ...QUIET, stealPct: 12 } }).validity).to.equal('invalid');
    expect(trialVerdict({ valid: true, conditions: { ...QUIET, runQueuePerCpu: 2 } }).reasons).to.deep.equal(['cpu-contention']);
    expect(trialVerdict({ valid: true, conditions: { ...QUIET, generatorThreadMaxPct: 99 } }).reasons).to.deep.equal(['generator-saturated']);
    expect(trialVerdict({ valid: true, conditions: { ...QUIET, clocksource: 'hpet' } }).reasons).to.deep.equal(['clock']);
  });

  it('a row takes the worst of its valid trials, a lower bound is questionable, no valid trial invalid', () => {
    const t = (validity: 'valid' | 'questionable', reasons: string[], frameSize = 64) => ({ frameSize, valid: true, validity, validityReasons: reasons });
    const limited = { frameSize: 64, valid: false, validity: 'invalid' as const, validityReasons: ['generator-limited'] };
    expect(rowVerdict({ packet_size: 64, search_status: 'ok' }, [t('valid', []), limited, t('questionable', ['clock'], 128)])).to.deep.include({
      validity: 'valid',
    });
    expect(rowVerdict({ packet_size: 64, search_status: 'generator-limited: lower bound: …' }, [t('valid', []), limited]).reasons).to.deep.equal([
      'generator-limited',
    ]);
    expect(rowVerdict({ packet_size: 64, search_status: 'invalid: generator-limited' }, [limited]).validity).to.equal('invalid');
    const tc = trialVerdict({ valid: true, conditions: { ...QUIET, otherCpuPct: 40 } });
    expect(rowVerdict({ id: 'migration_1' }, [], tc)).to.deep.include({ validity: 'questionable', reasons: ['cpu-contention'] });
  });

  it('guest-clock: a step beyond guest_clock_ms, a method too coarse to tell, or no reading → questionable; a row keeps its own verdict', () => {
    const ok = trialVerdict({ valid: true, guestClock: { stepMs: -0.4, uncertaintyMs: 0.6 } });
    expect(ok).to.deep.include({ validity: 'valid', reasons: [] });
    const moved = trialVerdict({ valid: true, guestClock: { stepMs: -35.2, uncertaintyMs: 0.6 } });
    expect(moved.validity).to.equal('questionable');
    expect(moved.reasons).to.deep.equal(['guest-clock']);
    expect(moved.details[0]).to.match(/moved -35.2 ± 0.6 ms .*> 1 ms/);
    const coarse = trialVerdict({ valid: true, guestClock: { stepMs: 0.2, uncertaintyMs: 3 } });
    expect(coarse).to.deep.include({ validity: 'questionable', reasons: ['guest-clock'] });
    expect(coarse.details[0]).to.match(/uncertainty exceeds 1 ms/);
    expect(trialVerdict({ valid: true, guestClock: { error: 'no answer' } }).details[0]).to.match(/not measured: no answer/);
    // The threshold is a setting: 50 ms lets the 35 ms step pass.
    expect(trialVerdict({ valid: true, guestClock: { stepMs: -35.2, uncertaintyMs: 0.6 } }, { ...DEFAULT_THRESHOLDS, guest_clock_ms: 50 }).validity).to.equal(
      'valid',
    );
    expect(validityThresholds(settings({ VALIDITY_THRESHOLDS: { guest_clock_ms: 2 } })).guest_clock_ms).to.equal(2);
    // A methodology that set the row's verdict (live migration: one row per migration) keeps it.
    const trials = [{ frameSize: 64, valid: true, validity: 'invalid' as const, validityReasons: ['cpu-contention'] }];
    expect(rowVerdict({ packet_size: 64, validity: 'questionable', validity_reasons: 'guest-clock' }, trials)).to.deep.include({
      validity: 'questionable',
      reasons: ['guest-clock'],
    });
    expect(rowVerdict({ packet_size: 64 }, trials).validity).to.equal('invalid'); // without its own: the trial's
  });

  it('VALIDITY_THRESHOLDS: merged over defaults; an unknown name or a negative value is a one-line config error', () => {
    expect(validityThresholds(settings({ VALIDITY_THRESHOLDS: { steal_pct: 5 } }))).to.deep.equal({ ...DEFAULT_THRESHOLDS, steal_pct: 5 });
    expect(() => validityThresholds(settings({ VALIDITY_THRESHOLDS: { steal_pc: 5 } }))).to.throw(
      ConfigError,
      /^VALIDITY_THRESHOLDS\.steal_pc: unknown threshold \(known: steal_pct, .*\) \(from --test-params\)$/,
    );
    expect(() => validityThresholds(settings({ VALIDITY_THRESHOLDS: { other_cpu_pct: -1 } }))).to.throw(
      ConfigError,
      /VALIDITY_THRESHOLDS\.other_cpu_pct: must be a number ≥ 0, got -1/,
    );
  });

  it('VSWITCH_PMD_CPU_MASK → CPUs', () => {
    expect(maskCpus('2')).to.deep.equal([1]);
    expect(maskCpus('0x6')).to.deep.equal([1, 2]);
    expect(maskCpus('')).to.deep.equal([]);
  });
});

describe('fidelity: the regression gate ignores invalid rows and says so', () => {
  const run = (fps: number, validity: string): RunResults =>
    ({
      runId: 'r',
      startTime: '2026-01-01T00:00:00Z',
      status: 'passed',
      testcases: [
        { name: 'phy2phy_tput', deployment: 'p2p', status: 'passed', simulated: false, rows: [{ packet_size: 64, throughput_rx_fps: fps, validity }] },
      ],
    }) as unknown as RunResults;
  it('an invalid current row is not compared (no regression), and a warning names it', () => {
    const thresholds = { throughput_rx_fps: { better: 'higher' as const, pct: 5 } };
    const r = compareSets(extractMetrics(run(100_000, 'valid')), extractMetrics(run(10_000, 'invalid')), { thresholds, noiseSigma: 0, failOnMissing: true });
    expect(r.passed).to.equal(true);
    expect(r.warnings.join('\n')).to.match(/1 results row\(s\) with validity=invalid ignored: phy2phy_tput p2p 64/);
    expect(r.changes[0]!.note).to.match(/invalid/);
    const q = compareSets(extractMetrics(run(100_000, 'valid')), extractMetrics(run(10_000, 'questionable')), {
      thresholds,
      noiseSigma: 0,
      failOnMissing: true,
    });
    expect(q.passed).to.equal(false);
  });
});
