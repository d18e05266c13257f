/**
 * The checks every generator makes before it sends: a malformed spec is the caller's mistake (E_USAGE),
 * a well-formed one asking for an undeclared feature is refused (E_CAPABILITY) instead of being
 * silently sent some other way. Drivers call it first thing in runTrial/startContinuous; the
 * conformance kit holds them to it.
 */
import { CapabilityError, UsageError } from '../errors.js';
import { IMIX_SIZES, type GeneratorCaps, type TrafficSpec, type TrialSpec } from './trafficgen.js';

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function malformed(driver: string, what: string): UsageError {
  return new UsageError(`${driver}: bad trial spec: ${what}`);
}

function checkShape(driver: string, spec: TrafficSpec): void {
  const { rate, stream } = spec;
  if (!rate || (rate.unit !== 'fps' && rate.unit !== 'pct')) throw malformed(driver, `rate unit must be 'fps' or 'pct'`);
  if (!finite(rate.value) || rate.value < 0) throw malformed(driver, `rate must be a finite number ≥ 0, got ${rate.value}`);
  if (stream.imixGenome !== undefined) {
    const bad = [...stream.imixGenome].find((c) => IMIX_SIZES[c] === undefined);
    if (!stream.imixGenome.length || bad !== undefined)
      throw malformed(driver, `IMIX genome "${stream.imixGenome}" (letters ${Object.keys(IMIX_SIZES).join('')})`);
  } else if (!Number.isInteger(stream.frameSize) || stream.frameSize < 64) {
    throw malformed(driver, `frame size must be an integer ≥ 64 bytes, got ${stream.frameSize}`);
  }
  if (!Number.isInteger(stream.multistream) || stream.multistream < 0) throw malformed(driver, `multistream must be an integer ≥ 0, got ${stream.multistream}`);
}

function checkLength(driver: string, spec: TrialSpec): void {
  if ((spec.durationS === undefined) === (spec.frames === undefined)) throw malformed(driver, 'exactly one of durationS and frames must be set');
  if (spec.durationS !== undefined && (!finite(spec.durationS) || spec.durationS <= 0)) throw malformed(driver, `durationS must be > 0, got ${spec.durationS}`);
  if (spec.frames !== undefined && (!Number.isInteger(spec.frames) || spec.frames <= 0))
    throw malformed(driver, `frames must be an integer > 0, got ${spec.frames}`);
  for (const k of ['learningS', 'drainS'] as const) {
    const v = spec[k];
    if (v !== undefined && (!finite(v) || v < 0)) throw malformed(driver, `${k} must be ≥ 0, got ${v}`);
  }
}

function checkCapabilities(driver: string, caps: GeneratorCaps, spec: TrafficSpec): void {
  const { stream } = spec;
  if (spec.bidir && !caps.bidir) throw new CapabilityError(driver, 'bidirectional traffic');
  if (spec.latency && !caps.latency) throw new CapabilityError(driver, 'latency measurement');
  if (stream.imixGenome !== undefined && !caps.imix) throw new CapabilityError(driver, 'IMIX');
  if (stream.vlan.enabled && !caps.vlan) throw new CapabilityError(driver, 'VLAN tags');
  if (stream.l3.enabled && stream.l3.version === 6 && !caps.ipv6) throw new CapabilityError(driver, 'IPv6');
  if (stream.tunnel && !(caps.tunnels ?? []).includes(stream.tunnel.type))
    throw new CapabilityError(driver, `${stream.tunnel.type} tunnels (TUNNEL_TYPE)`, `it can do ${caps.tunnels?.length ? caps.tunnels.join(', ') : 'none'}`);
  const largest = stream.imixGenome !== undefined ? Math.max(...[...stream.imixGenome].map((c) => IMIX_SIZES[c]!)) : stream.frameSize;
  if (largest > caps.maxFrameSize) throw new CapabilityError(driver, `${largest}-byte frames`, `at most ${caps.maxFrameSize}`);
}

/** Throws UsageError (E_USAGE) for a malformed trial, CapabilityError (E_CAPABILITY) for an undeclared feature. */
export function checkTrialSpec(driver: string, caps: GeneratorCaps, spec: TrialSpec): void {
  checkShape(driver, spec);
  checkLength(driver, spec);
  checkCapabilities(driver, caps, spec);
}

/** The same for continuous traffic (no length). */
export function checkTrafficSpec(driver: string, caps: GeneratorCaps, spec: TrafficSpec): void {
  checkShape(driver, spec);
  checkCapabilities(driver, caps, spec);
}
