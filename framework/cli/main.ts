import { createRequire } from 'node:module';
import { Command, CommanderError, Option } from 'commander';
import { isVsperfError, UsageError } from '../errors.js';
import { createLogger } from '../log/logger.js';
import type { Layer } from '../config/layers.js';
import type { CliOptions, CliSetup } from './options.js';

/** Subcommands live in their own modules, imported only when used (start-up stays fast). */
const SUBCOMMANDS: Record<string, string> = {
  compare: './commands/compare.js',
  report: './commands/report.js',
  trend: './commands/trend.js',
};

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** The version in package.json (read once, only for --version). */
function packageVersion(): string {
  const pkg = createRequire(import.meta.url)('../../../package.json') as { name: string; version: string };
  return `${pkg.name} ${pkg.version}`;
}

export function buildProgram(): Command {
  const p = new Command('vsperf');
  p.description(
    'Benchmark virtual switching hosts: RFC 2544 throughput, NDR/PDR, back-to-back, latency and QEMU live-migration downtime.\nVSPERF-compatible testcases, options and CSV columns. Subcommands: compare, report, trend (vsperf <subcommand> --help).',
  )
    .usage('[options] [TESTCASE...]')
    .argument('[testcases...]', 'exact testcase names to run, in order (default: all, or those chosen by --tests/--suite)')
    .version(packageVersion(), '--version', 'print the vsperf-ts version and exit')
    .option('--list', 'list the testcases and exit')
    .option('--list-tests', 'same as --list (VSPERF spelling)')
    .option('--list-collectors', 'list system metrics collectors and exit')
    .option('--integration', "use VSPERF's integration testcases (conf/integration/) instead of the performance ones")
    .option('--list-trafficgens', 'list traffic generators and exit')
    .option('--list-vswitches', 'list vSwitches and exit')
    .option('--list-vnfs', 'list VNFs (guests) and exit')
    .option('--list-fwdapps', 'list forwarding applications and exit')
    .option('--list-loadgens', 'list load generators and exit')
    .option('--list-deployments', 'list deployment scenarios and exit')
    .option('--list-settings', 'list every setting with its description and resolved value, and exit')
    .option('-t, --tests <terms>', 'comma-separated terms: names containing a term run (globs * ? [] allowed); "!term" excludes, e.g. "pvp_*,!pvp_cont"')
    .option('--exact-test-name', '--tests terms must equal testcase names (no substring match)')
    .option('--suite <name>', 'run a named suite from the SUITES setting (e.g. nightly)')
    .addOption(
      new Option(
        '-m, --mode <mode>',
        'normal: vSwitch, VNF and traffic; trafficgen: traffic only (ports from TRAFFICGEN_PORTS); trafficgen-off: vSwitch and VNF only; trafficgen-pause: wait for Enter before traffic',
      ).choices(['normal', 'trafficgen', 'trafficgen-off', 'trafficgen-pause']),
    )
    .option('--trafficgen <name>', 'traffic generator to use (TRAFFICGEN)')
    .option('--vswitch <name>', 'vSwitch to use (VSWITCH)')
    .option('--fwdapp <name>', 'packet forwarding application to use instead of a vSwitch (PKTFWD)')
    .option('--vnf <name>', 'VNF to use (VNF)')
    .option('--loadgen <name>', 'load generator to use (LOADGEN)')
    .option('--conf-file <path>', 'settings file (JSON, or VSPERF-style NAME = value); repeatable, later wins', collect, [])
    .option('--load-env', 'also read settings from environment variables VSPERF_<SETTING>')
    .option(
      '--test-params <params>',
      'override settings: "KEY=VALUE;KEY=VALUE" (Python literals, never evaluated), or a list of such strings, one per testcase',
    )
    .addOption(new Option('--verbosity <level>', 'log level').choices(['debug', 'info', 'warning', 'error', 'critical']))
    .option('--xunit', 'also write JUnit XML (results.xml) into the results directory')
    .option('--xunit-dir <dir>', 'write the JUnit XML (results.xml) into this existing directory too (implies --xunit)')
    .option('--sysmetrics <name>', 'system metrics collector to use (COLLECTOR), see --list-collectors')
    .option('--collector <name>', 'same as --sysmetrics')
    .option('--matrix', "after the run, print VSPERF's performance matrix: MATRIX_METRIC of every testcase and its change against the first")
    .option('--results-dir <dir>', 'directory under which results_<timestamp>/ is created (RESULTS_PATH)')
    .option('--dry-run', 'print the plan (testcases, deployment, drivers, resolved parameters) and do nothing')
    .option('--plugin <module>', 'load a driver package exporting register(registry); repeatable', collect, [])
    .option('--check-host', 'check whether this host is fit to measure on (clocksource, governor, isolcpus, hugepages, THP, IRQs, KVM, steal, NUMA) and exit')
    .option('--json', 'with --check-host: print the checks as JSON')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, outputError: () => undefined });
  p.addHelpText(
    'after',
    `
Examples:
  vsperf phy2phy_tput                                   RFC 2544 throughput on the sandbox testbed
  vsperf --tests 'pvp_*' --vswitch OvsDpdkVhost          every pvp testcase
  vsperf --test-params "TRAFFICGEN_DURATION=10;TRAFFICGEN_PKT_SIZES=(64,128)" phy2phy_tput
  vsperf --trafficgen Simulated --dry-run phy2phy_tput   show the plan only
  vsperf compare results_A results_B                     regression gate
Exit codes: 0 all passed, 1 a testcase failed, 2 usage or configuration error, 3 host/environment error.`,
  );
  return p;
}

function flagLayers(o: CliOptions): Layer[] {
  const layers: Layer[] = [];
  const add = (flag: string, key: string, v: string | undefined): void => {
    if (v !== undefined) layers.push({ source: flag, values: { [key]: v } });
  };
  add('--trafficgen', 'TRAFFICGEN', o.trafficgen);
  add('--vswitch', 'VSWITCH', o.vswitch);
  add('--fwdapp', 'PKTFWD', o.fwdapp);
  add('--sysmetrics', 'COLLECTOR', o.sysmetrics);
  add('--collector', 'COLLECTOR', o.collector);
  add('--vnf', 'VNF', o.vnf);
  add('--loadgen', 'LOADGEN', o.loadgen);
  add('--verbosity', 'VERBOSITY', o.verbosity);
  add('--results-dir', 'RESULTS_PATH', o.resultsDir);
  add('--mode', 'MODE', o.mode);
  return layers;
}

function oneLine(e: CommanderError): string {
  return e.message
    .replace(/^error: /, '')
    .replace(/\n\(Did you mean (.*)\)/, '; did you mean $1?')
    .replace(/\n/g, ' ');
}

/** Entry point: returns the process exit code. `setup` brings the built-in drivers (see vsperf.ts). */
export async function main(argv: string[], setup: CliSetup): Promise<number> {
  const sub = argv[0] !== undefined ? SUBCOMMANDS[argv[0]] : undefined;
  try {
    if (sub) {
      const mod = (await import(sub)) as { run(args: string[]): Promise<number> };
      return await mod.run(argv.slice(1));
    }
    const program = buildProgram();
    try {
      program.parse(argv, { from: 'user' });
    } catch (e) {
      if (e instanceof CommanderError) {
        if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
        throw new UsageError(oneLine(e), { hint: 'see vsperf --help' });
      }
      throw e;
    }
    const opts = program.opts<CliOptions>();
    const { execute } = await import('./execute.js');
    return await execute(program.args, opts, flagLayers(opts), argv, setup);
  } catch (e) {
    if (isVsperfError(e)) {
      process.stderr.write(`vsperf: ${e.brief()}\n`);
      return e.exitCode;
    }
    process.stderr.write(`vsperf: internal error (a bug, please report it): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}

export { createLogger };
export { logLevelOf, type CliOptions } from './options.js';
