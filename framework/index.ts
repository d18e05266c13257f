/**
 * vsperf-ts public API: what a vendor's driver package builds on.
 *
 *   import type { RegistryApi, TrafficGenerator } from 'vsperf-ts';
 *   export function register(registry: RegistryApi) {
 *     registry.add({ kind: 'trafficgen', name: 'AcmeGen', summary: 'Acme hardware generator',
 *                    create: async (ctx) => new AcmeGen(ctx.settings, ctx.log) });
 *   }
 */
export type {
  TrafficGenerator, TrialSpec, TrialResult, TrafficSpec, StreamSpec, PortSpec, Rate, GeneratorCaps,
  LatencyStats, FlowCounters, DirectionResult, LiveCounters, ContinuousRun,
} from '../trafficgen/types.js';
export { lineRateFps, rateToFps, imixAverage } from '../trafficgen/types.js';
export type { VSwitch, Deployment, DeploymentFactory, Topology, PhyPort, SwitchPort, PortStats, FlowSpec } from '../deployments/types.js';
export type { Vnf, LoopbackApp } from '../vnfs/types.js';
export type { SwitchCounters } from '../deployments/types.js';
export { checkCounters, type CounterCheck } from '../deployments/counters.js';
export type { DriverFactory, DriverKind, DriverContext, RegistryApi, PluginRegister, LoadGenerator, FwdApp } from './registry/types.js';
export { Registry } from './registry/registry.js';
export { Settings } from './config/settings.js';
export type { Json, JsonObject } from './config/settings.js';
export type { Logger } from './log/logger.js';
export { createLogger, silentLogger } from './log/logger.js';
export { Host } from './host/host.js';
export { CleanupStack } from './runner/cleanup-stack.js';
export { exec } from './host/exec.js';
export {
  VsperfError, UsageError, ConfigError, ParseError, PluginError, CapabilityError, DriverError, EnvironmentError,
  ProcessError, TimeoutError, AbortedError,
} from './errors.js';
export type { Search, TrialRequest, TrialOutcome, ResultRow } from './methodology/types.js';
export type { Methodology, MethodologyContext, MethodologyOutput } from './methodology/context.js';
export { RESULT_COLUMNS, VSPERF_COLUMNS } from './results/columns.js';
export type { RunResults, TestcaseResult } from './results/types.js';
