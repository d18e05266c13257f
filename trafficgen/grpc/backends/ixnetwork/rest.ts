/**
 * A small IxNetwork REST client: JSON over http(s), `X-Api-Key`, 307/308 redirects followed with the
 * same method and body, `{"errors":[{"detail"}]}` error bodies, and async operations
 * (`POST <node>/operations/<op>` → 202 + status object polled until state ≠ IN_PROGRESS).
 * Sources of each behaviour are listed in docs/ixia.md ("REST calls and field paths").
 *
 * Links: the Linux API server may answer with absolute links
 * (`https://host/ixnetworkweb/api/v1/sessions/7/...`); every href this client hands out is reduced to
 * the server-relative `/api/v1/...` form, which is what operation arguments must carry (restpy's
 * Connection._normalize_url treats anything not starting with the scheme as relative to the API root;
 * OpenIxia/IxNetwork IxNetRestApi.py strips `ixnetworkweb/`).
 *
 * Redirects keep method and body (restpy re-sends to Location itself, connection.py `_send_recv`), but a
 * redirect to another origin drops the API key, never carries a login body, and https→http is refused.
 */
import { sleep as hostSleep } from '../../../../framework/host/proc.js';
import * as http from 'node:http';
import * as https from 'node:https';
import { AbortedError, errorMessage } from '../../../../framework/errors.js';
import type { Logger } from '../../../../framework/log/logger.js';
import { silentLogger } from '../../../../framework/log/logger.js';

export class IxRestError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly detail: string,
  ) {
    super(`${method} ${path}: HTTP ${status}: ${detail}`);
    this.name = 'IxRestError';
  }
}

/** An async operation ended in ERROR or EXCEPTION. */
export class IxOperationError extends Error {
  constructor(
    readonly operation: string,
    readonly state: string,
    readonly detail: string,
  ) {
    super(`operation ${operation} ended in ${state}: ${detail}`);
    this.name = 'IxOperationError';
  }
}

export interface IxRestOptions {
  /** scheme://host:port */
  readonly baseUrl: string;
  /** Verify the server against this CA (IxNetwork's certificate is self-signed); default: system CAs. */
  readonly caPem?: Buffer;
  /** Do not verify the server's certificate at all (--insecure). */
  readonly insecure?: boolean;
  readonly apiKey?: string;
  /** Poll interval of async operations (ms). */
  readonly pollMs?: number;
  readonly timeoutMs?: number;
  readonly log?: Logger;
}

export interface IxResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers: http.IncomingHttpHeaders;
}

interface OpStatus {
  id?: string | number;
  state?: string;
  progress?: number;
  message?: string | null;
  url?: string;
  result?: unknown;
}

export class IxRest {
  apiKey: string | undefined;
  private readonly base: URL;
  private readonly log: Logger;
  readonly pollMs: number;
  /** Requests sent (for tests and diagnostics). */
  requests = 0;

  constructor(private readonly opts: IxRestOptions) {
    this.base = new URL(opts.baseUrl);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') throw new Error(`IxNetwork URL ${opts.baseUrl} must be http(s)`);
    this.apiKey = opts.apiKey;
    this.log = opts.log ?? silentLogger;
    this.pollMs = opts.pollMs ?? 1000;
  }

  /** One request; follows up to 5 redirects keeping method and body. Non-2xx → IxRestError. */
  async request(
    method: string,
    path: string,
    body?: unknown,
    o: { timeoutMs?: number; signal?: AbortSignal; allowStatus?: number[]; credentialsInBody?: boolean } = {},
  ): Promise<IxResponse> {
    let url = new URL(path, this.base);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    let sendKey = true;
    for (let hop = 0; hop < 6; hop++) {
      const res = await this.once(method, url, payload, { ...o, sendKey });
      if ((res.status === 307 || res.status === 308) && typeof res.headers.location === 'string') {
        const next = new URL(res.headers.location, url);
        if (url.protocol === 'https:' && next.protocol !== 'https:') {
          throw new IxRestError(
            method,
            url.pathname,
            res.status,
            `refusing a redirect from https to ${next.protocol}//${next.host} (credentials would travel in clear)`,
          );
        }
        if (next.origin !== this.base.origin) {
          if (o.credentialsInBody) throw new IxRestError(method, url.pathname, res.status, `refusing to send the login to another origin ${next.origin}`);
          // The API key belongs to the configured server; another origin never sees it (as browsers and curl do).
          sendKey = false;
          this.log.warn(`${method} ${url.pathname} redirected to another origin ${next.origin}; the API key is not sent there`);
        }
        url = next;
        this.log.debug(`${method} redirected to ${url.pathname}`);
        continue;
      }
      if ((res.status < 200 || res.status >= 300) && !(o.allowStatus ?? []).includes(res.status)) {
        throw new IxRestError(method, url.pathname + url.search, res.status, IxRest.errorDetail(res.body));
      }
      return res;
    }
    throw new IxRestError(method, path, 310, 'too many redirects');
  }

  static errorDetail(body: unknown): string {
    if (body && typeof body === 'object') {
      const b = body as { errors?: Array<{ detail?: string }>; message?: string };
      const details = (b.errors ?? []).map((e) => e.detail).filter((d): d is string => typeof d === 'string');
      if (details.length) return details.join('; ');
      if (typeof b.message === 'string') return b.message;
    }
    return typeof body === 'string' ? body.slice(0, 300) : (JSON.stringify(body)?.slice(0, 300) ?? '');
  }

  private once(method: string, url: URL, payload: Buffer | undefined, o: { timeoutMs?: number; signal?: AbortSignal; sendKey?: boolean }): Promise<IxResponse> {
    this.requests++;
    const mod = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(payload.length);
    }
    if (this.apiKey && o.sendKey !== false) headers['X-Api-Key'] = this.apiKey;
    return new Promise((resolve, reject) => {
      if (o.signal?.aborted) return reject(new AbortedError(`${method} ${url.pathname} aborted`));
      const req = mod.request(
        url,
        {
          method,
          headers,
          timeout: o.timeoutMs ?? this.opts.timeoutMs ?? 90_000,
          ...(url.protocol === 'https:' ? (this.opts.insecure ? { rejectUnauthorized: false } : this.opts.caPem ? { ca: this.opts.caPem } : {}) : {}),
          ...(o.signal ? { signal: o.signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = text;
            if (text && /json/.test(res.headers['content-type'] ?? '')) {
              try {
                body = JSON.parse(text);
              } catch {
                body = text;
              }
            } else if (!text) body = undefined;
            resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: no answer within ${o.timeoutMs ?? this.opts.timeoutMs ?? 90_000} ms`)));
      req.on('error', (e) =>
        reject(o.signal?.aborted ? new AbortedError(`${method} ${url.pathname} aborted`) : new Error(`${method} ${url.href}: ${errorMessage(e)}`)),
      );
      req.end(payload);
    });
  }

  async get<T = unknown>(path: string, o: { signal?: AbortSignal } = {}): Promise<T> {
    return (await this.request('GET', path, undefined, o)).body as T;
  }

  async patch(path: string, body: unknown): Promise<void> {
    await this.request('PATCH', path, body);
  }

  async delete(path: string): Promise<void> {
    await this.request('DELETE', path);
  }

  /** POST that creates an object; returns its href from `links[0].href` (also when wrapped in a list). */
  async create(path: string, body: unknown): Promise<string> {
    const res = await this.request('POST', path, body);
    const b = Array.isArray(res.body) ? res.body[0] : res.body;
    const href = (b as { links?: Array<{ href?: string }> } | undefined)?.links?.[0]?.href;
    if (typeof href === 'string') return toRef(href);
    const id = (b as { id?: string | number } | undefined)?.id;
    if (id !== undefined) return `${path.replace(/\/$/, '')}/${id}`;
    throw new IxRestError('POST', path, res.status, `create returned no links: ${JSON.stringify(res.body)?.slice(0, 200)}`);
  }

  /**
   * Run an operation (`<node>/operations/<name>`) to completion and return its result ("kVoid" →
   * undefined). ERROR/EXCEPTION → IxOperationError with the server's message.
   */
  async operation(path: string, args: Record<string, unknown> = {}, o: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<unknown> {
    const opName = path.split('/').pop() ?? path;
    const timeoutMs = o.timeoutMs ?? 120_000;
    const t0 = Date.now();
    const res = await this.request('POST', path, args, o.signal ? { signal: o.signal } : {});
    let st = (res.body ?? {}) as OpStatus;
    while (st.state === 'IN_PROGRESS' || (res.status === 202 && st.state === undefined)) {
      if (Date.now() - t0 > timeoutMs) throw new IxOperationError(opName, 'TIMEOUT', `still IN_PROGRESS after ${timeoutMs} ms`);
      await sleep(this.pollMs, o.signal);
      const pollPath = st.url ? toRef(st.url) : `${path}/${st.id}`;
      st = (await this.get<OpStatus>(pollPath, o.signal ? { signal: o.signal } : {})) ?? {};
    }
    if (st.state === 'ERROR' || st.state === 'EXCEPTION') {
      const detail = st.message ?? (typeof st.result === 'string' ? st.result : JSON.stringify(st.result));
      throw new IxOperationError(opName, st.state, detail ?? 'no message');
    }
    return st.result === 'kVoid' ? undefined : refsIn(st.result);
  }
}

/**
 * The server-relative form of an href: `https://host:443/ixnetworkweb/api/v1/x` → `/api/v1/x`. Operation
 * arguments and later requests use this form whatever link style the server answers with.
 */
export function toRef(href: string): string {
  let p = href;
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/]*(\/.*)?$/i.exec(p);
  if (m) p = m[1] ?? '/';
  p = p.replace(/^\/ixnetworkweb(?=\/api\/)/, '');
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

/** toRef of every href-like string in a JSON value (operation results such as assignports' vport list). */
export function refsIn(v: unknown): unknown {
  if (typeof v === 'string') return /^(?:[a-z]+:\/\/[^/]*)?(?:\/ixnetworkweb)?\/api\/v1\//i.test(v) ? toRef(v) : v;
  if (Array.isArray(v)) return v.map(refsIn);
  return v;
}

/** The host's sleep, ending with an AbortedError whatever the abort reason (the backend's callers match it). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return hostSleep(ms, signal).catch((e: unknown) => {
    throw signal?.aborted ? new AbortedError('aborted') : e;
  });
}
