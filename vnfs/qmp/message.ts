/**
 * QMP message shapes and their classification. Every line from the server is exactly one of: the
 * greeting, a command's return, a command's error, or an asynchronous event. Anything else is a
 * QmpProtocolError.
 */
import { QmpProtocolError } from './errors.js';

export interface QmpVersion {
  readonly major: number;
  readonly minor: number;
  readonly micro: number;
  readonly package: string;
}

export type QmpMessage =
  | { readonly kind: 'greeting'; readonly version: QmpVersion; readonly capabilities: readonly string[] }
  | { readonly kind: 'return'; readonly id?: string; readonly value: unknown }
  | { readonly kind: 'error'; readonly id?: string; readonly errorClass: string; readonly desc: string; readonly raw: unknown }
  | { readonly kind: 'event'; readonly event: string; readonly data: Record<string, unknown>; readonly qemuTsUs: number };

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function idOf(m: Record<string, unknown>): string | undefined {
  const id = m.id;
  if (id === undefined) return undefined;
  return typeof id === 'string' ? id : JSON.stringify(id);
}

export function parseMessage(line: string): QmpMessage {
  let m: unknown;
  try {
    m = JSON.parse(line);
  } catch {
    throw new QmpProtocolError('not JSON', line);
  }
  if (!isObj(m)) throw new QmpProtocolError('not a JSON object', line);
  if ('QMP' in m) {
    const q = m.QMP;
    if (!isObj(q) || !isObj(q.version) || !isObj(q.version.qemu)) throw new QmpProtocolError('greeting without QMP.version.qemu', line);
    const v = q.version.qemu;
    if (typeof v.major !== 'number' || typeof v.minor !== 'number' || typeof v.micro !== 'number') {
      throw new QmpProtocolError('greeting version is not numeric', line);
    }
    const caps = Array.isArray(q.capabilities) ? q.capabilities.map(String) : [];
    return {
      kind: 'greeting',
      version: { major: v.major, minor: v.minor, micro: v.micro, package: typeof q.version.package === 'string' ? q.version.package : '' },
      capabilities: caps,
    };
  }
  if ('event' in m) {
    if (typeof m.event !== 'string') throw new QmpProtocolError('event name is not a string', line);
    const ts = m.timestamp;
    if (!isObj(ts) || typeof ts.seconds !== 'number' || typeof ts.microseconds !== 'number') {
      throw new QmpProtocolError(`event ${m.event} without timestamp`, line);
    }
    return { kind: 'event', event: m.event, data: isObj(m.data) ? m.data : {}, qemuTsUs: ts.seconds * 1e6 + ts.microseconds };
  }
  if ('return' in m) {
    const id = idOf(m);
    return id === undefined ? { kind: 'return', value: m.return } : { kind: 'return', id, value: m.return };
  }
  if ('error' in m) {
    const e = m.error;
    if (!isObj(e)) throw new QmpProtocolError('error member is not an object', line);
    const id = idOf(m);
    const base = { kind: 'error' as const, errorClass: String(e.class ?? 'GenericError'), desc: String(e.desc ?? ''), raw: m };
    return id === undefined ? base : { ...base, id };
  }
  throw new QmpProtocolError('message is neither greeting, return, error nor event', line);
}
