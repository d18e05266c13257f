/**
 * Numbers the schema's types accept but no benchmark can mean: TRAFFICGEN_DURATION=1e308 is a valid
 * JSON number and a finite double, and a run with it would print "~Infinity s" and never end. These
 * rules bound every number in the resolved settings by what its name says it is, so they cover
 * settings a plugin adds too: seconds (…DURATION…, …_S) at most a week, offered rates (…_FPS, the
 * RFC 2889 …_LR rates) at most the line rate of the fastest configured port, frame counts at most a
 * week at that rate, port speeds at most 1.6 Tbit/s, repetition counts at most a million, and any
 * number at most 2^53 − 1 (past it integers are no longer exact).
 */
import { isPlainObject, type Json, type JsonObject } from './settings.js';

export const WEEK_S = 7 * 24 * 3600;
export const MAX_PORT_MBPS = 1_600_000;
export const MAX_REPEATS = 1_000_000;
/** Bytes on the wire per minimum frame: 64 B frame + 8 B preamble + 12 B inter-frame gap. */
const MIN_WIRE_BYTES = 84;

export interface Implausible {
  /** Dotted setting path (`TRAFFIC.burst_size`, `TRAFFICGEN_PORTS.0.speedMbps`). */
  readonly key: string;
  readonly message: string;
}

type Kind = { unit: string; max: number; what: string };

/** Line rate (fps) of the fastest port the settings configure, at the minimum frame size. */
export function maxLineRateFps(values: JsonObject): number {
  const speeds = [values.TRAFFICGEN_PORT_SPEED_MBPS, values.SANDBOX_PORT_SPEED_MBPS];
  if (Array.isArray(values.TRAFFICGEN_PORTS)) for (const p of values.TRAFFICGEN_PORTS) if (isPlainObject(p)) speeds.push(p.speedMbps);
  const mbps = Math.max(10_000, ...speeds.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).map((x) => Math.min(x, MAX_PORT_MBPS)));
  return (mbps * 1e6) / (MIN_WIRE_BYTES * 8);
}

function kindOf(path: readonly string[], lineRate: number): Kind | undefined {
  const name = [...path].reverse().find((p) => !/^\d+$/.test(p)) ?? '';
  const model = path[0] === 'SIMULATED_DUT'; // the simulated DUT's own figures are not offered load
  if (/MBPS$/i.test(name)) return { unit: 'Mbit/s', max: MAX_PORT_MBPS, what: 'a port speed' };
  if (/DURATION/i.test(name) || /_S$/i.test(name)) return { unit: 's', max: WEEK_S, what: 'one week' };
  if (/_MS$/i.test(name)) return { unit: 'ms', max: WEEK_S * 1e3, what: 'one week' };
  if (/_US$/i.test(name)) return { unit: 'µs', max: WEEK_S * 1e6, what: 'one week' };
  if (!model && (/_FPS$/i.test(name) || /(^|_)(AC|MIN|MAX)_LR$/.test(name)))
    return { unit: 'fps', max: lineRate, what: 'the line rate of the fastest port at 64 B' };
  if (/(^|_)FRAMES$/i.test(name) || name === 'burst_size') return { unit: 'frames', max: Math.floor(lineRate * WEEK_S), what: 'one week at line rate' };
  if (/(_TESTS|_TRIALS|_REPEAT|_STEPS|_RETRIES)$/i.test(name) || name === 'max_trials') return { unit: '', max: MAX_REPEATS, what: 'a million repetitions' };
  return undefined;
}

function* numbers(v: Json, path: string[]): Generator<[string[], number]> {
  if (typeof v === 'number') yield [path, v];
  else if (Array.isArray(v)) for (const [i, x] of v.entries()) yield* numbers(x, [...path, String(i)]);
  else if (isPlainObject(v)) for (const [k, x] of Object.entries(v)) yield* numbers(x, [...path, k]);
}

/** The first implausible number in resolved settings, or undefined. TESTCASES is checked per testcase, once resolved. */
export function findImplausible(values: JsonObject): Implausible | undefined {
  const lineRate = maxLineRateFps(values);
  for (const [top, v] of Object.entries(values)) {
    if (top === 'TESTCASES' || top === 'TEST_PARAMS') continue;
    for (const [path, n] of numbers(v, [top])) {
      const key = path.join('.');
      const kind = kindOf(path, lineRate);
      if (kind && !(n <= kind.max)) {
        const unit = kind.unit ? ' ' + kind.unit : '';
        return { key, message: `${n}${unit} is not plausible (at most ${Math.floor(kind.max)}${unit}: ${kind.what})` };
      }
      if (!Number.isFinite(n) || Math.abs(n) > Number.MAX_SAFE_INTEGER)
        return { key, message: `${n} is out of range (at most ${Number.MAX_SAFE_INTEGER} in magnitude)` };
    }
  }
  return undefined;
}
