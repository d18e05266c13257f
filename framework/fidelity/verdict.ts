/**
 * Validity verdict of a trial and of a result row, from what was measured during the trial
 * (conditions.ts), the trial's own validity (generator-limited), the switch counter cross-check and the
 * OVS PMD statistics. Pure: thresholds in, verdict out.
 *
 *   valid        nothing measured speaks against the figure
 *   questionable the figure stands but a condition may have bent it (contention, a foreign measurement,
 *                a clock that is not tsc, counters that disagree, a saturated generator, a lower bound)
 *   invalid      the figure says nothing about the DUT (generator-limited trial, heavy steal or contention)
 *
 * Reason codes (validity_reasons, `;`-separated): generator-limited, cpu-contention, pmd-saturated (who
 * limited: the DUT; does not lower the verdict), switch-ring-full (the loss was frames the switch did not
 * take from a full vhost-user ring in time: its loss, named; does not lower the verdict),
 * generator-saturated, counter-mismatch, clock, co-located, guest-clock (a migrated guest's clock moved
 * against the host's, or the query could not tell).
 */
import type { Json, JsonObject, Settings } from '../config/settings.js';
import { ConfigError } from '../errors.js';
import type { TrialConditions } from './conditions.js';

export type Validity = 'valid' | 'questionable' | 'invalid';

export interface Verdict {
  readonly validity: Validity;
  readonly reasons: readonly string[];
  /** One line per reason with the measured figure against its threshold. */
  readonly details: readonly string[];
}

export interface ValidityThresholds {
  /** Steal time on a relevant CPU (% of the trial) above which the row is questionable / invalid. */
  readonly steal_pct: number;
  readonly steal_invalid_pct: number;
  /** Mean runnable tasks per CPU during the trial. */
  readonly run_queue_per_cpu: number;
  /** CPU time of processes outside this run (% of one CPU). */
  readonly other_cpu_pct: number;
  readonly other_cpu_invalid_pct: number;
  /** OVS PMD processing cycles (% of its cycles) from which the PMD was the bottleneck. */
  readonly pmd_busy_pct: number;
  /** The generator engine's busiest thread (% of one CPU) from which the generator was the bottleneck. */
  readonly generator_thread_pct: number;
  /** How far a guest's clock may move against the host's across a live migration (ms). */
  readonly guest_clock_ms: number;
}

export const DEFAULT_THRESHOLDS: ValidityThresholds = {
  steal_pct: 2,
  steal_invalid_pct: 10,
  run_queue_per_cpu: 1.5,
  other_cpu_pct: 25,
  other_cpu_invalid_pct: 100,
  pmd_busy_pct: 95,
  generator_thread_pct: 90,
  guest_clock_ms: 1,
};

/** VALIDITY_THRESHOLDS (a dict, merged over the defaults): an unknown name or a bad number is a ConfigError. */
export function validityThresholds(settings: Settings): ValidityThresholds {
  const key = 'VALIDITY_THRESHOLDS';
  const src = settings.source(key);
  const v = settings.getOr<Json>(key, {});
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ConfigError(key, src, 'must be a dict of threshold name → number');
  const out: Record<string, number> = { ...DEFAULT_THRESHOLDS };
  for (const [k, x] of Object.entries(v as JsonObject)) {
    if (!(k in DEFAULT_THRESHOLDS)) throw new ConfigError(`${key}.${k}`, src, `unknown threshold (known: ${Object.keys(DEFAULT_THRESHOLDS).join(', ')})`);
    if (x === null) continue;
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw new ConfigError(`${key}.${k}`, src, `must be a number ≥ 0, got ${JSON.stringify(x)}`);
    out[k] = x;
  }
  return out as unknown as ValidityThresholds;
}

export interface TrialEvidence {
  /** The search's validity of the trial (false = generator-limited or nothing sent). */
  readonly valid: boolean;
  readonly invalidReason?: string;
  /** Generator vs switch counters agree (undefined = not checked). */
  readonly countersConsistent?: boolean;
  readonly conditions?: TrialConditions;
  /** Processing cycles % of each PMD thread during the trial. */
  readonly pmdProcessingPct?: readonly number[];
  /**
   * Frames the generator dropped because the switch's vhost-user ring was full (as a NIC's full RX ring
   * drops them: counted as sent and lost), and the frames lost in all.
   */
  readonly txFullDrops?: number;
  readonly lostFrames?: number;
  /** A live migration: the guest clock's step across it and the method's uncertainty (ms), or why unmeasured. */
  readonly guestClock?: { readonly stepMs: number; readonly uncertaintyMs: number } | { readonly error: string };
}

/** guest-clock: the step beyond the threshold, or a method too coarse to tell (both questionable). */
function guestClockCheck(v: Collect, g: NonNullable<TrialEvidence['guestClock']>, t: ValidityThresholds): void {
  const thr = t.guest_clock_ms;
  if ('error' in g) return v.add('guest-clock', 'questionable', `guest clock not measured: ${g.error}`);
  const step = `${round3(g.stepMs)} ± ${round3(g.uncertaintyMs)} ms`;
  if (Math.abs(g.stepMs) > thr) v.add('guest-clock', 'questionable', `guest clock moved ${step} against the host's across the migration, > ${thr} ms`);
  else if (g.uncertaintyMs > thr) v.add('guest-clock', 'questionable', `guest clock step ${step}: the method's uncertainty exceeds ${thr} ms, cannot tell`);
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

const RANK: Record<Validity, number> = { valid: 0, questionable: 1, invalid: 2 };

class Collect {
  validity: Validity = 'valid';
  readonly reasons: string[] = [];
  readonly details: string[] = [];
  add(code: string, level: Validity, detail: string): void {
    if (RANK[level] > RANK[this.validity]) this.validity = level;
    if (!this.reasons.includes(code)) this.reasons.push(code);
    this.details.push(`${code}: ${detail}`);
  }
  done(): Verdict {
    return { validity: this.validity, reasons: this.reasons, details: this.details };
  }
}

export function trialVerdict(e: TrialEvidence, t: ValidityThresholds = DEFAULT_THRESHOLDS): Verdict {
  const v = new Collect();
  if (!e.valid) v.add('generator-limited', 'invalid', e.invalidReason ?? 'invalid trial');
  if (e.countersConsistent === false) v.add('counter-mismatch', 'questionable', 'generator counts disagree with the switch port counters');
  const c = e.conditions;
  if (c) {
    if (c.stealPct > t.steal_pct)
      v.add('cpu-contention', c.stealPct > t.steal_invalid_pct ? 'invalid' : 'questionable', `steal ${c.stealPct} % > ${t.steal_pct} %`);
    if (c.otherCpuPct > t.other_cpu_pct) {
      const top = c.otherTop.map((p) => `${p.comm}[${p.pid}] ${p.cpuPct} %`).join(', ');
      v.add(
        'cpu-contention',
        c.otherCpuPct > t.other_cpu_invalid_pct ? 'invalid' : 'questionable',
        `other processes ${c.otherCpuPct} % of a CPU > ${t.other_cpu_pct} % (${top})`,
      );
    }
    if (c.runQueuePerCpu > t.run_queue_per_cpu) v.add('cpu-contention', 'questionable', `run queue ${c.runQueuePerCpu} per CPU > ${t.run_queue_per_cpu}`);
    if (c.coLocated.length) v.add('co-located', 'questionable', c.coLocated.map((p) => `${p.comm}[${p.pid}] ${p.cpuPct} %`).join(', '));
    if (c.clocksource !== undefined && c.clocksource !== 'tsc') v.add('clock', 'questionable', `clocksource ${c.clocksource}, not tsc`);
    if (c.generatorThreadMaxPct !== undefined && c.generatorThreadMaxPct >= t.generator_thread_pct) {
      v.add(
        'generator-saturated',
        'questionable',
        `generator thread at ${c.generatorThreadMaxPct} % of a CPU ≥ ${t.generator_thread_pct} %: the generator may have been the bottleneck`,
      );
    }
  }
  if (e.guestClock) guestClockCheck(v, e.guestClock, t);
  const pmd = Math.max(...(e.pmdProcessingPct ?? []), -1);
  if (pmd >= t.pmd_busy_pct) v.add('pmd-saturated', 'valid', `PMD processing ${pmd} % ≥ ${t.pmd_busy_pct} %: the DUT was the bottleneck`);
  if (e.txFullDrops) {
    const of = e.lostFrames ? ` of the ${e.lostFrames} lost` : '';
    // A saturated PMD could not keep up: the switch's limit. A PMD with cycles to spare that still let
    // the ring fill had stopped polling (preempted by another thread on its CPU): a sandbox effect, so
    // the loss is still the switch's but the figure is not the switch's capacity.
    const saturated = pmd >= t.pmd_busy_pct;
    v.add(
      'switch-ring-full',
      saturated ? 'valid' : 'questionable',
      `${e.txFullDrops} frames${of} dropped at the generator's full vhost-user TX ring: the switch did not take them in time (counted as its loss, as a NIC's full RX ring; PMD ${pmd >= 0 ? `${pmd} % busy` : 'busy unknown'}${saturated ? '' : `, under ${t.pmd_busy_pct} %: it stalled rather than ran out of cycles`})`,
    );
  }
  return v.done();
}

/** Worst of several verdicts, reasons united (in order of first appearance). */
export function combine(list: readonly Verdict[]): Verdict {
  const v = new Collect();
  for (const x of list) {
    if (RANK[x.validity] > RANK[v.validity]) v.validity = x.validity;
    for (const r of x.reasons) if (!v.reasons.includes(r)) v.reasons.push(r);
    for (const d of x.details) if (!v.details.includes(d)) v.details.push(d);
  }
  return v.done();
}

export interface RowTrial {
  readonly frameSize: number;
  readonly valid: boolean;
  readonly validity?: Validity;
  readonly validityReasons?: readonly string[];
  readonly validityDetails?: readonly string[];
}

/**
 * Verdict of one result row: its own when the methodology set `validity` (and `validity_reasons`), else
 * the worst of the valid trials at its frame size (the ones a search could use;
 * invalid trials were backed off from and decided nothing), `generator-limited` when the figure is a
 * lower bound or the row's own trial was invalid, and the testcase's conditions when it has no trials.
 */
export function rowVerdict(row: Readonly<Record<string, unknown>>, trials: readonly RowTrial[], testcase?: Verdict): Verdict {
  // A methodology that knows which trial stands behind each row (live migration) gives the verdict itself.
  if (row.validity === 'valid' || row.validity === 'questionable' || row.validity === 'invalid') {
    const reasons = typeof row.validity_reasons === 'string' && row.validity_reasons ? row.validity_reasons.split(';') : [];
    return { validity: row.validity, reasons, details: [] };
  }
  const size = Number(row.packet_size);
  const mine = trials.filter((t) => (Number.isFinite(size) ? t.frameSize === size : true));
  const used = mine.filter((t) => t.valid && t.validity);
  const parts: Verdict[] = used.map((t) => ({ validity: t.validity!, reasons: t.validityReasons ?? [], details: t.validityDetails ?? [] }));
  if (!mine.length && testcase) parts.push(testcase);
  const status = typeof row.search_status === 'string' ? row.search_status : '';
  if (/^invalid:|no valid trial/.test(status))
    parts.push({ validity: 'invalid', reasons: ['generator-limited'], details: ['generator-limited: no valid trial behind this figure'] });
  else if (/lower bound/.test(status))
    parts.push({
      validity: 'questionable',
      reasons: ['generator-limited'],
      details: ['generator-limited: the figure is a lower bound (the generator could not offer more)'],
    });
  return combine(parts);
}
