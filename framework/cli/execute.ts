import { Config, type TestcaseDef } from '../config/load.js';
import type { Layer } from '../config/layers.js';
import { paramsForTestcase, parseTestParamsOption } from '../config/test-params.js';
import { pyRepr } from '../config/pyconf/repr.js';
import { fromJson } from '../config/pyconf/values.js';
import { formatLiteral } from '../config/literal.js';
import type { Json, JsonObject, Settings } from '../config/settings.js';
import { ConfigError, UsageError, VsperfError } from '../errors.js';
import { createLogger } from '../log/logger.js';
import { Registry } from '../registry/registry.js';
import { loadPlugin } from '../registry/plugin-loader.js';
import type { DriverKind } from '../api/driver.js';
import { selectTestcases } from '../runner/select-testcases.js';
import { estimateTestcaseS } from '../runner/estimate.js';
import { validatePlan, type Plan } from '../runner/plan.js';
import { checkArgumentText } from '../config/utf8.js';
import { suggest } from '../util/suggest.js';
import { accessSync, constants as fsConstants, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResults } from '../results/types.js';
import { gridTable, matrixRst, matrixTable } from './matrix.js';
import { logLevelOf, type CliOptions, type CliSetup } from './options.js';

const out = (s: string): void => {
  process.stdout.write(s + '\n');
};

async function buildRegistry(setup: CliSetup, plugins: readonly string[]): Promise<Registry> {
  const r = new Registry();
  setup.registerBuiltins(r);
  for (const p of plugins) await loadPlugin(p, r);
  return r;
}

/** PLUGINS as the unvalidated configuration gives it (validation waits for the plugins' own settings). */
function pluginsOf(raw: Config): string[] {
  const v = raw.base.getOr<Json>('PLUGINS', []);
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw new ConfigError('PLUGINS', raw.base.source('PLUGINS'), 'must be a list of package names or paths');
  return v as string[];
}

function listDrivers(r: Registry, kind: DriverKind, title: string): void {
  out(`${title}:`);
  out('='.repeat(title.length + 1));
  const list = r.list(kind);
  if (!list.length) out('  (none)');
  for (const f of list) out(`* ${f.name}${f.aliases?.length ? ` (alias: ${f.aliases.join(', ')})` : ''}: ${f.summary}`);
}

function listTestcases(config: Config): void {
  out('Available Tests:');
  out('================');
  for (const tc of config.testcases()) {
    const t = (tc.Parameters.TRAFFIC as JsonObject | undefined)?.traffic_type ?? 'rfc2544_throughput';
    out(`* ${tc.name.padEnd(28)} [${tc.Deployment}] ${String(t).padEnd(20)} ${tc.Description}`);
  }
}

function listSettings(config: Config): void {
  for (const d of config.schema.docs) {
    const v = config.base.has(d.key) ? formatLiteral(config.base.get(d.key)) : '(unset)';
    out(`${d.key} (${d.type}) = ${v.length > 100 ? v.slice(0, 97) + '...' : v}`);
    if (d.description) out(`    ${d.description}  [${config.base.source(d.key)}]`);
  }
  // VSPERF's settings this build has no use for: accepted in conf files and --test-params, no effect.
  const known = config.schema.keys();
  const ineffective = config.catalogue.all().filter((s) => !known.has(s.name));
  out('');
  out(`VSPERF settings accepted without effect here (${ineffective.length}):`);
  for (const s of ineffective) {
    const set = config.ineffective.get(s.name);
    const v = formatLiteral(set ? set.value : s.default);
    out(`${s.name} (${s.type}) = ${v.length > 100 ? v.slice(0, 97) + '...' : v}  [${set ? set.source : `VSPERF default, ${s.file}`}]`);
  }
}

/** The testcases the options ask for, in run order. */
function pickTestcases(config: Config, names: readonly string[], o: CliOptions): TestcaseDef[] {
  const catalogue = config.testcases();
  const byName = new Map(catalogue.map((t) => [t.name, t]));
  let chosen: string[];
  if (o.suite) {
    if (names.length || o.tests) throw new UsageError('--suite cannot be combined with testcase names or --tests');
    const suites = config.base.getOr<JsonObject>('SUITES', {});
    const suite = suites[o.suite];
    if (!Array.isArray(suite)) {
      const s = suggest(o.suite, Object.keys(suites));
      throw new UsageError(`unknown suite "${o.suite}"${s ? `; did you mean "${s}"?` : ''}`, {
        hint: `suites: ${Object.keys(suites).join(', ') || 'none (set SUITES)'}`,
      });
    }
    chosen = selectTestcases([...byName.keys()], { names: suite.map(String) });
  } else {
    chosen = selectTestcases([...byName.keys()], { names, ...(o.tests !== undefined ? { tests: o.tests } : {}), exact: !!o.exactTestName });
  }
  return chosen.map((n) => byName.get(n)!);
}

function planSettingsKeys(s: Settings): string[] {
  return [
    'TRAFFICGEN',
    'VSWITCH',
    'VNF',
    'LOADGEN',
    'MODE',
    'TRAFFICGEN_DURATION',
    'TRAFFICGEN_PKT_SIZES',
    'TRAFFICGEN_LOSSRATE',
    'TRAFFICGEN_RFC2544_TESTS',
    'FRAME_MOD',
    'TRAFFIC',
  ].filter((k) => s.has(k));
}

async function dryRun(plan: Plan, registry: Registry): Promise<void> {
  out(`Plan: ${plan.testcases.length} testcase(s) — dry run, nothing is executed`);
  let total = 0;
  for (const { tc, index: i, settings: s, simulated, unavailable } of plan.testcases) {
    const est = await estimateTestcaseS(s, tc.Deployment);
    total += est;
    const tg = s.string('TRAFFICGEN');
    out('');
    out(`[${i + 1}] ${tc.name}: ${tc.Description}`);
    out(`    deployment:   ${simulated ? `${tc.Deployment} (not set up: the Simulated generator models the DUT)` : tc.Deployment}`);
    if (unavailable) out(`    not runnable here: ${unavailable}`);
    out(
      `    trafficgen:   ${tg}${s.has('VSWITCH') ? `   vswitch: ${String(s.get('VSWITCH'))}` : ''}${s.has('VNF') && tc.Deployment !== 'p2p' ? `   vnf: ${String(s.get('VNF'))}` : ''}`,
    );
    out(`    methodology:  ${String(s.get('TRAFFIC.traffic_type'))}   estimated ~${Math.round(est)} s`);
    if (tc.raw.TestSteps !== undefined)
      out(`    TestSteps:    ${(tc.raw.TestSteps as unknown[]).length} steps${tc.Deployment === 'clean' ? ' (traffic only where a step sends it)' : ''}`);
    out('    parameters:');
    for (const k of planSettingsKeys(s)) out(`      ${k} = ${formatLiteral(s.get(k))}   [${s.source(k)}]`);
    const describe = registry.has('trafficgen', tg) ? registry.get('trafficgen', tg).describePlan : undefined;
    if (describe) for (const line of await describe(s)) out(`    ${line}`);
  }
  out('');
  out(`Results under: ${plan.resultsRoot}`);
  out(`Estimated total: ~${Math.round(total)} s`);
}

/** `vsperf --check-host [--json]`: exit 0 when nothing fails, 3 (host error) otherwise. */
async function checkHost(config: Config, json: boolean): Promise<number> {
  const { hostChecks } = await import('../fidelity/check-host.js');
  const { measureSteal, formatChecks } = await import('../fidelity/host-checks.js');
  const checks = hostChecks(config.base, await measureSteal(2));
  out(json ? JSON.stringify({ host_checks: checks }, null, 2) : formatChecks(checks));
  return checks.some((c) => c.status === 'fail') ? 3 : 0;
}

/** --xunit-dir must be an existing, writable directory (as VSPERF checks it). */
function checkXunitDir(dir: string): string {
  try {
    if (!statSync(dir).isDirectory()) throw new UsageError(`--xunit-dir ${JSON.stringify(dir)}: not a directory`);
    accessSync(dir, fsConstants.W_OK);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--xunit-dir ${JSON.stringify(dir)}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : 'not writable'}`);
  }
  return dir;
}

/** One line for every VSPERF setting the configuration set that has no effect here. */
function warnIneffective(config: Config): void {
  const names = [...config.ineffective.keys()].filter((k) => !k.startsWith('_')).sort();
  if (!names.length) return;
  const shown = names.slice(0, 8).join(', ');
  process.stderr.write(
    `vsperf: warning: ${names.length} VSPERF setting(s) accepted without effect here: ${shown}${names.length > 8 ? `, … (${names.length - 8} more)` : ''} (see vsperf --list-settings)\n`,
  );
}

/** What COLLECTOR / --sysmetrics can name here. */
const COLLECTORS: readonly [string, string][] = [
  ['ProcStat', "CPU time per process and PMD thread from /proc, sampled during trials (VSPERF's Pidstat is accepted as its name)"],
  ['none', 'no collector'],
];

/** --matrix after the run: the table on stdout and result_performance_matrix.rst beside the results. */
function printMatrix(run: RunResults, resultsDir: string | undefined, config: Config, testParams: readonly JsonObject[]): void {
  const metric = String(config.base.getOr('MATRIX_METRIC', 'throughput_rx_fps'));
  const entries = run.testcases.map((tc) => {
    const v = tc.status === 'passed' ? Number((tc.rows[0] as Record<string, unknown> | undefined)?.[metric]) : NaN;
    // VSPERF shows str(test_params)[1:-1]: this testcase's --test-params as a Python dict, without braces.
    return { name: tc.name, value: Number.isFinite(v) ? v : undefined, params: pyRepr(fromJson(paramsForTestcase(testParams, tc.index))).slice(1, -1) };
  });
  const table = matrixTable(metric, entries, config.base.getOr('CUMULATIVE_PARAMS', false));
  if (!table) {
    process.stderr.write(`vsperf: warning: no performance matrix: the first testcase has no ${metric}\n`);
    return;
  }
  out(gridTable(table));
  if (resultsDir) writeFileSync(join(resultsDir, 'result_performance_matrix.rst'), matrixRst(metric, table));
}

function listCollectors(): void {
  out('System metrics collectors:');
  out('==========================');
  for (const [name, summary] of COLLECTORS) out(`* ${name}: ${summary}`);
}

export async function execute(names: string[], o: CliOptions, flags: Layer[], argv: readonly string[], setup: CliSetup): Promise<number> {
  return executeWith(names, o, flags, argv, setup);
}

/**
 * Until the run starts, SIGINT/SIGTERM keep their default action (end the process at once): nothing
 * has been created yet, and loading a large settings file is synchronous, so a JavaScript handler
 * could not run before it finished. The run installs handlers that tear down what it created.
 */
async function executeWith(names: string[], o: CliOptions, flags: Layer[], argv: readonly string[], setup: CliSetup): Promise<number> {
  const testParams = o.testParams !== undefined ? parseTestParamsOption(checkArgumentText(o.testParams, '--test-params')) : undefined;
  const list = o.list || o.listTests;
  const listOnly = list || o.listTrafficgens || o.listVswitches || o.listVnfs || o.listFwdapps || o.listLoadgens || o.listDeployments || o.listCollectors;
  const xunitDir = o.xunitDir !== undefined ? checkXunitDir(o.xunitDir) : undefined;
  const load = { confFiles: o.confFile, loadEnv: !!o.loadEnv, ...(testParams ? { testParams } : {}), cliFlags: flags, integration: !!o.integration };
  // Plugins load before validation: the settings they declare are then known to every layer.
  const registry = await buildRegistry(setup, [...pluginsOf(new Config({ ...load, validate: false })), ...o.plugin]);
  const config = new Config({ ...load, validate: !listOnly, pluginSettings: registry.declaredSettings() });
  if (listOnly) {
    if (list) listTestcases(config);
    if (o.listCollectors) listCollectors();
    if (o.listTrafficgens) listDrivers(registry, 'trafficgen', 'Traffic generators');
    if (o.listVswitches) listDrivers(registry, 'vswitch', 'vSwitches');
    if (o.listVnfs) listDrivers(registry, 'vnf', 'VNFs');
    if (o.listFwdapps) listDrivers(registry, 'fwdapp', 'Forwarding applications');
    if (o.listLoadgens) listDrivers(registry, 'loadgen', 'Load generators');
    if (o.listDeployments) listDrivers(registry, 'deployment', 'Deployments');
    return 0;
  }
  if (o.listSettings) {
    listSettings(config);
    return 0;
  }
  if (o.checkHost) return checkHost(config, !!o.json);
  // The dry run and the run pass through the same validation: what the one accepts, the other does.
  const plan = await validatePlan(config, registry, pickTestcases(config, names, o), { integration: !!o.integration });
  warnIneffective(config);
  if (o.dryRun) {
    await dryRun(plan, registry);
    return 0;
  }
  const tcs = plan.testcases.map((p) => p.tc);
  const level = logLevelOf(config.base.getOr('VERBOSITY', 'info'));
  const { RunEvents } = await import('../runner/events.js');
  const { attachProgress } = await import('./progress.js');
  const { runTestcases } = await import('../runner/run.js');
  const events = new RunEvents();
  let resultsDir: string | undefined;
  events.on('run:end', (e) => (resultsDir = e.resultsDir));
  const progress = attachProgress(events);
  const log = createLogger((lvl, scope, msg) => {
    progress.clearLine();
    process.stderr.write(`${new Date().toISOString().slice(11, 19)} [${lvl}] ${scope}: ${msg}\n`);
  }, level);
  const ac = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      log.warn(`${sig}: stopping; tearing down what this run created (press Ctrl-C again to leave it to the janitor)`);
      ac.abort(new VsperfError('E_ABORTED', `interrupted by ${sig}`));
    } else {
      log.error(`${sig} again: exiting now; the next vsperf run will clean up the leftovers`);
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const run = await runTestcases({
      config,
      registry,
      testcases: tcs,
      log,
      events,
      argv,
      xunit: !!o.xunit || xunitDir !== undefined,
      ...(xunitDir ? { xunitDir } : {}),
      integration: !!o.integration,
      signal: ac.signal,
    });
    if (o.matrix) printMatrix(run, resultsDir, config, testParams ?? []);
    if (run.status === 'aborted') return 130;
    return run.status === 'passed' ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
