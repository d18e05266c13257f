/**
 * results.json: one self-describing document per run (NFVbench-style envelope). Reports, the
 * regression gate, the archive and exporters read this and nothing else.
 */
import type { ResultRow } from '../methodology/types.js';
import type { TrialRecord } from '../methodology/context.js';
import type { JsonObject } from '../config/settings.js';
import type { HostCheck } from '../fidelity/host-checks.js';

export interface TestcaseResult {
  readonly index: number;
  readonly name: string;
  readonly deployment: string;
  readonly description: string;
  readonly trafficType: string;
  readonly status: 'passed' | 'failed';
  readonly error?: { code: string; message: string };
  readonly startTime: string;
  readonly stopTime: string;
  readonly wallS: number;
  /** Rows as written to result_<i>_<testcase>_<deployment>.csv. */
  readonly rows: ResultRow[];
  /** Every trial, in order. */
  readonly trials: TrialRecord[];
  /** Settings as resolved for this testcase. */
  readonly settings: JsonObject;
  /** Deployment facts (vswitch, version, flows, guests…). */
  readonly facts: Record<string, unknown>;
  readonly details?: Record<string, unknown>;
  /** True when any figure came from the Simulated generator. */
  readonly simulated: boolean;
  /** Relative path of the CSV file. */
  readonly csv?: string;
}

export interface RunResults {
  readonly schema: 'vsperf-ts/results/v1';
  readonly tool: { name: 'vsperf-ts'; version: string };
  readonly runId: string;
  readonly startTime: string;
  readonly stopTime?: string;
  readonly argv: readonly string[];
  readonly host: { hostname: string; kernel: string; cpus: number; cpuModel: string; memGiB: number; node: string };
  /** `vsperf --check-host` at the start of the run (steal measured over the whole run). */
  readonly host_checks?: HostCheck[];
  readonly versions: Record<string, string>;
  readonly status: 'passed' | 'failed' | 'aborted' | 'running';
  readonly testcases: TestcaseResult[];
}
