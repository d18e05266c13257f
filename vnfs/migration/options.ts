/** MIGRATION_* settings (conf/09_migration.json) as one typed object. */
import type { Settings, Json, JsonObject } from '../../framework/config/settings.js';
import { ConfigError } from '../../framework/errors.js';

export interface MigrationOptions {
  /** unix (a socket in the work dir) or tcp (127.0.0.1, free port). */
  readonly transport: 'unix' | 'tcp';
  /** Migration capabilities on both sides; events and return-path are always on. */
  readonly capabilities: Readonly<Record<string, boolean>>;
  /** migrate-set-parameters on both sides (downtime-limit, max-bandwidth, … plus MIGRATION_PARAMETERS). */
  readonly parameters: Readonly<Record<string, Json>>;
  readonly pollMs: number;
  readonly timeoutMs: number;
  readonly repeat: number;
  /** Traffic before the migration starts / after it completed (ms). */
  readonly warmupMs: number;
  readonly cooldownMs: number;
  /** Offered rate (fps per direction) during each migration. */
  readonly rateFps: number;
  /** 'traffic' = guest forwards MIGRATION_TRAFFIC_FPS; 'idle' = only the MIGRATION_PROBE_FPS probe. */
  readonly mode: 'traffic' | 'idle';
  readonly targetTotalMs: number;
  readonly targetDowntimeMs: number;
  /** Wait after the guest is ready before the first migration (ms). */
  readonly settleMs: number;
  /** Traffic in both directions during migration (default false). */
  readonly bidir: boolean;
  /**
   * Debug: the destination stays paused after each migration until source and destination guest RAM
   * were compared page by page (MIGRATION_VERIFY_RAM); the comparison time adds to the outage.
   */
  readonly verifyRam: boolean;
  /**
   * Peer-to-peer: the destination runs on another host and listens on this address and port (the
   * migration stream crosses the network: `tcp:ADDRESS:PORT`). Absent = both QEMUs on this host.
   */
  readonly peer?: { readonly address: string; readonly port: number };
  /** TCP port the destination listens on when it runs on another host (MIGRATION_PEER_PORT). */
  readonly peerPort?: number;
}

/** conf/09_migration.json's MIGRATION_DOWNTIME_LIMIT_MS, for settings without it. */
const DEFAULT_DOWNTIME_LIMIT_MS = 10;

function n(s: Settings, key: string, dflt: number, min = 0): number {
  if (!s.has(key)) return dflt;
  const v = s.get(key);
  const x = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(x) || x < min) throw new ConfigError(key, s.source(key), `must be a number ≥ ${min}, got ${JSON.stringify(v)}`);
  return x;
}

const ALLOWED_CAPS = [
  'xbzrle',
  'postcopy-ram',
  'auto-converge',
  'zero-blocks',
  'compress',
  'multifd',
  'validate-uuid',
  'x-ignore-shared',
  'zero-copy-send',
  'dirty-bitmaps',
  'late-block-activate',
  'pause-before-switchover',
];

export function migrationOptions(s: Settings): MigrationOptions {
  const transport = String(s.getOr('MIGRATION_TRANSPORT', 'unix'));
  if (transport !== 'unix' && transport !== 'tcp')
    throw new ConfigError('MIGRATION_TRANSPORT', s.source('MIGRATION_TRANSPORT'), `must be unix or tcp, got ${JSON.stringify(transport)}`);
  const capsIn = s.getOr('MIGRATION_CAPABILITIES', {}) as JsonObject;
  if (typeof capsIn !== 'object' || capsIn === null || Array.isArray(capsIn))
    throw new ConfigError('MIGRATION_CAPABILITIES', s.source('MIGRATION_CAPABILITIES'), 'must be an object {capability: boolean}');
  const capabilities: Record<string, boolean> = { events: true, 'return-path': true };
  for (const [k, v] of Object.entries(capsIn)) {
    if (typeof v !== 'boolean')
      throw new ConfigError(`MIGRATION_CAPABILITIES.${k}`, s.source('MIGRATION_CAPABILITIES'), `must be true or false, got ${JSON.stringify(v)}`);
    if (!ALLOWED_CAPS.includes(k) && k !== 'events' && k !== 'return-path') {
      throw new ConfigError(
        `MIGRATION_CAPABILITIES.${k}`,
        s.source('MIGRATION_CAPABILITIES'),
        `unknown migration capability (known: ${ALLOWED_CAPS.join(', ')})`,
      );
    }
    if (k === 'events' || k === 'return-path') continue;
    capabilities[k] = v;
  }
  const extra = s.getOr('MIGRATION_PARAMETERS', {}) as JsonObject;
  if (typeof extra !== 'object' || extra === null || Array.isArray(extra))
    throw new ConfigError('MIGRATION_PARAMETERS', s.source('MIGRATION_PARAMETERS'), 'must be an object of migrate-set-parameters members');
  // QEMU switches over once the pending RAM fits in downtime-limit at the measured bandwidth. Under TCG on
  // a shared core that bandwidth is ~50 MB/s, so 100 ms let 2-7 MB (the tail of the first pass) go after
  // STOP, 10-36 ms of the switch-over; 10 ms sends it while the guest still runs (docs/migration.md, session 9).
  const parameters: Record<string, Json> = { 'downtime-limit': n(s, 'MIGRATION_DOWNTIME_LIMIT_MS', DEFAULT_DOWNTIME_LIMIT_MS, 1) };
  const bw = n(s, 'MIGRATION_MAX_BANDWIDTH', 0);
  if (bw > 0) parameters['max-bandwidth'] = Math.round(bw);
  Object.assign(parameters, extra);
  const probe = n(s, 'MIGRATION_PROBE_FPS', 0);
  const traffic = n(s, 'MIGRATION_TRAFFIC_FPS', 1000);
  const mode = probe > 0 ? 'idle' : 'traffic';
  const rateFps = mode === 'idle' ? probe : traffic;
  if (rateFps <= 0)
    throw new ConfigError('MIGRATION_TRAFFIC_FPS', s.source('MIGRATION_TRAFFIC_FPS'), 'must be > 0 (the data-plane outage is measured on this traffic)');
  return {
    transport,
    capabilities,
    parameters,
    pollMs: n(s, 'MIGRATION_POLL_MS', 20, 1),
    timeoutMs: n(s, 'MIGRATION_TIMEOUT_S', 60, 1) * 1000,
    repeat: Math.max(1, Math.round(n(s, 'MIGRATION_REPEAT', 3, 1))),
    warmupMs: n(s, 'MIGRATION_WARMUP_S', 1) * 1000,
    cooldownMs: n(s, 'MIGRATION_COOLDOWN_S', 1) * 1000,
    rateFps,
    mode,
    targetTotalMs: n(s, 'MIGRATION_TARGET_TOTAL_MS', 2000, 0),
    targetDowntimeMs: n(s, 'MIGRATION_TARGET_DOWNTIME_MS', 10, 0),
    settleMs: n(s, 'MIGRATION_SETTLE_S', 0) * 1000,
    bidir: /^(true|yes|1)$/i.test(String(s.getOr('MIGRATION_BIDIR', false))),
    verifyRam: /^(true|yes|1)$/i.test(String(s.getOr('MIGRATION_VERIFY_RAM', false))),
    peerPort: peerPort(s),
  };
}

function peerPort(s: Settings): number {
  const p = n(s, 'MIGRATION_PEER_PORT', 4444, 1);
  if (!Number.isInteger(p) || p > 65535) throw new ConfigError('MIGRATION_PEER_PORT', s.source('MIGRATION_PEER_PORT'), `must be a TCP port, got ${p}`);
  return p;
}
