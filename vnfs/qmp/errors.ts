/**
 * QMP error tree (after qemu.qmp's error.py), rooted in VsperfError so the CLI prints one line:
 *   QmpError → QmpConnectError · QmpProtocolError · QmpCommandError · QmpInterruptedError ·
 *              QmpStateError · QmpTimeoutError
 */
import { VsperfError } from '../../framework/errors.js';

export class QmpError extends VsperfError {
  constructor(code: string, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(code, message, opts);
  }
}

/** Connecting, reading the greeting or negotiating capabilities failed; `cause` has the root error. */
export class QmpConnectError extends QmpError {
  readonly path: string;
  constructor(path: string, reason: string, opts: { cause?: unknown; hint?: string } = {}) {
    super('E_QMP_CONNECT', `QMP connect to ${path} failed: ${reason}`, opts);
    this.path = path;
  }
}

/** The peer sent something that is not QMP (bad JSON, unknown shape, over-long line, error without id). */
export class QmpProtocolError extends QmpError {
  /** Excerpt of the offending line (≤ 200 characters). */
  readonly excerpt: string;
  constructor(reason: string, raw = '') {
    const excerpt = raw.length > 200 ? `${raw.slice(0, 200)}…` : raw;
    super('E_QMP_PROTOCOL', `QMP protocol error: ${reason}${excerpt ? `: ${JSON.stringify(excerpt)}` : ''}`);
    this.excerpt = excerpt;
  }
}

/** QEMU answered a command with an error. */
export class QmpCommandError extends QmpError {
  readonly command: string;
  readonly errorClass: string;
  readonly desc: string;
  readonly sent: unknown;
  readonly received: unknown;
  constructor(command: string, errorClass: string, desc: string, sent?: unknown, received?: unknown) {
    super('E_QMP_COMMAND', `QMP ${command} failed: ${errorClass}: ${desc}`);
    this.command = command;
    this.errorClass = errorClass;
    this.desc = desc;
    this.sent = sent;
    this.received = received;
  }
}

/** The session ended (EOF, socket error, protocol error, close()) while a call was outstanding. */
export class QmpInterruptedError extends QmpError {
  readonly command: string;
  constructor(command: string, reason: string, opts: { cause?: unknown } = {}) {
    super('E_QMP_INTERRUPTED', `QMP ${command} interrupted: ${reason}`, opts);
    this.command = command;
  }
}

/** A method was called in a state that does not allow it ("execute while idle"). */
export class QmpStateError extends QmpError {
  readonly operation: string;
  readonly state: string;
  constructor(operation: string, state: string) {
    super('E_QMP_STATE', `QMP ${operation} is not valid while the client is ${state}`);
    this.operation = operation;
    this.state = state;
  }
}

/** No reply (or event) within the deadline. */
export class QmpTimeoutError extends QmpError {
  readonly command: string;
  readonly ms: number;
  constructor(command: string, ms: number) {
    super('E_QMP_TIMEOUT', `QMP ${command} got no answer within ${ms} ms`);
    this.command = command;
    this.ms = ms;
  }
}
