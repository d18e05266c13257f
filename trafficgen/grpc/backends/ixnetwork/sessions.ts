/**
 * Crash-safe IxNetwork API sessions. Every session a shim creates on a Linux API server is named
 * `vsperf-tgshim/<shim name>/<host>/<pid>/<instance>` (restpy sets a session's name with
 * `PATCH /api/v1/sessions/{id} {"sessionName": …}`, testplatform/sessions/sessions.py). A shim that
 * starts (or is asked by CleanupStale) lists `GET /api/v1/sessions`, picks the sessions carrying its own
 * name and host whose process is gone, stops their traffic and deletes them, so a `kill -9` never leaves
 * traffic running on the chassis past the next start.
 */
import { hostname } from 'node:os';

export const TAG_ROOT = 'vsperf-tgshim';

export interface SessionTag {
  readonly name: string;
  readonly host: string;
  readonly pid: number;
  readonly instance: string;
}

/** Host names may hold dots and dashes but never the separator. */
const clean = (s: string): string => s.replace(/[^A-Za-z0-9._-]/g, '_');

export function formatTag(t: SessionTag): string {
  return `${TAG_ROOT}/${clean(t.name)}/${clean(t.host)}/${t.pid}/${t.instance}`;
}

export function parseTag(s: unknown): SessionTag | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /^vsperf-tgshim\/([^/]+)\/([^/]+)\/(\d+)\/([^/]+)$/.exec(s);
  return m ? { name: m[1]!, host: m[2]!, pid: Number(m[3]), instance: m[4]! } : undefined;
}

export function ownTag(name: string, instance: string): SessionTag {
  return { name: clean(name), host: clean(hostname()), pid: process.pid, instance };
}

/** True when a process with this pid exists on this host. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Is the session tagged `tag` left behind by a dead earlier instance of the shim `me`? Same name and
 * host, another instance, and its process gone (a live pid with another instance id is another shim
 * running now, or a reused pid: only our own pid with another instance is ours for sure).
 */
export function isStale(tag: SessionTag | undefined, me: SessionTag, alive: (pid: number) => boolean = pidAlive): boolean {
  if (!tag || tag.name !== me.name || tag.host !== me.host || tag.instance === me.instance) return false;
  return tag.pid === me.pid || !alive(tag.pid);
}
