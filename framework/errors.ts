/**
 * One error tree for the whole framework. Every error a user can cause or fix is a VsperfError with a
 * stable `code`; the CLI prints it as one line and picks the exit code from `exitCode`. Anything that
 * is not a VsperfError is a bug and is printed with its stack.
 */
export type ExitKind = 'usage' | 'environment' | 'run';

export class VsperfError extends Error {
  readonly code: string;
  readonly hint?: string;
  /** 2 = usage/config, 3 = environment (missing tool, privilege, device), 1 = a run failed. */
  readonly exitCode: number;

  constructor(code: string, message: string, opts: { hint?: string; cause?: unknown; kind?: ExitKind } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    if (opts.hint !== undefined) this.hint = opts.hint;
    const kind = opts.kind ?? 'run';
    this.exitCode = kind === 'usage' ? 2 : kind === 'environment' ? 3 : 1;
  }

  /** The one line shown to a user. */
  brief(): string {
    return `${this.code}: ${this.message}${this.hint ? ` (hint: ${this.hint})` : ''}`;
  }

  toJSON(): { code: string; message: string; hint?: string } {
    return this.hint ? { code: this.code, message: this.message, hint: this.hint } : { code: this.code, message: this.message };
  }
}

export class UsageError extends VsperfError {
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super('E_USAGE', message, { ...opts, kind: 'usage' });
  }
}

/** A configuration value is wrong. `key` is the dotted setting path, `source` the file/flag it came from. */
export class ConfigError extends VsperfError {
  readonly key: string;
  readonly source: string;
  constructor(key: string, source: string, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super('E_CONFIG', `${key}: ${message} (from ${source})`, { ...opts, kind: 'usage' });
    this.key = key;
    this.source = source;
  }
}

/** `--test-params` (or another VSPERF-literal value) cannot be parsed. `position` is a 0-based offset. */
export class ParseError extends VsperfError {
  readonly position: number;
  readonly input: string;
  constructor(input: string, position: number, message: string) {
    const raw = input.length > 60 ? input.slice(Math.max(0, position - 20), position + 20) : input;
    // One line, whatever the input holds (multi-line .conf files, control characters).
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is escaped here
    const excerpt = raw.replace(/[\u0000-\u001f\u007f]/g, (c) =>
      c === '\n' ? '\\n' : c === '\t' ? '\\t' : c === '\r' ? '\\r' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
    );
    super('E_PARSE', `${message} at offset ${position} in "${excerpt}"`, { kind: 'usage' });
    this.position = position;
    this.input = input;
  }
}

/** A file or argument is not valid UTF-8. `where` is `file:line:col` (1-based; col counts characters). */
export class EncodingError extends VsperfError {
  readonly where: string;
  constructor(where: string, detail: string) {
    super('E_ENCODING', `${where}: ${detail}`, { kind: 'usage', hint: 'settings files and --test-params must be UTF-8' });
    this.where = where;
  }
}

/** A results, state or work directory cannot be used (under /proc or /sys, not a directory, not writable…). */
export class PathError extends VsperfError {
  readonly path: string;
  readonly label: string;
  constructor(label: string, path: string, reason: string) {
    super('E_PATH', `${label} ${JSON.stringify(path)}: ${reason}`, { kind: 'usage' });
    this.path = path;
    this.label = label;
  }
}

/**
 * A settings file (VSPERF conf dialect) holds something that cannot be read or is not supported:
 * `file:line:col: what`. Line and column are 1-based.
 */
export class ConfSourceError extends VsperfError {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly reason: string;
  constructor(file: string, line: number, col: number, reason: string) {
    // One line whatever the reason quotes (a key or name holding a newline).
    super(
      'E_PARSE',
      // eslint-disable-next-line no-control-regex -- control characters are exactly what is escaped here
      `${file}:${line}:${col}: ${reason.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}`,
      { kind: 'usage' },
    );
    this.file = file;
    this.line = line;
    this.col = col;
    this.reason = reason;
  }
}

export class PluginError extends VsperfError {
  readonly plugin: string;
  constructor(plugin: string, reason: string, opts: { hint?: string; cause?: unknown } = {}) {
    super('E_PLUGIN', `plugin ${plugin}: ${reason}`, { ...opts, kind: 'usage' });
    this.plugin = plugin;
  }
}

/** A driver was asked for something it declared it cannot do. */
export class CapabilityError extends VsperfError {
  readonly driver: string;
  readonly feature: string;
  constructor(driver: string, feature: string, detail?: string) {
    super('E_CAPABILITY', `${driver} does not support ${feature}${detail ? `: ${detail}` : ''}`, { kind: 'usage' });
    this.driver = driver;
    this.feature = feature;
  }
}

/** A driver operation failed; vendor errors are wrapped into this at the driver boundary. */
export class DriverError extends VsperfError {
  readonly driver: string;
  readonly operation: string;
  constructor(driver: string, operation: string, message: string, opts: { hint?: string; cause?: unknown; kind?: ExitKind } = {}) {
    super('E_DRIVER', `${driver} ${operation}: ${message}`, opts);
    this.driver = driver;
    this.operation = operation;
  }
}

/** The host lacks something we need (a binary, root, a kernel feature, a device). */
export class EnvironmentError extends VsperfError {
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super('E_ENV', message, { ...opts, kind: 'environment' });
  }
}

export class ProcessError extends VsperfError {
  readonly argv: readonly string[];
  readonly exitCode_: number | null;
  readonly stderrTail: string;
  constructor(argv: readonly string[], exitCode: number | null, stderrTail: string, signal?: string | null) {
    const how = signal ? `killed by ${signal}` : `exited with ${exitCode}`;
    const tail = stderrTail.trim().split('\n').slice(-3).join(' | ');
    super('E_PROCESS', `${argv.slice(0, 3).join(' ')}${argv.length > 3 ? ' …' : ''} ${how}${tail ? `: ${tail}` : ''}`);
    this.argv = argv;
    this.exitCode_ = exitCode;
    this.stderrTail = stderrTail;
  }
}

export class TimeoutError extends VsperfError {
  readonly operation: string;
  readonly ms: number;
  constructor(operation: string, ms: number, detail?: string) {
    super('E_TIMEOUT', `${operation} timed out after ${ms} ms${detail ? `: ${detail}` : ''}`);
    this.operation = operation;
    this.ms = ms;
  }
}

/** A results, report or export file could not be written (full disk, read-only directory…). */
export class OutputError extends VsperfError {
  readonly path: string;
  constructor(path: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException)?.code;
    super('E_OUTPUT', `cannot write ${path}: ${code ?? (cause as Error)?.message ?? String(cause)}`, {
      kind: 'environment',
      cause,
      ...(code === 'ENOSPC'
        ? { hint: 'the file system holding the results is full; free space or set RESULTS_PATH elsewhere' }
        : code === 'EACCES' || code === 'EROFS'
          ? { hint: 'the results directory is not writable' }
          : {}),
    });
    this.path = path;
  }
}

/** The run was aborted (SIGINT/SIGTERM or an AbortSignal). */
export class AbortedError extends VsperfError {
  constructor(reason = 'aborted') {
    super('E_ABORTED', reason);
  }
}

/**
 * A VsperfError from this copy of vsperf-ts or from the copy a plugin brought along (instanceof tells
 * only the former): recognised by its stable code and its one-line brief().
 */
export function isVsperfError(e: unknown): e is VsperfError {
  if (e instanceof VsperfError) return true;
  const o = e as { code?: unknown; brief?: unknown; exitCode?: unknown } | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.code === 'string' &&
    /^E_[A-Z0-9_]+$/.test(o.code) &&
    typeof o.brief === 'function' &&
    typeof o.exitCode === 'number'
  );
}

/** Message of any thrown value, for logs. */
export function errorMessage(e: unknown): string {
  if (e instanceof VsperfError) return e.brief();
  if (e instanceof Error) return e.message;
  return String(e);
}
