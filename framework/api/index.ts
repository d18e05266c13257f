/**
 * vsperf-ts public API: what a vendor's driver package builds on, and what `import … from 'vsperf-ts'`
 * gives. Semantic versioning applies to this surface only (see docs/writing-a-driver.md).
 *
 *   import type { RegistryApi, TrafficGenerator } from 'vsperf-ts';
 *   export function register(registry: RegistryApi) {
 *     registry.add({ kind: 'trafficgen', name: 'AcmeGen', summary: 'Acme hardware generator',
 *                    create: async (ctx) => new AcmeGen(ctx.settings, ctx.log) });
 *   }
 */
export type {
  TrafficGenerator,
  TrialSpec,
  TrialResult,
  TrafficSpec,
  StreamSpec,
  PortSpec,
  Rate,
  GeneratorCaps,
  LatencyStats,
  FlowCounters,
  DirectionResult,
  LiveCounters,
  ContinuousRun,
  ReceiverTimeline,
  TrialHooks,
} from './trafficgen.js';
export { lineRateFps, rateToFps, imixAverage, IMIX_SIZES } from './trafficgen.js';
export { basicStream, basicTrialSpec } from './example-spec.js';
export { checkTrialSpec, checkTrafficSpec } from './trial-check.js';
export type {
  VSwitch,
  VSwitchCaps,
  Deployment,
  Topology,
  PhyPort,
  SwitchPort,
  PortStats,
  FlowSpec,
  FlowMatch,
  SwitchCounters,
  WireDelta,
  MigrationPorts,
} from './deployment.js';
export type { Vnf, VnfAttachment, GuestNic, LoopbackApp, PciPassthroughVnf, GuestCommandResult } from './vnf.js';
export { isPciPassthroughVnf } from './vnf.js';
export type {
  SettingSchema,
  SettingsFragment,
  DeploymentFactory,
  DriverFactory,
  DriverKind,
  DriverContext,
  DriverOf,
  RegistryApi,
  PluginRegister,
  LoadGenerator,
  FwdApp,
} from './driver.js';
export * from './errors.js';
export * from './settings.js';
export { checkCounters, isSwitchCounters, type CounterCheck, type DirectionCheck } from '../methodology/counter-check.js';
export { Registry } from '../registry/registry.js';
export type { Logger } from '../log/logger.js';
export { createLogger, silentLogger } from '../log/logger.js';
export { Host } from '../host/host.js';
export { CleanupStack } from '../runner/cleanup-stack.js';
export { exec } from '../host/exec.js';
export type { Search, TrialRequest, TrialOutcome, ResultRow } from '../methodology/types.js';
export type { Methodology, MethodologyContext, MethodologyOutput } from '../methodology/context.js';
export { RESULT_COLUMNS, VSPERF_COLUMNS } from '../results/columns.js';
export type { RunResults, TestcaseResult } from '../results/types.js';
