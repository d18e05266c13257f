/**
 * The port-ownership lease on disk, so it holds across a shim restart: a shim that was killed while a
 * client owned the ports comes back still refusing other clients until that lease would have expired,
 * and answers the lost session id with a clear NOT_FOUND. One small JSON file per shim (name + listen
 * address) in the state directory; written on Reserve and Renew, removed when the session ends.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

export interface LeaseRecord {
  readonly sessionId: string;
  readonly clientName: string;
  readonly leaseS: number;
  /** Epoch ms of the client's last call. */
  readonly lastSeenMs: number;
}

export function leaseExpiresMs(r: LeaseRecord): number {
  return r.lastSeenMs + r.leaseS * 1000;
}

export class LeaseFile {
  constructor(readonly path: string) {}

  /** The record, when one is there, well-formed and not yet expired. */
  read(now = Date.now()): LeaseRecord | undefined {
    let v: unknown;
    try {
      v = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch {
      return undefined;
    }
    const r = v as Partial<LeaseRecord>;
    if (typeof r.sessionId !== 'string' || typeof r.clientName !== 'string' || typeof r.leaseS !== 'number' || typeof r.lastSeenMs !== 'number')
      return undefined;
    return leaseExpiresMs(r as LeaseRecord) > now ? (r as LeaseRecord) : undefined;
  }

  write(r: LeaseRecord): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(r), { mode: 0o600 });
    renameSync(tmp, this.path);
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }
}
