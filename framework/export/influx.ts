/** Export a run to InfluxDB 1.x: line protocol into a file and/or POSTed to /write. */
import { VsperfError } from '../errors.js';
import type { RunResults } from '../results/types.js';
import { writeFileAtomic } from '../report/index.js';
import { runToPoints, toLineProtocol, type ExportOptions } from './line-protocol.js';

export class ExportError extends VsperfError {
  readonly target: string;
  constructor(target: string, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super('E_EXPORT', `InfluxDB export to ${target}: ${message}`, { ...opts, kind: 'environment' });
    this.target = target;
  }
}

export interface InfluxTarget {
  /** Base URL, e.g. http://127.0.0.1:8086 */
  readonly url: string;
  readonly db: string;
  readonly user?: string;
  readonly password?: string;
  readonly timeoutMs?: number;
  /** Issue CREATE DATABASE first (idempotent in InfluxDB 1.x). */
  readonly createDb?: boolean;
}

function endpoint(t: InfluxTarget, path: string, params: Record<string, string>): URL {
  let u: URL;
  try {
    u = new URL(path, t.url.endsWith('/') ? t.url : `${t.url}/`);
  } catch (e) {
    throw new ExportError(t.url, 'not a valid URL', { hint: 'INFLUXDB_URL looks like http://host:8086', cause: e });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ExportError(t.url, `unsupported scheme ${u.protocol}`);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  if (t.user) {
    u.searchParams.set('u', t.user);
    u.searchParams.set('p', t.password ?? '');
  }
  return u;
}

async function post(t: InfluxTarget, url: URL, body: string, contentType: string): Promise<Response> {
  const safe = `${url.origin}${url.pathname}`;
  try {
    return await fetch(url, { method: 'POST', body, headers: { 'content-type': contentType }, signal: AbortSignal.timeout(t.timeoutMs ?? 10_000) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
    throw new ExportError(safe, `request failed (${cause})`, { hint: 'is InfluxDB running and INFLUXDB_URL right?', cause: e });
  }
}

/** Run an InfluxQL statement (used for CREATE DATABASE and by tests to read back). */
export async function influxQuery(t: InfluxTarget, q: string, db?: string): Promise<unknown> {
  const url = endpoint(t, 'query', { q, ...(db ? { db } : {}) });
  const res = await post(t, url, '', 'application/x-www-form-urlencoded');
  const text = await res.text();
  if (!res.ok) throw new ExportError(`${url.origin}${url.pathname}`, `HTTP ${res.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text) as unknown;
}

/** POST line protocol in batches; returns the number of lines written. */
export async function writeLines(t: InfluxTarget, lineProtocol: string, batch = 5000): Promise<number> {
  if (t.createDb !== false) await influxQuery(t, `CREATE DATABASE "${t.db.replace(/["\\]/g, '')}"`);
  const lines = lineProtocol.split('\n').filter(Boolean);
  for (let i = 0; i < lines.length; i += batch) {
    const url = endpoint(t, 'write', { db: t.db, precision: 'ns' });
    const res = await post(t, url, lines.slice(i, i + batch).join('\n') + '\n', 'text/plain; charset=utf-8');
    if (res.status !== 204) {
      const text = await res.text();
      throw new ExportError(`${url.origin}${url.pathname}`, `HTTP ${res.status}: ${text.slice(0, 300)}`);
    }
  }
  return lines.length;
}

export interface ExportResult {
  readonly lines: number;
  readonly file?: string;
  readonly url?: string;
}

export async function exportRun(results: RunResults, opts: ExportOptions & { file?: string; target?: InfluxTarget }): Promise<ExportResult> {
  const lp = toLineProtocol(runToPoints(results, opts));
  const lines = lp ? lp.split('\n').length - 1 : 0;
  if (opts.file) writeFileAtomic(opts.file, lp);
  if (opts.target) await writeLines(opts.target, lp);
  return { lines, ...(opts.file ? { file: opts.file } : {}), ...(opts.target ? { url: opts.target.url } : {}) };
}
