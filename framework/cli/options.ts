/** What the command line parsed into, and what the composition root hands the CLI. */
import type { RegistryApi } from '../api/driver.js';
import { isLogLevel, type LogLevel } from '../log/logger.js';

export interface CliOptions {
  list?: boolean;
  listTrafficgens?: boolean;
  listVswitches?: boolean;
  listVnfs?: boolean;
  listFwdapps?: boolean;
  listLoadgens?: boolean;
  listSettings?: boolean;
  listDeployments?: boolean;
  tests?: string;
  exactTestName?: boolean;
  suite?: string;
  mode?: string;
  trafficgen?: string;
  vswitch?: string;
  vnf?: string;
  fwdapp?: string;
  loadgen?: string;
  confFile: string[];
  loadEnv?: boolean;
  testParams?: string;
  verbosity?: string;
  xunit?: boolean;
  resultsDir?: string;
  dryRun?: boolean;
  plugin: string[];
  checkHost?: boolean;
  json?: boolean;
  listTests?: boolean;
  listCollectors?: boolean;
  integration?: boolean;
  xunitDir?: string;
  sysmetrics?: string;
  collector?: string;
  matrix?: boolean;
}

/** Supplied by the composition root (vsperf.ts): the framework itself knows no concrete driver. */
export interface CliSetup {
  registerBuiltins(r: RegistryApi): void;
}

export function logLevelOf(v: unknown): LogLevel {
  return typeof v === 'string' && isLogLevel(v) ? v : 'info';
}
