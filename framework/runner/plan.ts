/**
 * The one validation path: `--dry-run` prints what this accepts and a run starts only after it has
 * accepted, so whatever the dry run accepts, the run accepts. It resolves every testcase's settings
 * (schema, closed dicts, plausible numbers), checks that every driver the run would create is
 * registered (after plugins loaded: plugin drivers and settings count), that the traffic type is
 * known and can run with that generator and mode, and that the directories the run writes are usable.
 * It creates nothing.
 */
import { dirname, resolve } from 'node:path';
import type { Config, TestcaseDef } from '../config/load.js';
import type { Settings } from '../config/settings.js';
import { ConfigError, UsageError } from '../errors.js';
import { checkDirectory } from '../host/paths.js';
import { stateDir } from '../host/journal.js';
import { trafficTypes } from '../methodology/index.js';
import { binarySearchOptions, commonOptions } from '../methodology/options.js';
import { multiGoalOptions } from '../methodology/goals.js';
import type { Registry } from '../registry/registry.js';
import type { DriverFactory, DriverKind } from '../api/driver.js';
import { suggest } from '../util/suggest.js';
import { notProvided } from '../registry/not-provided.js';
import { hostLacks, hostProbe } from './host-needs.js';
import { validityThresholds } from '../fidelity/verdict.js';
import { parseTestSteps } from '../steps/steps.js';
import type { PyValue } from '../steps/pyvalue.js';

export interface PlannedTestcase {
  readonly tc: TestcaseDef;
  readonly index: number;
  readonly settings: Settings;
  readonly trafficType: string;
  /** The generator models the DUT: no deployment is set up. */
  readonly simulated: boolean;
  /**
   * --integration only: why this catalogue testcase cannot run here (a generator, vSwitch or
   * deployment vsperf-ts lacks: T-Rex, VPP, ptunp). The run records it as failed with this reason.
   */
  readonly unavailable?: string;
}

export interface Plan {
  readonly testcases: readonly PlannedTestcase[];
  /** Absolute RESULTS_PATH (checked, not created). */
  readonly resultsRoot: string;
}

/** Traffic types that measure a guest and so need a real deployment with a QEMU guest. */
const NEEDS_GUEST = new Set(['live_migration']);

/** A testcase names a VSPERF driver vsperf-ts does not have (T-Rex, VPP): the message says what it needs. */
class NotProvidedError extends ConfigError {}

/** A registered driver for the setting `key`, or a ConfigError naming the key, its source and the choices. */
function driver(registry: Registry, s: Settings, kind: DriverKind, key: string): DriverFactory {
  const name = s.get(key);
  if (typeof name !== 'string') throw new ConfigError(key, s.source(key), `must be a ${kind} name, got ${JSON.stringify(name)}`);
  if (registry.has(kind, name)) return registry.get(kind, name);
  const lacking = notProvided(kind, name);
  if (lacking) throw new NotProvidedError(key, s.source(key), lacking);
  const names = registry.list(kind).map((f) => f.name);
  const hint = suggest(name, names);
  throw new ConfigError(key, s.source(key), `unknown ${kind} "${name}"${hint ? `; did you mean "${hint}"?` : ''}`, {
    hint: `available: ${names.join(', ') || 'none'}`,
  });
}

/** The option readers the methodologies run first, run here so their errors come before anything starts. */
function checkMethodologySettings(trafficType: string, s: Settings): void {
  if (trafficType === 'live_migration') return; // reads its own MIGRATION_* options, checked by the schema
  commonOptions(s);
  binarySearchOptions(s);
  if (trafficType === 'ndr_pdr') multiGoalOptions(s);
}

async function planTestcase(config: Config, registry: Registry, tc: TestcaseDef, index: number): Promise<PlannedTestcase> {
  const s = config.forTestcase(tc, index);
  const mode = s.string('MODE');
  const trafficType = s.get('TRAFFIC.traffic_type');
  if (typeof trafficType !== 'string' || !trafficTypes().includes(trafficType)) {
    const hint = suggest(String(trafficType), trafficTypes());
    throw new ConfigError(
      'TRAFFIC.traffic_type',
      s.source('TRAFFIC.traffic_type'),
      `unknown traffic type ${JSON.stringify(trafficType)}${hint ? `; did you mean "${hint}"?` : ''}`,
      { hint: `known: ${trafficTypes().join(', ')}` },
    );
  }
  if (!registry.has('deployment', tc.Deployment)) {
    const lacking = notProvided('deployment', tc.Deployment);
    const key = `${config.catalogueKey}.${tc.name}.Deployment`;
    if (lacking) throw new NotProvidedError(key, config.base.source(`${config.catalogueKey}.${tc.name}`), lacking);
    const hint = suggest(
      tc.Deployment,
      registry.list('deployment').map((f) => f.name),
    );
    throw new ConfigError(
      key,
      config.base.source(`${config.catalogueKey}.${tc.name}`),
      `unknown deployment "${tc.Deployment}"${hint ? `; did you mean "${hint}"?` : ''}`,
    );
  }
  const generator = mode === 'trafficgen-off' ? undefined : driver(registry, s, 'trafficgen', 'TRAFFICGEN');
  const simulated = generator?.name === 'Simulated';
  // Checked even when the Simulated generator skips the deployment: a typo is a typo in every mode.
  const drivers = [generator, registry.get('deployment', tc.Deployment)];
  // As VSPERF: the forwarding application replaces the vSwitch only with VSWITCH none (conf files set PKTFWD regardless).
  const fwdapp = s.getOr('PKTFWD', '') !== '' && (String(s.getOr('VSWITCH', '')).toLowerCase() === 'none' || s.source('PKTFWD') === '--fwdapp');
  if (fwdapp) drivers.push(driver(registry, s, 'fwdapp', 'PKTFWD'));
  if (s.has('VSWITCH')) drivers.push(driver(registry, s, 'vswitch', 'VSWITCH'));
  if (s.has('VNF')) drivers.push(driver(registry, s, 'vnf', 'VNF'));
  if (s.has('LOADGEN')) drivers.push(driver(registry, s, 'loadgen', 'LOADGEN'));
  if (NEEDS_GUEST.has(trafficType) && (simulated || mode === 'trafficgen' || mode === 'trafficgen-off')) {
    throw new UsageError(
      `${tc.name}: ${trafficType} needs a deployment with a QEMU guest, which ${simulated ? 'the Simulated generator does not set up' : `mode ${mode} does not run`}`,
      { hint: 'use --trafficgen Software (or Ixia) in mode normal' },
    );
  }
  if (mode === 'trafficgen-pause' && !process.stdin.isTTY) throw new UsageError('mode trafficgen-pause needs an interactive terminal to resume traffic');
  checkMethodologySettings(trafficType, s);
  if (tc.raw.TestSteps !== undefined) parseTestSteps(tc.raw.TestSteps as PyValue, `testcase ${tc.name}`);
  for (const d of drivers) await d?.checkSettings?.(s);
  validityThresholds(s);
  return { tc, index, settings: s, trafficType, simulated };
}

/** Validates the whole run before anything starts; throws the first problem as a one-line VsperfError. */
export async function validatePlan(config: Config, registry: Registry, testcases: readonly TestcaseDef[], opts: { integration?: boolean } = {}): Promise<Plan> {
  if (!testcases.length) throw new UsageError('no testcase selected: nothing would run', { hint: 'list them with `vsperf --list`' });
  const planned: PlannedTestcase[] = [];
  for (const [i, tc] of testcases.entries()) {
    try {
      const p = await planTestcase(config, registry, tc, i);
      const lacking = await hostLacks(tc, hostProbe(p.settings));
      planned.push(lacking ? { ...p, unavailable: lacking } : p);
    } catch (e) {
      // VSPERF's integration catalogue names drivers we do not have (T-Rex, VPP, ptunp): those
      // testcases are listed and planned with the reason, and fail with it when run.
      const missing = e instanceof NotProvidedError || (e instanceof ConfigError && /: unknown (trafficgen|vswitch|deployment|vnf) "/.test(e.message));
      if (!opts.integration || !missing) throw e;
      planned.push({
        tc,
        index: i,
        settings: config.forTestcase(tc, i),
        trafficType: String(config.forTestcase(tc, i).getOr('TRAFFIC.traffic_type', '')),
        simulated: false,
        unavailable: (e as ConfigError).message,
      });
    }
  }
  const resultsRoot = checkDirectory('results directory (RESULTS_PATH)', config.base.string('RESULTS_PATH'));
  checkDirectory('state directory (VSPERF_STATE_DIR)', stateDir());
  const archive = config.base.getOr('RESULTS_ARCHIVE', '');
  if (typeof archive === 'string' && archive !== '') checkDirectory('archive directory (RESULTS_ARCHIVE)', dirname(resolve(resultsRoot, archive)));
  return { testcases: planned, resultsRoot };
}
