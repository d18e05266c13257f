/**
 * Typed reading of the methodology settings. Every value is checked here once; a bad value raises a
 * ConfigError naming the key and the file/flag it came from. Keys and their defaults are documented in
 * conf/schema/methodology.schema.json and set in conf/03_traffic.json / conf/03_traffic_methodology.json.
 */
import type { Json, Settings } from '../config/settings.js';
import { ConfigError } from '../errors.js';
import { truthy } from './traffic-spec.js';

export function num(settings: Settings, key: string, fallback: number, min = -Infinity, max = Infinity): number {
  const v = settings.getOr<Json>(key, fallback);
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) {
    throw new ConfigError(key, settings.source(key), `must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return n;
}

export function int(settings: Settings, key: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = num(settings, key, fallback, min, max);
  if (!Number.isInteger(n)) throw new ConfigError(key, settings.source(key), `must be an integer, got ${n}`);
  return n;
}

export function bool(settings: Settings, key: string, fallback: boolean): boolean {
  const v = settings.getOr<Json>(key, fallback);
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|yes|1|false|no|0)$/i.test(v)) return truthy(v);
  if (typeof v === 'number' && (v === 0 || v === 1)) return v === 1;
  throw new ConfigError(key, settings.source(key), `must be a boolean, got ${JSON.stringify(v)}`);
}

/** Numbers from a number or a list of numbers. */
export function numList(settings: Settings, key: string, fallback: number[], min = 0, max = Infinity): number[] {
  const v = settings.getOr<Json>(key, fallback);
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) throw new ConfigError(key, settings.source(key), 'must not be empty');
  return list.map((x) => {
    const n = typeof x === 'string' && x.trim() !== '' ? Number(x) : x;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) {
      throw new ConfigError(key, settings.source(key), `entries must be numbers in [${min}, ${max}], got ${JSON.stringify(x)}`);
    }
    return n;
  });
}

/** The settings every methodology shares (VSPERF names). */
export interface CommonOptions {
  /** TRAFFICGEN_DURATION (s). */
  readonly durationS: number;
  /** TRAFFICGEN_LOSSRATE (%). */
  readonly lossRatePct: number;
  /** TRAFFICGEN_RFC2544_TESTS. */
  readonly tests: number;
  /** TRAFFIC.frame_rate (% of line rate). */
  readonly frameRatePct: number;
  /** TRAFFICGEN_TREX_LEARNING_MODE and TRAFFIC.learning_frames: one learning run per frame size. */
  readonly learning: boolean;
  /** TRAFFICGEN_TREX_LEARNING_DURATION (s). */
  readonly learningS: number;
  /** TRAFFICGEN_TRIAL_LEARNING_DURATION (s): learning phase before every trial. */
  readonly trialLearningS: number;
  /** TRAFFICGEN_INVALID_TRIAL_RETRIES. */
  readonly invalidRetries: number;
}

export function commonOptions(s: Settings): CommonOptions {
  return {
    durationS: num(s, 'TRAFFICGEN_DURATION', 30, 1e-3),
    lossRatePct: num(s, 'TRAFFICGEN_LOSSRATE', 0, 0, 100),
    tests: int(s, 'TRAFFICGEN_RFC2544_TESTS', 1, 1, 10_000),
    frameRatePct: num(s, 'TRAFFIC.frame_rate', 100, 1e-6, 100),
    learning: bool(s, 'TRAFFICGEN_TREX_LEARNING_MODE', false) && bool(s, 'TRAFFIC.learning_frames', true),
    learningS: num(s, 'TRAFFICGEN_TREX_LEARNING_DURATION', 5, 0),
    trialLearningS: num(s, 'TRAFFICGEN_TRIAL_LEARNING_DURATION', 0, 0),
    invalidRetries: int(s, 'TRAFFICGEN_INVALID_TRIAL_RETRIES', 1, 0, 100),
  };
}

/** VSPERF's RFC 2544 binary search knobs (TRex driver names, applied to every generator here). */
export interface BinarySearchOptions {
  readonly thresholdPct: number;
  readonly lossVerification: boolean;
  readonly maxRepeat: number;
  readonly verification: boolean;
  readonly verificationS: number;
  readonly maxVerificationTrials: number;
}

export function binarySearchOptions(s: Settings): BinarySearchOptions {
  return {
    thresholdPct: num(s, 'TRAFFICGEN_TREX_RFC2544_TPUT_THRESHOLD', 0.05, 1e-6, 100),
    lossVerification: bool(s, 'TRAFFICGEN_TREX_RFC2544_BINARY_SEARCH_LOSS_VERIFICATION', false),
    maxRepeat: int(s, 'TRAFFICGEN_TREX_RFC2544_MAX_REPEAT', 0, 0, 1000),
    verification: bool(s, 'TRAFFICGEN_TREX_VERIFICATION_MODE', false),
    verificationS: num(s, 'TRAFFICGEN_TREX_VERIFICATION_DURATION', 60, 1e-3),
    maxVerificationTrials: int(s, 'TRAFFICGEN_TREX_MAXIMUM_VERIFICATION_TRIALS', 10, 1, 1000),
  };
}
