import type { TrialSpec, TrialResult } from '../../trafficgen/types.js';
import { lineRateFps } from '../../trafficgen/types.js';
import { AbortedError } from '../errors.js';
import type { MethodologyContext, TrialRecord } from './context.js';
import { trafficFromSettings } from './traffic-spec.js';
import { isDone, type Search, type TrialOutcome, type TrialRequest } from './types.js';

/**
 * Owns time and I/O for one frame size: turns a search's TrialRequest into a TrialSpec, runs it on the
 * generator with the topology's before/after hooks, classifies validity, records and announces it.
 */
export class TrialRunner {
  readonly trials: TrialRecord[] = [];
  /** Port speed based line rate at this frame size, per direction (fps). */
  readonly lineRateFps: number;

  constructor(
    private readonly ctx: MethodologyContext,
    readonly frameSize: number,
    private readonly counter: { next: number } = { next: 0 },
  ) {
    const speed = ctx.ports[0]?.speedMbps ?? ctx.settings.number('TRAFFICGEN_PORT_SPEED_MBPS');
    this.lineRateFps = lineRateFps(speed, frameSize);
  }

  /** Highest rate a search should offer: line rate, capped by what the generator says it can send. */
  get maxRateFps(): number {
    const cap = this.ctx.generator.capabilities().maxRateFps;
    return cap !== undefined ? Math.min(this.lineRateFps, cap * (64 + 20) / (this.frameSize + 20)) : this.lineRateFps;
  }

  spec(req: TrialRequest): TrialSpec {
    const base = trafficFromSettings(this.ctx.settings, this.frameSize, { unit: 'fps', value: req.rateFps });
    return {
      ...base,
      ...(req.frames !== undefined ? { frames: req.frames } : { durationS: req.durationS ?? this.ctx.settings.number('TRAFFICGEN_DURATION') }),
    };
  }

  async measure(req: TrialRequest): Promise<TrialOutcome> {
    if (this.ctx.signal.aborted) throw new AbortedError('run aborted');
    const index = this.counter.next++;
    const startedAt = new Date().toISOString();
    this.ctx.events.emit('trial:start', { testcase: this.ctx.testcase, frameSize: this.frameSize, request: req, index });
    await this.ctx.topology?.beforeTrial?.();
    const result: TrialResult = await this.ctx.generator.runTrial(this.spec(req), this.ctx.signal, (counters) =>
      this.ctx.events.emit('trial:progress', { testcase: this.ctx.testcase, counters, request: req }),
    );
    const switchCounters = await this.ctx.topology?.afterTrial?.();
    const outcome: TrialOutcome = result.generatorLimited
      ? {
          request: req,
          result,
          valid: false,
          invalidReason: `generator-limited: sent ${Math.round(result.achievedTxFps)} of ${Math.round(req.rateFps)} fps offered`,
        }
      : { request: req, result, valid: true };
    this.trials.push({
      index,
      frameSize: this.frameSize,
      ...(req.purpose !== undefined ? { purpose: req.purpose } : {}),
      rateFps: req.rateFps,
      ...(req.durationS !== undefined ? { durationS: req.durationS } : {}),
      ...(req.frames !== undefined ? { frames: req.frames } : {}),
      valid: outcome.valid,
      ...(outcome.invalidReason !== undefined ? { invalidReason: outcome.invalidReason } : {}),
      result,
      ...(switchCounters ? { switchCounters } : {}),
      startedAt,
    });
    this.ctx.events.emit('trial:end', { testcase: this.ctx.testcase, frameSize: this.frameSize, outcome, index });
    return outcome;
  }

  /** Drive a search to its end. */
  async drive<R>(search: Search<R>): Promise<R> {
    for (let step = search.next(); ; step = search.next()) {
      if (isDone(step)) return step.result;
      search.record(step, await this.measure(step));
    }
  }
}
