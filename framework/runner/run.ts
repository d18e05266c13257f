import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { AbortedError, EnvironmentError, OutputError, errorMessage, isVsperfError, UsageError } from '../errors.js';
import { makeDirectory } from '../host/paths.js';
import type { Config, TestcaseDef } from '../config/load.js';
import { PROJECT_ROOT } from '../config/load.js';
import type { Settings, JsonObject } from '../config/settings.js';
import type { Logger } from '../log/logger.js';
import { Host } from '../host/host.js';
import { Journal } from '../host/journal.js';
import { runJanitor } from '../host/janitor.js';
import { RunLock } from '../host/run-lock.js';
import type { Registry } from '../registry/registry.js';
import type { DriverContext, DriverKind, DriverOf } from '../api/driver.js';
import { getMethodology } from '../methodology/index.js';
import type { Methodology, MethodologyOutput } from '../methodology/context.js';
import type { ResultRow } from '../methodology/types.js';
import { UNKNOWN } from '../results/columns.js';
import { csvFileName, writeCsv } from '../results/csv-writer.js';
import { hostFacts, toolVersion, writeJsonAtomic } from '../results/json-writer.js';
import { writeJunit } from '../results/junit-writer.js';
import type { RunResults, TestcaseResult } from '../results/types.js';
import { CleanupStack } from './cleanup-stack.js';
import type { RunEvents } from './events.js';
import { estimateTestcaseS } from './estimate.js';
import { startTestcaseExtras } from '../collectors/extras.js';
import { TestcaseFidelity } from '../fidelity/testcase.js';
import { validityThresholds } from '../fidelity/verdict.js';
import { hostChecks, stealMark, stealSince } from '../fidelity/check-host.js';
import type { PortSpec, TrafficGenerator } from '../api/trafficgen.js';
import type { Topology } from '../api/deployment.js';
import { parseTestSteps } from '../steps/steps.js';
import type { PyValue } from '../steps/pyvalue.js';
import { integrationRows, runStepsTestcase } from './steps-testcase.js';
import { hostLacks, hostProbe } from './host-needs.js';

export type Mode = 'normal' | 'trafficgen' | 'trafficgen-off' | 'trafficgen-pause';

export interface RunOptions {
  readonly config: Config;
  readonly registry: Registry;
  readonly testcases: readonly TestcaseDef[];
  readonly log: Logger;
  readonly events: RunEvents;
  readonly argv: readonly string[];
  readonly xunit?: boolean;
  /** --xunit-dir: results.xml is written there too. */
  readonly xunitDir?: string;
  /** VSPERF --integration: TestSteps are validated step by step and status/details reported. */
  readonly integration?: boolean;
  /** Where results_<timestamp>/ goes (default: RESULTS_PATH). */
  readonly resultsRoot?: string;
  /** Aborting this (SIGINT/SIGTERM in the CLI) stops the run and unwinds cleanly. */
  readonly signal: AbortSignal;
}

function timestampName(d = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}_${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`;
}

/**
 * The run: lock, janitor, then each testcase (deployment → methodology → results → teardown) with its
 * own cleanup stack. A failing testcase is recorded and the next one runs; results are written after
 * every testcase so a crash later keeps what finished.
 */
export async function runTestcases(o: RunOptions): Promise<RunResults> {
  const lock = RunLock.acquire();
  try {
    const cleaned = await runJanitor({ log: o.log });
    if (cleaned) o.log.warn(`janitor removed ${cleaned} leftover resource(s) of an earlier run that did not finish`);
    return await runLocked(o);
  } finally {
    lock.release();
  }
}

async function runLocked(o: RunOptions): Promise<RunResults> {
  const start = new Date();
  const runId = `${timestampName(start)}-${process.pid}`;
  const resultsDir = makeResultsDir(o, start);
  const journal = new Journal(runId);
  const run = newRunRecord(o, runId, start);
  const steal0 = stealMark();
  const save = (): void => writeJsonAtomic(join(resultsDir, 'results.json'), run);
  save();
  const tally = { passed: 0, failed: 0 };
  let pending: unknown;
  try {
    o.events.emit('run:start', { testcases: o.testcases.map((t) => t.name), resultsDir, estimateS: await estimateRunS(o) });
    for (const [i, tc] of o.testcases.entries()) {
      if (o.signal.aborted) break;
      const result = await runOne(o, tc, i, resultsDir, journal);
      run.testcases.push(result);
      if (result.status === 'passed') tally.passed++;
      else tally.failed++;
      save();
      if (result.status === 'failed' && o.config.base.boolean('EXIT_ON_TESTCASE_FAILURE')) break;
    }
  } catch (e) {
    pending = e;
    throw e;
  } finally {
    Object.assign(run, {
      host_checks: hostChecks(o.config.base, stealSince(steal0)),
      stopTime: new Date().toISOString(),
      status: o.signal.aborted ? 'aborted' : tally.failed || pending ? 'failed' : 'passed',
    });
    finalWrites(o, run, resultsDir, save, pending, journal);
  }
  await postRun(resultsDir, o.config.base, o.log);
  o.events.emit('run:end', { ...tally, resultsDir });
  return run;
}

/** results_<timestamp>/ under RESULTS_PATH (absolute: daemons such as ovsdb-server and QEMU get paths under it), _<n> when taken. */
function makeResultsDir(o: RunOptions, start: Date): string {
  const root = resolve(o.resultsRoot ?? o.config.base.string('RESULTS_PATH'));
  let resultsDir = join(root, `results_${timestampName(start)}`);
  makeDirectory('results directory (RESULTS_PATH)', root);
  for (let n = 1; ; n++) {
    try {
      mkdirSync(resultsDir, { recursive: false });
      return resultsDir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || n > 50) throw new OutputError(resultsDir, e);
      resultsDir = join(root, `results_${timestampName(start)}_${n}`);
    }
  }
}

function newRunRecord(o: RunOptions, runId: string, start: Date): RunResults {
  return {
    schema: 'vsperf-ts/results/v1',
    tool: { name: 'vsperf-ts', version: toolVersion(PROJECT_ROOT) },
    runId,
    startTime: start.toISOString(),
    argv: o.argv,
    host: hostFacts(),
    // Steal is measured over the whole run and filled in at its end.
    host_checks: hostChecks(o.config.base),
    versions: { node: process.version },
    status: 'running',
    testcases: [],
  };
}

async function estimateRunS(o: RunOptions): Promise<number> {
  const each = await Promise.all(o.testcases.map((t, i) => estimateTestcaseS(o.config.forTestcase(t, i), t.Deployment)));
  return each.reduce((a, b) => a + b, 0);
}

/** results.json and the JUnit files at the end of the run; a failed write never hides the error that ended the run. */
function finalWrites(o: RunOptions, run: RunResults, resultsDir: string, save: () => void, pending: unknown, journal: Journal): void {
  try {
    save();
    if (o.xunit) writeJunit(join(resultsDir, 'results.xml'), run);
    if (o.xunitDir) writeJunit(join(o.xunitDir, 'results.xml'), run);
  } catch (e) {
    if (pending === undefined) throw e;
    o.log.error(`could not write the final results: ${errorMessage(e)}`);
  } finally {
    journal.close();
  }
}

/** Reports, archive and export; loaded only now (they pull in ajv, sqlite and the report code). */
async function postRun(resultsDir: string, settings: Settings, log: Logger): Promise<void> {
  const { afterRun } = await import('../results/post-run.js');
  try {
    await afterRun(resultsDir, settings, log);
  } catch (e) {
    log.warn(`post-run (report/archive/export) failed: ${errorMessage(e)}`);
  }
}

type ErrorJson = { code: string; message: string };

/** What one testcase gathers as it goes: whatever it got to is recorded, also when it fails. */
interface TestcaseState {
  settings?: Settings;
  output?: MethodologyOutput;
  facts: Record<string, unknown>;
  simulated: boolean;
  extraDetails: Record<string, unknown>;
  trafficgen: string;
  backend: string;
  error?: ErrorJson;
  stepFailure?: ErrorJson;
  /**
   * Leading rows that TestSteps' send_traffic produced: each step validated its own (VSPERF), or was
   * told not to with "!" (ovsdpdk_jumbo_p2p_upper_bound expects 100 % loss), so they are not judged again.
   */
  stepRows?: number;
  fidelity?: TestcaseFidelity;
}

/** The testcase's own log, cleanup stack, host and work directory. */
interface TestcaseEnv {
  readonly log: Logger;
  readonly cleanup: CleanupStack;
  readonly host: Host;
  readonly workDir: string;
}

/** One testcase: run it, unwind its cleanup stack whatever happened, then record its result (rows, CSV, status). */
async function runOne(o: RunOptions, tc: TestcaseDef, index: number, resultsDir: string, journal: Journal): Promise<TestcaseResult> {
  const t0 = Date.now();
  const startTime = new Date().toISOString();
  const log = o.log.child(tc.name);
  const st: TestcaseState = { facts: {}, simulated: false, extraDetails: {}, trafficgen: UNKNOWN, backend: '' };
  const cleanup = new CleanupStack(log);
  const env: TestcaseEnv = { log, cleanup, host: new Host(cleanup, journal, log), workDir: join(resultsDir, `.work_${index}_${tc.name}`) };
  o.events.emit('testcase:start', { index, name: tc.name, deployment: tc.Deployment });
  try {
    await executeTestcase(o, tc, index, st, env);
  } catch (e) {
    st.error = testcaseError(e, o.signal, log, tc.name);
  } finally {
    const errs = await cleanup.unwind();
    if (errs.length && !st.error) st.error = { code: 'E_CLEANUP', message: `teardown: ${errs.map((x) => x.message).join('; ')}` };
  }
  return recordTestcase(o, tc, index, resultsDir, st, { startTime, t0, log });
}

/** Settings, drivers, deployment, then the methodology (or the TestSteps) with the load generator and collectors beside it. */
async function executeTestcase(o: RunOptions, tc: TestcaseDef, index: number, st: TestcaseState, env: TestcaseEnv): Promise<void> {
  const { log, cleanup } = env;
  const s = (st.settings = o.config.forTestcase(tc, index));
  validityThresholds(s); // a bad VALIDITY_THRESHOLDS entry is a config error before anything runs
  const lacking = await hostLacks(tc, hostProbe(s));
  if (lacking) throw new EnvironmentError(lacking);
  const estimateS = await estimateTestcaseS(s, tc.Deployment);
  o.events.emit('testcase:phase', { name: tc.name, phase: `estimated ${Math.round(estimateS)} s` });
  env.host.makeDir(env.workDir);
  const ctx = driverContext(o, s, env);
  const mode = s.string('MODE') as Mode;
  const trafficType = String(s.get('TRAFFIC.traffic_type'));
  const steps = tc.raw.TestSteps !== undefined ? parseTestSteps(tc.raw.TestSteps as PyValue, `testcase ${tc.name}`) : undefined;
  // A clean deployment sends traffic only when a step asks for it (with its own traffic_type).
  const methodology = mode === 'trafficgen-off' || tc.Deployment === 'clean' ? undefined : await getMethodology(trafficType);
  st.trafficgen = s.string('TRAFFICGEN');
  const gen = mode === 'trafficgen-off' ? undefined : await o.registry.create('trafficgen', st.trafficgen, ctx);
  if (gen) cleanup.defer(`close ${gen.name}`, () => gen.close());
  st.simulated = !!gen?.capabilities().simulatesDut;
  // Simulated figures are computed: the host's condition says nothing about them.
  const fidelity = (st.fidelity = new TestcaseFidelity(s, !st.simulated));
  const { topology, ports } = await deploy(o, tc, ctx, mode, st);
  if (mode === 'trafficgen-off') await holdDeployment(o, tc, log);
  if (mode === 'trafficgen-pause') await waitForEnter(log, o.signal);
  await gen!.connect(ports, o.signal);
  // Load generator, CPU collector and cyclictest run beside the traffic (VSPERF LOADGEN, COLLECTOR).
  const extras = await startTestcaseExtras(ctx);
  cleanup.defer('stop load generator and collectors', async () => void (await extras.stop()));
  o.events.emit('testcase:phase', { name: tc.name, phase: `${trafficType} on ${gen!.name}` });
  // A vswitchd or guest that dies mid-testcase aborts the trial at once (Topology.health), not at its end.
  const signal = topology?.health ? AbortSignal.any([o.signal, topology.health]) : o.signal;
  const traffic = methodologyRunner(o, tc, { gen: gen!, ports, fidelity, log, signal, ...(topology ? { topology } : {}) });
  fidelity.start();
  try {
    st.output = steps
      ? await runWithSteps(o, tc, steps, st, env, { settings: s, methodology, traffic, signal, ...(topology ? { topology } : {}) })
      : await traffic(s, methodology);
  } finally {
    fidelity.stop();
    // A failing stop must not replace the error that ended the methodology.
    st.extraDetails = { ...(await extras.stop().catch((e: unknown) => (log.warn(`stopping load generator/collectors: ${errorMessage(e)}`), {}))) };
  }
  noteTrialFacts(st, st.output);
}

function driverContext(o: RunOptions, settings: Settings, env: TestcaseEnv): DriverContext {
  const ctx: DriverContext = {
    settings,
    log: env.log,
    host: env.host,
    signal: o.signal,
    workDir: env.workDir,
    create: <K extends DriverKind>(kind: K, name: string): Promise<DriverOf[K]> => o.registry.create(kind, name, ctx),
  };
  return ctx;
}

/** The deployment's topology and generator ports; none in trafficgen mode or for a simulated generator (configured ports). */
async function deploy(o: RunOptions, tc: TestcaseDef, ctx: DriverContext, mode: Mode, st: TestcaseState): Promise<{ topology?: Topology; ports: PortSpec[] }> {
  if (mode === 'trafficgen' || st.simulated) {
    if (st.simulated) ctx.log.info('Simulated generator: no deployment is set up; figures are computed, not measured');
    return { ports: configuredPorts(ctx.settings) };
  }
  o.events.emit('testcase:phase', { name: tc.name, phase: `deployment ${tc.Deployment}: setting up` });
  const factory = await o.registry.create('deployment', tc.Deployment, ctx);
  const dep = await factory.build(ctx);
  ctx.host.cleanup.defer(`teardown ${dep.name}`, () => dep.teardown());
  const topology = await dep.setup(o.signal);
  st.facts = { ...topology.facts };
  return { topology, ports: [...topology.generatorPorts] };
}

/** MODE trafficgen-off: keep the deployment up until Ctrl-C, then tear it down. */
async function holdDeployment(o: RunOptions, tc: TestcaseDef, log: Logger): Promise<never> {
  log.info(`deployment ${tc.Deployment} is up, traffic generator off: press Ctrl-C to tear down`);
  if (!o.signal.aborted) await new Promise<void>((resolve) => o.signal.addEventListener('abort', () => resolve(), { once: true }));
  throw new AbortedError('trafficgen-off: torn down on request');
}

type TrafficRunner = (settings: Settings, methodology?: Methodology) => Promise<MethodologyOutput>;

/**
 * Runs a traffic_type's methodology with these settings (default: the one their TRAFFIC names). When a
 * switch or guest died (Topology.health), its reason is the error; deployments may shape the traffic
 * (pvpv: one stream per guest NIC pair, as VSPERF does).
 */
function methodologyRunner(
  o: RunOptions,
  tc: TestcaseDef,
  parts: { gen: TrafficGenerator; ports: PortSpec[]; topology?: Topology; fidelity: TestcaseFidelity; log: Logger; signal: AbortSignal },
): TrafficRunner {
  const { gen, ports, topology, fidelity, log, signal } = parts;
  const shaped = (x: Settings): Settings =>
    topology?.trafficOverrides ? x.with({ TRAFFIC: { ...topology.trafficOverrides } }, `deployment ${tc.Deployment}`) : x;
  return async (x, m) => {
    const method = m ?? (await getMethodology(String(x.get('TRAFFIC.traffic_type'))));
    try {
      return await method({
        testcase: tc.name,
        settings: shaped(x),
        generator: gen,
        ports,
        ...(topology ? { topology } : {}),
        ...(fidelity.probe ? { conditions: fidelity.probe } : {}),
        log,
        signal,
        events: o.events,
      });
    } catch (e) {
      if (topology?.health?.aborted && !o.signal.aborted) throw topology.health.reason instanceof Error ? topology.health.reason : e;
      throw e;
    }
  };
}

/** TestSteps, then the testcase's own traffic unless a step sent some (or the deployment is clean); --integration rows. */
async function runWithSteps(
  o: RunOptions,
  tc: TestcaseDef,
  steps: ReturnType<typeof parseTestSteps>,
  st: TestcaseState,
  env: TestcaseEnv,
  parts: { settings: Settings; methodology: Methodology | undefined; traffic: TrafficRunner; topology?: Topology; signal: AbortSignal },
): Promise<MethodologyOutput> {
  const { settings, methodology, traffic, topology, signal } = parts;
  o.events.emit('testcase:phase', { name: tc.name, phase: `${steps.length} TestSteps` });
  const so = await runStepsTestcase({
    steps,
    integration: !!o.integration,
    settings,
    ...(topology ? { topology } : {}),
    traffic: (x) => traffic(x),
    validateRows,
    log: env.log,
    host: env.host,
    workDir: env.workDir,
    signal,
    ...(process.stdin.isTTY ? { waitForUser: (p: string) => waitForEnterPrompt(p, o.signal) } : {}),
  });
  let output: MethodologyOutput = { rows: so.rows, trials: so.trials };
  if (so.status.ok && tc.Deployment !== 'clean' && !so.sentTraffic) {
    const after = await traffic(so.settings, methodology);
    output = { ...after, rows: [...so.rows, ...after.rows], trials: [...so.trials, ...after.trials] };
  }
  st.stepRows = so.rows.length;
  if (o.integration) output = { ...output, rows: integrationRows(output.rows, so.status) };
  if (!so.status.ok) st.stepFailure = { code: so.status.code ?? 'E_STEP_FAILED', message: `step ${so.status.failedStep}: ${so.status.details}` };
  return output;
}

/** Counter cross-check summary and the generator's backend, for the facts and rows. */
function noteTrialFacts(st: TestcaseState, output: MethodologyOutput): void {
  const checked = output.trials.filter((t) => t.counterCheck);
  if (checked.length)
    st.facts.counter_check = `${checked.filter((t) => t.counterCheck!.consistent).length}/${checked.length} trials: generator and switch counters agree`;
  const last = output.trials.at(-1)?.result.info?.backend;
  if (last !== undefined) st.backend = String(last);
}

function testcaseError(e: unknown, signal: AbortSignal, log: Logger, name: string): ErrorJson {
  let error: ErrorJson = isVsperfError(e) ? e.toJSON() : { code: 'E_BUG', message: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  if (signal.aborted && !isVsperfError(e)) error = new AbortedError('run aborted').toJSON();
  log.error(`testcase ${name} failed: ${isVsperfError(e) ? e.brief() : errorMessage(e)}`);
  if (!isVsperfError(e) && e instanceof Error && e.stack) log.debug(e.stack);
  return error;
}

/** Rows with verdicts and VSPERF's columns, the CSV, the final status, the testcase's entry in results.json. */
function recordTestcase(
  o: RunOptions,
  tc: TestcaseDef,
  index: number,
  resultsDir: string,
  st: TestcaseState,
  at: { startTime: string; t0: number; log: Logger },
): TestcaseResult {
  const { settings, output, facts } = st;
  const stopTime = new Date().toISOString();
  const wallS = (Date.now() - at.t0) / 1000;
  const verdictRows = st.fidelity ? st.fidelity.decorate(output?.rows ?? [], output?.trials ?? []) : (output?.rows ?? []);
  const extraDetails = st.fidelity?.conditions ? { ...st.extraDetails, conditions: st.fidelity.conditions } : st.extraDetails;
  const meta = { startTime: at.startTime, stopTime, wallS, trafficgen: st.trafficgen, backend: st.backend, simulated: st.simulated };
  const rows = decorateRows(verdictRows, tc, settings, facts, meta);
  const csv = writeTestcaseCsv(resultsDir, index, tc, rows, st, at.log);
  const error =
    st.error ??
    st.stepFailure ??
    (rows.length ? validateRows(rows.slice(st.stepRows ?? 0)) : { code: 'E_NO_RESULT', message: 'the testcase produced no result rows' });
  const status: 'passed' | 'failed' = error ? 'failed' : 'passed';
  const result: TestcaseResult = {
    index,
    name: tc.name,
    deployment: tc.Deployment,
    description: tc.Description,
    trafficType: settings ? String(settings.getOr('TRAFFIC.traffic_type', UNKNOWN)) : UNKNOWN,
    status,
    ...(error ? { error } : {}),
    startTime: at.startTime,
    stopTime,
    wallS,
    rows,
    trials: output?.trials ?? [],
    settings: settings ? settings.toJSON() : {},
    facts,
    ...(output?.details || Object.keys(extraDetails).length ? { details: { ...(output?.details ?? {}), ...extraDetails } } : {}),
    simulated: st.simulated,
    ...(csv ? { csv } : {}),
  };
  o.events.emit('testcase:end', { index, name: tc.name, status, rows, ...(error ? { error } : {}), wallS });
  return result;
}

/** The testcase's CSV file name, or undefined (no rows, or it could not be written: then the error says what was lost). */
function writeTestcaseCsv(resultsDir: string, index: number, tc: TestcaseDef, rows: readonly ResultRow[], st: TestcaseState, log: Logger): string | undefined {
  if (!rows.length) return undefined;
  const csv = csvFileName(index, tc.name, tc.Deployment);
  try {
    writeCsv(join(resultsDir, csv), rows, st.settings?.getOr<string>('CSV_FORMAT', 'vsperf') === 'iso' ? 'iso' : 'vsperf');
    return csv;
  } catch (e) {
    // Keep the testcase's result (results.json may still be writable) and say what was lost.
    log.error(errorMessage(e));
    if (!st.error) st.error = isVsperfError(e) ? e.toJSON() : { code: 'E_OUTPUT', message: errorMessage(e) };
    return undefined;
  }
}

/**
 * VSPERF's validity rule (core/traffic_controller.py validate_send_traffic): a row with b2b_frames
 * must have some, else a row with throughput_rx_fps must have some. A search that found no passing
 * rate is a failed testcase, with the search's own explanation.
 */
export function validateRows(rows: readonly ResultRow[]): { code: string; message: string } | undefined {
  for (const r of rows) {
    const has = (k: string): boolean => r[k] !== undefined && r[k] !== UNKNOWN;
    const bad = has('b2b_frames') ? Number(r.b2b_frames) <= 0 : has('throughput_rx_fps') ? Number(r.throughput_rx_fps) <= 0 : false;
    if (bad) {
      const status = typeof r.search_status === 'string' ? r.search_status : '';
      const why = status ? `: ${status}` : '';
      // A search that never got a valid trial knows nothing about the DUT: that is not "nothing forwarded".
      if (status.includes('no valid trial'))
        return { code: 'E_GENERATOR_LIMITED', message: `${r.packet_size ?? '?'} B: the generator could not offer any rate tried${why}` };
      return { code: 'E_NO_THROUGHPUT', message: `${r.packet_size ?? '?'} B: nothing was forwarded at any rate tried${why}` };
    }
  }
  return undefined;
}

function configuredPorts(s: Settings): PortSpec[] {
  const speed = s.number('TRAFFICGEN_PORT_SPEED_MBPS');
  const list = s.getOr<JsonObject[]>('TRAFFICGEN_PORTS', []);
  if (!list.length)
    return [
      { name: 'port0', speedMbps: speed },
      { name: 'port1', speedMbps: speed },
    ];
  return list.map((p) => ({ ...(p as unknown as PortSpec), speedMbps: Number(p.speedMbps ?? speed) }));
}

function decorateRows(
  rows: readonly ResultRow[],
  tc: TestcaseDef,
  s: Settings | undefined,
  facts: Record<string, unknown>,
  meta: { startTime: string; stopTime: string; wallS: number; trafficgen: string; backend: string; simulated: boolean },
): ResultRow[] {
  const trafficType = s ? String(s.getOr('TRAFFIC.traffic_type', UNKNOWN)) : UNKNOWN;
  // VSPERF's CSV: traffic_type is the L3 protocol of the traffic; the scalability columns only with multistream.
  const multistream = s ? Number(s.getOr('TRAFFIC.multistream', 0)) : 0;
  const scalability: Record<string, string | number> = multistream
    ? {
        stream_count: multistream,
        match_type: String(s!.getOr('TRAFFIC.stream_type', UNKNOWN)),
        'pre-installed_flows': String(s!.getOr('TRAFFIC.pre_installed_flows', UNKNOWN)),
      }
    : {};
  return rows.map((r) => ({
    type: trafficType,
    id: tc.name,
    deployment: tc.Deployment,
    vswitch: String(facts.vswitch ?? (meta.simulated ? 'simulated' : (s?.getOr('VSWITCH', UNKNOWN) ?? UNKNOWN))),
    traffic_type: s ? String(s.getOr('TRAFFIC.l3.proto', UNKNOWN)) : UNKNOWN,
    ...scalability,
    guest_loopback_app: String(facts.guest_loopback_app ?? UNKNOWN),
    tunnel_type: String(facts.tunnel_type ?? UNKNOWN),
    test_execution_time: Math.round(meta.wallS * 1000) / 1000,
    start_time: meta.startTime,
    stop_time: meta.stopTime,
    ...r,
    trafficgen: meta.trafficgen,
    ...(meta.backend ? { trafficgen_backend: meta.backend } : {}),
    simulated: meta.simulated,
  }));
}

/** A TestSteps `wait` step: prompt, then resolve on Enter (or reject when the run is aborted). */
async function waitForEnterPrompt(prompt: string, signal: AbortSignal): Promise<void> {
  process.stderr.write(`${prompt}\n`);
  await enterOnStdin(signal, 'aborted while waiting');
}

async function waitForEnter(log: Logger, signal: AbortSignal): Promise<void> {
  if (!process.stdin.isTTY) throw new UsageError('mode trafficgen-pause needs an interactive terminal to resume traffic');
  log.info('trafficgen-pause: deployment is up; press Enter to start traffic');
  await enterOnStdin(signal, 'aborted while paused');
}

/** Resolves on a line from stdin; rejects with AbortedError(`abortMessage`) when the run is aborted first. */
async function enterOnStdin(signal: AbortSignal, abortMessage: string): Promise<void> {
  if (signal.aborted) throw new AbortedError(abortMessage);
  const rl = createInterface({ input: process.stdin });
  let onAbort: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      rl.once('line', () => resolve());
      onAbort = () => reject(new AbortedError(abortMessage));
      signal.addEventListener('abort', onAbort, { once: true });
    });
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
    rl.close();
  }
}
