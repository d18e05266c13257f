import type { Settings } from '../config/settings.js';
import type { Logger } from '../log/logger.js';
import type { RunEvents } from '../runner/events.js';
import type { TrafficGenerator, PortSpec, TrialResult } from '../api/trafficgen.js';
import type { Topology } from '../api/deployment.js';
import type { CounterCheck } from './counter-check.js';
import type { ResultRow, TrialOutcome } from './types.js';
import type { ConditionsProbe, TrialConditions } from '../fidelity/conditions.js';
import type { Validity } from '../fidelity/verdict.js';

/** One trial as kept in results.json. */
export interface TrialRecord {
  readonly index: number;
  readonly frameSize: number;
  readonly purpose?: string;
  /** Search goal(s) that asked for this trial (NDR/PDR search). */
  readonly goal?: string;
  /** Offered rate per direction (fps). */
  readonly rateFps: number;
  /** The rate the testcase asked for when the generator's maximum capped it to rateFps (fps). */
  readonly requestedFps?: number;
  readonly durationS?: number;
  readonly frames?: number;
  readonly valid: boolean;
  readonly invalidReason?: string;
  readonly result: TrialResult;
  readonly switchCounters?: Record<string, unknown>;
  /** Generator counts checked against the switch's port counters, per direction. */
  readonly counterCheck?: CounterCheck;
  readonly startedAt: string;
  /** Wall time of the trial as the runner measured it (s): learning, traffic, drain and hooks. */
  readonly wallS?: number;
  /** Verdict from what was measured during the trial (framework/fidelity/verdict.ts). */
  readonly validity?: Validity;
  readonly validityReasons?: readonly string[];
  /** The measured figure behind each reason, against its threshold. */
  readonly validityDetails?: readonly string[];
  /** Host conditions measured during the trial (absent for simulated trials). */
  readonly conditions?: TrialConditions;
}

export interface MethodologyContext {
  readonly testcase: string;
  /** Settings resolved for this testcase (TRAFFIC, TRAFFICGEN_*, …). */
  readonly settings: Settings;
  readonly generator: TrafficGenerator;
  readonly ports: readonly PortSpec[];
  readonly topology?: Topology;
  readonly log: Logger;
  readonly signal: AbortSignal;
  readonly events: RunEvents;
  /** Measures the host's conditions around each trial (absent: simulated figures, nothing to measure). */
  readonly conditions?: ConditionsProbe;
}

export interface MethodologyOutput {
  readonly rows: ResultRow[];
  readonly trials: TrialRecord[];
  /** Anything else worth keeping in results.json (search goals, migration timelines…). */
  readonly details?: Record<string, unknown>;
}

export type Methodology = (ctx: MethodologyContext) => Promise<MethodologyOutput>;

export type { TrialOutcome };
