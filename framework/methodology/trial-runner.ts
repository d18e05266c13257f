import { checkCounters, isSwitchCounters } from './counter-check.js';
import { performance } from 'node:perf_hooks';
import type { TrialHooks, TrialSpec, TrialResult } from '../api/trafficgen.js';
import { imixAverage, lineRateFps, tunnelOverheadBytes } from '../api/trafficgen.js';
import { AbortedError } from '../errors.js';
import type { MethodologyContext, TrialRecord } from './context.js';
import { commonOptions, type CommonOptions } from './options.js';
import { trafficFromSettings } from './traffic-spec.js';
import { trialVerdict, validityThresholds, type ValidityThresholds } from '../fidelity/verdict.js';
import { withGeneratorBusy } from '../fidelity/conditions.js';
import { BACKOFF_MAX_STEPS, backoffRequest, ceilingOf, exhaustedNote } from './backoff.js';
import { isDone, type Search, type TrialOutcome, type TrialRequest } from './types.js';

/** Tx rate shortfall (fraction of the offered rate) beyond which a trial is generator-limited. */
export const TX_SHORTFALL_TOLERANCE = 0.01;

/** Why a trial says nothing about the DUT, or undefined when it is valid. */
export function invalidReason(req: TrialRequest, r: TrialResult): string | undefined {
  if (r.txFrames <= 0) return 'generator sent no frames';
  if (r.generatorLimited) return `generator-limited: sent ${Math.round(r.achievedTxFps)} of ${Math.round(req.rateFps)} fps offered`;
  if (req.frames === undefined && r.achievedTxFps < req.rateFps * (1 - TX_SHORTFALL_TOLERANCE)) {
    return `generator-limited: achieved tx ${Math.round(r.achievedTxFps)} fps is more than ${TX_SHORTFALL_TOLERANCE * 100} % below the ${Math.round(req.rateFps)} fps offered`;
  }
  return undefined;
}

/**
 * Owns time and I/O for one frame size: turns a search's TrialRequest into a TrialSpec, runs it on the
 * generator with the topology's before/after hooks, classifies validity (a generator-limited trial is
 * retried, then returned invalid: never counted as DUT loss), records every trial with its wall time,
 * and announces it on the run events.
 */
export class TrialRunner {
  readonly trials: TrialRecord[] = [];
  /** Port speed based line rate at this frame size (plus a decapsulation stream's outer headers), per direction (fps). */
  readonly lineRateFps: number;
  /** Mean L2 frame size (bytes incl. FCS): the frame size, or the IMIX genome's average. */
  readonly l2FrameSize: number;
  readonly options: CommonOptions;
  private readonly thresholds: ValidityThresholds;

  constructor(
    private readonly ctx: MethodologyContext,
    readonly frameSize: number,
    private readonly counter: { next: number } = { next: 0 },
  ) {
    const speed = ctx.ports[0]?.speedMbps ?? ctx.settings.number('TRAFFICGEN_PORT_SPEED_MBPS');
    const stream = trafficFromSettings(ctx.settings, frameSize, { unit: 'fps', value: 0 }).stream;
    this.l2FrameSize = stream.imixGenome ? imixAverage(stream.imixGenome) : frameSize;
    // A decapsulation generator's port carries the outer headers too: its line rate is at that size.
    this.lineRateFps = lineRateFps(speed, this.l2FrameSize + tunnelOverheadBytes(stream));
    this.options = commonOptions(ctx.settings);
    this.thresholds = validityThresholds(ctx.settings);
  }

  /**
   * Highest rate a search may offer: line rate, capped by the generator's declared maximum
   * (capabilities().maxRateFps, per direction; treated as a frame-rate limit at every frame size).
   */
  get maxRateFps(): number {
    const cap = this.ctx.generator.capabilities().maxRateFps;
    return cap !== undefined && cap > 0 ? Math.min(this.lineRateFps, cap) : this.lineRateFps;
  }

  /** True when the generator, not the port, limits the rate (the search reports it). */
  get generatorCapped(): boolean {
    return this.maxRateFps < this.lineRateFps;
  }

  get latencyCapable(): boolean {
    return this.ctx.generator.capabilities().latency;
  }

  spec(req: TrialRequest): TrialSpec {
    const base = trafficFromSettings(this.ctx.settings, this.frameSize, { unit: 'fps', value: req.rateFps });
    const stream =
      req.multistream !== undefined || req.streamType !== undefined || req.l2 !== undefined
        ? {
            ...base.stream,
            ...(req.multistream !== undefined ? { multistream: req.multistream } : {}),
            ...(req.streamType !== undefined ? { streamType: req.streamType } : {}),
            ...(req.l2 !== undefined ? { l2: { srcMac: req.l2.srcMac, dstMac: req.l2.dstMac } } : {}),
          }
        : base.stream;
    const learningS = req.learningS ?? this.options.trialLearningS;
    return {
      ...base,
      stream,
      latency: (req.latency ?? true) && this.latencyCapable,
      ...(req.frames !== undefined ? { frames: req.frames } : { durationS: req.durationS ?? this.options.durationS }),
      ...(learningS > 0 ? { learningS } : {}),
    };
  }

  /** Run one trial; a generator-limited trial is retried TRAFFICGEN_INVALID_TRIAL_RETRIES times. */
  async measure(req: TrialRequest): Promise<TrialOutcome> {
    let outcome = await this.once(req);
    for (let i = 0; i < this.options.invalidRetries && !outcome.valid; i++) {
      this.ctx.log.warn(`trial at ${Math.round(req.rateFps)} fps is invalid (${outcome.invalidReason}); retrying (${i + 1}/${this.options.invalidRetries})`);
      outcome = await this.once({ ...req, purpose: `${req.purpose ?? 'trial'} (retry)` });
    }
    return outcome;
  }

  private async once(req: TrialRequest): Promise<TrialOutcome> {
    if (this.ctx.signal.aborted) throw new AbortedError('run aborted');
    const index = this.counter.next++;
    const startedAt = new Date().toISOString();
    const t0 = performance.now();
    this.ctx.events.emit('trial:start', { testcase: this.ctx.testcase, frameSize: this.frameSize, request: req, index });
    await this.ctx.topology?.beforeTrial?.();
    const endConditions = this.ctx.conditions?.start();
    let result: TrialResult;
    // The switch's counters are read at the trial's end while the generator still holds its ports: a
    // vhost-user switch port forgets its counters when the generator's end disconnects. One read per
    // trial: the hook's promise is kept, a second call (or the runner's own read) gets the same one.
    const topology = this.ctx.topology;
    const hook: { read?: Promise<Record<string, unknown>> } = {};
    const readCounters = (): Promise<Record<string, unknown>> => (hook.read ??= topology!.afterTrial!());
    const hooks: TrialHooks | undefined = topology?.afterTrial
      ? {
          beforeRelease: async () => {
            await readCounters();
          },
        }
      : undefined;
    try {
      result = await this.ctx.generator.runTrial(
        this.spec(req),
        this.ctx.signal,
        (counters) => this.ctx.events.emit('trial:progress', { testcase: this.ctx.testcase, counters, request: req }),
        hooks,
      );
    } catch (e) {
      endConditions?.(); // stops the sampler of a trial that failed
      // A read the generator started (and gave up on: abort, its time bound) ends before teardown may begin.
      await hook.read?.catch(() => undefined);
      throw e;
    }
    const conditions = withGeneratorBusy(endConditions?.(), result);
    // The hook's read when the generator called it (its error surfaces here too, should a generator have
    // swallowed it), else one read now (a generator with nothing to release need not call the hook).
    const switchCounters = topology?.afterTrial ? await readCounters() : undefined;
    // The generator's counts must agree with the switch's port counters; a disagreement is recorded and
    // logged (it points at kernel chatter, a wrong port map or a counting bug), not silently ignored.
    const counterCheck = isSwitchCounters(switchCounters) ? checkCounters(result, switchCounters) : undefined;
    if (counterCheck && !counterCheck.consistent) {
      const problems = counterCheck.directions
        .filter((d) => !d.consistent)
        .map((d) => d.problem)
        .join('; ');
      this.ctx.log.warn(`trial ${index + 1}: generator and switch counters disagree: ${problems}`);
    }
    const wallS = (performance.now() - t0) / 1000;
    const why = invalidReason(req, result);
    const outcome: TrialOutcome = why === undefined ? { request: req, result, valid: true } : { request: req, result, valid: false, invalidReason: why };
    const verdict = trialVerdict(
      {
        valid: outcome.valid,
        ...(why !== undefined ? { invalidReason: why } : {}),
        ...(counterCheck ? { countersConsistent: counterCheck.consistent } : {}),
        ...(conditions ? { conditions } : {}),
        pmdProcessingPct: pmdProcessing(switchCounters, result.durationS),
        ...(typeof result.info?.txFullDrops === 'number' ? { txFullDrops: result.info.txFullDrops, lostFrames: result.lostFrames } : {}),
      },
      this.thresholds,
    );
    this.trials.push({
      index,
      frameSize: this.frameSize,
      ...(req.purpose !== undefined ? { purpose: req.purpose } : {}),
      ...(req.goal !== undefined ? { goal: req.goal } : {}),
      rateFps: req.rateFps,
      ...(req.requestedFps !== undefined ? { requestedFps: req.requestedFps } : {}),
      ...(req.durationS !== undefined ? { durationS: req.durationS } : {}),
      ...(req.frames !== undefined ? { frames: req.frames } : {}),
      valid: outcome.valid,
      ...(outcome.invalidReason !== undefined ? { invalidReason: outcome.invalidReason } : {}),
      result,
      ...(switchCounters ? { switchCounters } : {}),
      ...(counterCheck ? { counterCheck } : {}),
      startedAt,
      wallS,
      validity: verdict.validity,
      validityReasons: verdict.reasons,
      validityDetails: verdict.details,
      ...(conditions ? { conditions } : {}),
    });
    this.ctx.events.emit('trial:end', { testcase: this.ctx.testcase, frameSize: this.frameSize, outcome, index });
    return outcome;
  }

  /**
   * VSPERF's learning run (TRex driver: TRAFFICGEN_TREX_LEARNING_MODE): traffic at 1 % of line rate for
   * TRAFFICGEN_TREX_LEARNING_DURATION seconds before the test, so the switch learns addresses/flows.
   * Recorded with purpose 'learning' and never used for a decision.
   */
  async learn(): Promise<void> {
    if (!this.options.learning || this.options.learningS <= 0) return;
    await this.once({ rateFps: Math.min(this.maxRateFps, 0.01 * this.lineRateFps), durationS: this.options.learningS, purpose: 'learning', latency: false });
  }

  /**
   * Like measure(), but a trial that stays generator-limited is answered by backing off (backoff.ts) until
   * a valid trial decides; that outcome carries `backoff`. When every step is limited too, the last
   * invalid outcome is returned with `backoffExhausted`.
   */
  async measureBackingOff(req: TrialRequest): Promise<TrialOutcome> {
    const first = await this.measure(req);
    if (first.valid) return first;
    let last = first;
    for (let step = 1; step <= BACKOFF_MAX_STEPS; step++) {
      const r = backoffRequest(req, first, step);
      if (!(r.rateFps >= 1)) break;
      this.ctx.log.warn(`trial at ${Math.round(req.rateFps)} fps is generator-limited (${first.invalidReason}); backing off to ${Math.round(r.rateFps)} fps`);
      last = await this.once(r);
      if (last.valid) {
        const backoff = {
          requestedFps: req.rateFps,
          achievedFps: first.result.achievedTxFps,
          ceilingFps: ceilingOf(first),
          rateFps: r.rateFps,
          steps: step,
          reason: first.invalidReason ?? 'invalid',
        };
        return { ...last, backoff };
      }
    }
    return { ...last, backoffExhausted: exhaustedNote(req, last) };
  }

  /** Drive a search to its end; the search records the trial actually run (a back-off runs a lower rate). */
  async drive<R>(search: Search<R>): Promise<R> {
    for (let step = search.next(); ; step = search.next()) {
      if (isDone(step)) return step.result;
      const out = await this.measureBackingOff(step);
      search.record(out.request, out);
    }
  }

  /** Sum of the traffic durations of the recorded trials (s), learning runs included. */
  trialTimeS(from = 0): number {
    return this.trials.slice(from).reduce((a, t) => a + (t.durationS ?? t.result.durationS), 0);
  }
}

/**
 * Processing cycles % of each OVS PMD thread while the traffic ran, from the switch counters' PMD stats
 * (empty without). OVS's share covers the whole window between clearing and reading the stats (pmdWindowS),
 * which also holds the generator's start (a vhost-user reconnect: seconds) and drain: scaled to the traffic's
 * durationS, as nearly all processing happens then. Capped at 100.
 */
export function pmdProcessing(sw: unknown, trafficS?: number): number[] {
  const extra = isSwitchCounters(sw) ? sw.extra : undefined;
  const pmd = extra?.pmd;
  if (!Array.isArray(pmd)) return [];
  const windowS = Number(extra?.pmdWindowS);
  const scale = trafficS && trafficS > 0 && Number.isFinite(windowS) && windowS > trafficS ? windowS / trafficS : 1;
  const threads = pmd as Array<{ thread?: unknown; processingPct?: unknown }>;
  return threads
    .filter((p) => String(p.thread).startsWith('pmd'))
    .map((p) => Number(p.processingPct))
    .filter((x) => Number.isFinite(x))
    .map((x) => Math.min(100, Math.round(x * scale * 100) / 100));
}
