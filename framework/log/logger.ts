/** Minimal levelled logger; the CLI decides where lines go (stderr, progress line, file). */
export type LogLevel = 'debug' | 'info' | 'warning' | 'error' | 'critical';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warning: 30, error: 40, critical: 50 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  child(scope: string): Logger;
}

export type LogSink = (level: LogLevel, scope: string, msg: string) => void;

export function createLogger(sink: LogSink, minLevel: LogLevel = 'info', scope = 'vsperf'): Logger {
  const emit = (level: LogLevel, msg: string): void => {
    if (ORDER[level] >= ORDER[minLevel]) sink(level, scope, msg);
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warning', m),
    error: (m) => emit('error', m),
    child: (s) => createLogger(sink, minLevel, `${scope}.${s}`),
  };
}

/** A logger that drops everything (tests, library use). */
export const silentLogger: Logger = createLogger(() => undefined, 'critical');

export function isLogLevel(s: string): s is LogLevel {
  return s in ORDER;
}
