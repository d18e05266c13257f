/**
 * The error contract. Every error a driver raises for a user to fix is a VsperfError with a stable
 * `code`. Match errors by code, never with `instanceof`: a plugin may bring its own copy of vsperf-ts,
 * whose classes are not ours.
 */
export {
  VsperfError,
  UsageError,
  ConfigError,
  ParseError,
  PluginError,
  CapabilityError,
  DriverError,
  EnvironmentError,
  ProcessError,
  TimeoutError,
  OutputError,
  AbortedError,
  isVsperfError,
  errorMessage,
  type ExitKind,
} from '../errors.js';

/** The stable `code` of each error class. */
export const ERROR_CODES = {
  usage: 'E_USAGE',
  config: 'E_CONFIG',
  parse: 'E_PARSE',
  plugin: 'E_PLUGIN',
  capability: 'E_CAPABILITY',
  driver: 'E_DRIVER',
  environment: 'E_ENV',
  process: 'E_PROCESS',
  timeout: 'E_TIMEOUT',
  output: 'E_OUTPUT',
  aborted: 'E_ABORTED',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** The error's stable code, whichever copy of vsperf-ts made it (undefined for plain errors). */
export function errorCode(e: unknown): string | undefined {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}
