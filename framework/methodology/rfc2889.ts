/**
 * RFC 2889 as VSPERF defines the testcases (LTD.Forwarding.RFC2889.MaxForwardingRate,
 * LTD.AddrCaching.RFC2889.AddrCachingCapacity, LTD.AddrLearning.RFC2889.AddrLearningRate), on the
 * generator's two ports. Repeated TRAFFICGEN_RFC2889_TRIALS times, rows averaged.
 *
 * - rfc2889_forwarding: RFC 2544 throughput T (VSPERF binary search), then TRAFFICGEN_RFC2889_FWD_STEPS
 *   trials of TRAFFICGEN_DURATION at loads stepping evenly from T to the maximum offered load (line
 *   rate, or the generator's maximum); forwarding_rate_fps = the highest rx rate seen (MFR).
 * - rfc2889_caching: for N addresses (one L2 flow per MAC pair), a learning burst of N frames at
 *   TRAFFICGEN_RFC2889_AC_LR fps, then N test frames to the learned addresses at the same rate; N passes
 *   when the test frames lose ≤ TRAFFICGEN_LOSSRATE. N is searched in [MIN_ADDRS, MAX_ADDRS] (max first);
 *   caching_capacity_addrs = largest passing N, addr_learned_percent = share of test frames delivered at MAX_ADDRS.
 * - rfc2889_learning: N = TRAFFICGEN_RFC2889_LR_ADDRS addresses learned at rate R, then tested as above;
 *   R is searched in [MIN_LR, MAX_LR] (max first) to TRAFFICGEN_RFC2889_LR_PRECISION_FPS;
 *   optimal_learning_rate_fps = highest passing R.
 *
 * Limitation: with two ports, flooding of unknown unicast is not observable (it arrives on the only
 * other port); a failure is loss. The switch must forget addresses between probes (MAC aging, or the
 * topology's beforeTrial hook flushing its table); otherwise a smaller N passes from the previous probe.
 */
import type { Methodology, MethodologyContext, TrialRecord } from './context.js';
import { TrialRunner } from './trial-runner.js';
import { frameSizes } from './traffic-spec.js';
import { fpsToMbps, meanRows, rateColumns, round, searchColumns } from './rows.js';
import { int, num } from './options.js';
import { runBinarySearch, statusText } from './throughput.js';
import type { ResultRow, Search, SearchDone, TrialOutcome, TrialRequest } from './types.js';
import { lowerBoundNote } from './backoff.js';

/** Parameter search where each probe is a learning trial then a test trial; pass = test loss ≤ lossRatePct. */
export interface ProbeConfig {
  readonly min: number;
  readonly max: number;
  /** Stop when hi − lo ≤ this. */
  readonly resolution: number;
  readonly integer: boolean;
  readonly lossRatePct: number;
  /** The two trials of a probe at parameter value v. */
  probe(v: number): readonly [TrialRequest, TrialRequest];
}

export interface ProbeResult {
  /** Largest passing value, or undefined when even `min` fails. */
  readonly value?: number;
  readonly status: 'ok' | 'max-passes' | 'min-fails' | 'generator-limited';
  readonly message: string;
  /** Test trial at the first probe (max). */
  readonly firstTest?: TrialOutcome;
  readonly bestTest?: TrialOutcome;
}

export class ProbeSearch implements Search<ProbeResult> {
  private lo: number | undefined;
  private hi: number | undefined;
  private current: number;
  private stage: 0 | 1 = 0;
  private result: ProbeResult | undefined;
  private firstTest: TrialOutcome | undefined;
  private bestTest: TrialOutcome | undefined;
  private limitedNote = '';

  constructor(private readonly cfg: ProbeConfig) {
    if (!(cfg.max >= cfg.min)) throw new RangeError(`max (${cfg.max}) must be ≥ min (${cfg.min})`);
    this.current = cfg.max;
  }

  next(): TrialRequest | SearchDone<ProbeResult> {
    if (this.result) return { done: true, result: this.result };
    return this.cfg.probe(this.current)[this.stage];
  }

  private finish(r: Omit<ProbeResult, 'firstTest' | 'bestTest'>): void {
    if (this.limitedNote) r = { ...r, message: `${r.message}; ${this.limitedNote}` };
    this.result = { ...r, ...(this.firstTest ? { firstTest: this.firstTest } : {}), ...(this.bestTest ? { bestTest: this.bestTest } : {}) };
  }

  record(_req: TrialRequest, out: TrialOutcome): void {
    if (!out.valid) {
      this.finish({
        ...(this.lo !== undefined ? { value: this.lo } : {}),
        status: 'generator-limited',
        message: out.backoffExhausted ?? `${out.invalidReason ?? 'invalid trial'}; search stopped`,
      });
      return;
    }
    // A probe's frames went slower than asked (the generator backed off): the value is a lower bound.
    if (out.backoff) this.limitedNote = `${lowerBoundNote(out.backoff)}; the result is a lower bound`;
    if (this.stage === 0) {
      this.stage = 1; // learning trial done; its loss does not matter
      return;
    }
    this.stage = 0;
    this.firstTest ??= out;
    const v = this.current;
    const pass = out.result.lossPct <= this.cfg.lossRatePct;
    if (pass) {
      this.lo = v;
      this.bestTest = out;
    } else this.hi = v;
    if (this.lo === this.cfg.max) return this.finish({ value: v, status: 'max-passes', message: `passes at the maximum ${v}` });
    if (this.hi === this.cfg.min) return this.finish({ status: 'min-fails', message: `fails even at the minimum ${v}` });
    if (this.hi !== undefined && this.lo === undefined) {
      this.current = this.cfg.min;
      return;
    }
    const lo = this.lo!;
    const hi = this.hi!;
    if (hi - lo <= this.cfg.resolution) return this.finish({ value: lo, status: 'ok', message: `largest passing ${lo}, smallest failing ${hi}` });
    const mid = this.cfg.integer ? Math.floor((lo + hi) / 2) : (lo + hi) / 2;
    if (mid <= lo || mid >= hi) return this.finish({ value: lo, status: 'ok', message: `largest passing ${lo}, smallest failing ${hi}` });
    this.current = mid;
  }
}

/** Status text of a probe search: 'ok', or the status with its message (a lower bound says why). */
function probeStatus(r: ProbeResult): string {
  return r.status === 'ok' && !r.message.includes('lower bound') ? 'ok' : `${r.status}: ${r.message}`;
}

/** Locally administered base MACs, different for every probe so no probe profits from an earlier one. */
export function probeMacs(probe: number): { srcMac: string; dstMac: string } {
  const hex = (x: number): string => (x & 0xff).toString(16).padStart(2, '0');
  return { srcMac: `02:${hex(probe >> 8)}:${hex(probe)}:00:00:00`, dstMac: `06:${hex(probe >> 8)}:${hex(probe)}:00:00:00` };
}

function l2Prober(): (addrs: number, rateFps: number, testRateFps: number) => readonly [TrialRequest, TrialRequest] {
  const seen = new Map<string, number>();
  return (addrs, rateFps, testRateFps) => {
    const n = Math.max(1, Math.round(addrs));
    const key = `${n}@${rateFps}`;
    if (!seen.has(key)) seen.set(key, seen.size + 1);
    const l2 = probeMacs(seen.get(key)!);
    return [
      { rateFps, frames: n, multistream: n, streamType: 'L2', l2, purpose: `learn ${n} addresses at ${round(rateFps)} fps`, latency: false },
      { rateFps: testRateFps, frames: n, multistream: n, streamType: 'L2', l2, purpose: `test ${n} addresses`, latency: false },
    ];
  };
}

/**
 * What every RFC 2889 methodology here does around its search: one TrialRunner per frame size (learning
 * first when asked), TRAFFICGEN_RFC2889_TRIALS repetitions, each given the index of its first trial, and
 * their rows averaged into the size's row.
 */
async function perSizeRepetitions(
  ctx: MethodologyContext,
  opts: { learn: boolean },
  repetition: (runner: TrialRunner, size: number, from: number) => Promise<ResultRow>,
): Promise<{ rows: ResultRow[]; trials: TrialRecord[] }> {
  const rows: ResultRow[] = [];
  const trials: TrialRecord[] = [];
  const counter = { next: 0 };
  const reps = int(ctx.settings, 'TRAFFICGEN_RFC2889_TRIALS', 1, 1, 1000);
  for (const size of frameSizes(ctx.settings)) {
    const runner = new TrialRunner(ctx, size, counter);
    if (opts.learn) await runner.learn();
    const rep: ResultRow[] = [];
    for (let i = 0; i < reps; i++) rep.push(await repetition(runner, size, runner.trials.length));
    rows.push(meanRows(rep));
    trials.push(...runner.trials);
  }
  return { rows, trials };
}

export const forwarding: Methodology = async (ctx) => {
  const steps = int(ctx.settings, 'TRAFFICGEN_RFC2889_FWD_STEPS', 10, 1, 1000);
  return perSizeRepetitions(ctx, { learn: true }, async (runner, size, from) => {
    const tput = await runBinarySearch(ctx, runner);
    const mol = runner.maxRateFps;
    const t = tput.best ? Math.min(mol, (tput.bestPct / 100) * runner.lineRateFps) : 0;
    const outs: TrialOutcome[] = tput.best ? [tput.best] : [];
    if (t < mol) {
      for (let k = 1; k <= steps; k++) outs.push(await runner.measure({ rateFps: t + ((mol - t) * k) / steps, purpose: `forwarding step ${k}/${steps}` }));
    }
    const valid = outs.filter((o) => o.valid);
    const mfr = valid.reduce<TrialOutcome | undefined>((a, o) => (!a || o.result.rxFps > a.result.rxFps ? o : a), undefined);
    const notes = [`throughput ${statusText(tput)}`, ...(valid.length < outs.length ? [`${outs.length - valid.length} invalid trials ignored`] : [])];
    return {
      packet_size: size,
      ...(mfr ? rateColumns(mfr.result, runner.l2FrameSize, runner.lineRateFps) : { tx_rate_fps: 0, throughput_rx_fps: 0, frame_loss_percent: 100 }),
      forwarding_rate_fps: mfr ? round(mfr.result.rxFps) : 0,
      ...searchColumns(runner.trials.slice(from), notes.join('; ')),
    };
  });
};

export const caching: Methodology = async (ctx) => {
  const minA = int(ctx.settings, 'TRAFFICGEN_RFC2889_MIN_ADDRS', 1000, 1);
  const maxA = int(ctx.settings, 'TRAFFICGEN_RFC2889_MAX_ADDRS', 65536, 1);
  const lr = num(ctx.settings, 'TRAFFICGEN_RFC2889_AC_LR', 1000, 1e-3);
  return perSizeRepetitions(ctx, { learn: false }, async (runner, size, from) => {
    const rate = Math.min(lr, runner.maxRateFps);
    const l2Probe = l2Prober();
    const r = await runner.drive(
      new ProbeSearch({
        min: Math.min(minA, maxA),
        max: maxA,
        resolution: 1,
        integer: true,
        lossRatePct: runner.options.lossRatePct,
        probe: (n) => l2Probe(n, rate, rate),
      }),
    );
    const first = r.firstTest?.result;
    return {
      packet_size: size,
      caching_capacity_addrs: r.value ?? 0,
      addr_learned_percent: first ? round(100 - first.lossPct, 6) : 0,
      tx_rate_fps: round(rate),
      tx_rate_mbps: round(fpsToMbps(rate, runner.l2FrameSize)),
      ...searchColumns(runner.trials.slice(from), probeStatus(r)),
    };
  });
};

export const learning: Methodology = async (ctx) => {
  const minLr = num(ctx.settings, 'TRAFFICGEN_RFC2889_MIN_LR', 1488, 1e-3);
  const maxLr = num(ctx.settings, 'TRAFFICGEN_RFC2889_MAX_LR', 14880, 1e-3);
  const addrs = int(ctx.settings, 'TRAFFICGEN_RFC2889_LR_ADDRS', 1000, 1);
  const precision = num(ctx.settings, 'TRAFFICGEN_RFC2889_LR_PRECISION_FPS', 10, 1e-3);
  const testRate = num(ctx.settings, 'TRAFFICGEN_RFC2889_AC_LR', 1000, 1e-3);
  return perSizeRepetitions(ctx, { learn: false }, async (runner, size, from) => {
    const hi = Math.min(maxLr, runner.maxRateFps);
    const l2Probe = l2Prober();
    const r = await runner.drive(
      new ProbeSearch({
        min: Math.min(minLr, hi),
        max: hi,
        resolution: precision,
        integer: false,
        lossRatePct: runner.options.lossRatePct,
        probe: (rate) => l2Probe(addrs, rate, Math.min(testRate, runner.maxRateFps)),
      }),
    );
    return {
      packet_size: size,
      optimal_learning_rate_fps: r.value !== undefined ? round(r.value) : 0,
      ...searchColumns(
        runner.trials.slice(from),
        `${probeStatus(r)}${hi < maxLr ? `; max learning rate capped at the generator maximum ${Math.round(hi)} fps` : ''}`,
      ),
    };
  });
};
