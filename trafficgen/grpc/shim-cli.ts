/**
 * `vsperf-tgshim`: the shim server program. Runs next to the traffic generator and serves tgshim.v1.
 *
 *   vsperf-tgshim --backend software --generator Software --listen 127.0.0.1:50551
 *   vsperf-tgshim --backend ixnetwork --ixnet-host 10.0.0.5 --listen 0.0.0.0:50551 \
 *       --tls-cert shim.crt --tls-key shim.key --token-file token
 *
 * Prints one JSON line `{"event":"listening","port":N}` on stdout when it serves; logs go to stderr.
 * SIGINT/SIGTERM stop it gracefully (running traffic is stopped, ports released).
 */
import { Registry } from '../../framework/registry/registry.js';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { UsageError, errorMessage, isVsperfError } from '../../framework/errors.js';
import { Settings, deepMerge, isPlainObject, type JsonObject } from '../../framework/config/settings.js';
import { createLogger, isLogLevel, type LogLevel, type Logger } from '../../framework/log/logger.js';
import { ShimServer, splitAddress, type ShimBackend } from './server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path}: ${errorMessage(e)}`);
  }
}

/** conf/NN_*.json of the package in name order, then each --conf-file: the generator's settings. */
export function loadShimSettings(confFiles: readonly string[], confDir = join(ROOT, 'conf')): Settings {
  let values: JsonObject = {};
  const prov = new Map<string, string>();
  const files = existsSync(confDir)
    ? readdirSync(confDir)
        .filter((f) => /^\d\d_.*\.json$/.test(f))
        .sort()
        .map((f) => join(confDir, f))
    : [];
  for (const f of [...files, ...confFiles]) {
    let v: unknown;
    try {
      v = JSON.parse(readText(f, 'conf file'));
    } catch (e) {
      throw new UsageError(`conf file ${f} is not valid JSON: ${errorMessage(e)}`);
    }
    if (!isPlainObject(v)) throw new UsageError(`conf file ${f} must hold a JSON object`);
    values = deepMerge(values, v);
    for (const k of Object.keys(v)) prov.set(k, f);
  }
  return new Settings(values, prov);
}

/**
 * The lease file of the shim `name` listening on `listen`: a restart with the same name and address is
 * the same shim. A shim on port 0 (any free port) cannot be found again, so it keeps no lease file.
 */
async function leaseFileFor(name: string, listen: string): Promise<{ leaseFile?: import('./lease-file.js').LeaseFile }> {
  const { host, port } = splitAddress(listen);
  if (port === 0) return {};
  const { LeaseFile } = await import('./lease-file.js');
  const { stateDir } = await import('../../framework/host/journal.js');
  const { makeDirectory } = await import('../../framework/host/paths.js');
  makeDirectory('state directory (VSPERF_STATE_DIR)', stateDir());
  return { leaseFile: new LeaseFile(join(stateDir(), `tgshim-lease-${name}-${host.replace(/[^A-Za-z0-9.]/g, '_')}_${port}.json`)) };
}

interface ShimOptions {
  listen: string;
  backend: 'software' | 'ixnetwork';
  generator: string;
  confFile: string[];
  plugin: string[];
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  tokenFile?: string;
  leaseS: string;
  holdLimitS: string;
  workDir: string;
  logLevel: string;
  ixnetUrl?: string;
  ixnetPlatform: 'linux' | 'windows';
  ixnetUser: string;
  ixnetPasswordFile?: string;
  ixnetApiKeyFile?: string;
  ixnetCa?: string;
  ixnetPollMs: string;
  insecure?: boolean;
  ixnetLatencyMode?: string;
  name: string;
}

function buildProgram(): Command {
  return new Command('vsperf-tgshim')
    .description('tgshim.v1 gRPC server: runs traffic-generator trials for a remote vsperf (Ixia driver)')
    .option('--listen <host:port>', 'address to serve on (port 0 = any free port)', '127.0.0.1:50551')
    .addOption(new Option('--backend <kind>', 'generator backend').choices(['software', 'ixnetwork']).default('software'))
    .option('--generator <name>', 'software backend: registered trafficgen to wrap', 'Software')
    .option('--conf-file <path...>', 'software backend: settings files for the wrapped generator', [])
    .option('--plugin <spec...>', 'software backend: plugin packages/files that register more generators', [])
    .option('--tls-cert <path>', 'server certificate (PEM)')
    .option('--tls-key <path>', 'server private key (PEM)')
    .option('--tls-client-ca <path>', 'require client certificates signed by this CA (PEM)')
    .option('--token-file <path>', 'file holding the bearer token clients must send (≥ 16 characters)')
    .option('--lease-s <n>', 'default session lease (s)', '60')
    .option('--hold-limit-s <n>', "longest a trial's ports wait for the client's ReleaseTrial (s, 1..25)", '20')
    .option('--work-dir <dir>', 'scratch directory', join(tmpdir(), `vsperf-tgshim-${process.pid}`))
    .option('--log-level <level>', 'debug|info|warning|error', 'info')
    .option('--ixnet-url <url>', 'ixnetwork backend: API server base URL, e.g. https://10.0.0.5:443')
    .addOption(new Option('--ixnet-platform <p>', 'ixnetwork backend: API server flavour').choices(['linux', 'windows']).default('linux'))
    .option('--ixnet-user <name>', 'ixnetwork backend: user (Linux API server)', 'admin')
    .option('--ixnet-password-file <path>', 'ixnetwork backend: file holding the password')
    .option('--ixnet-api-key-file <path>', 'ixnetwork backend: file holding an existing API key')
    .option('--ixnet-ca <path>', "ixnetwork backend: CA that signed the API server's certificate (IxNetwork's own is self-signed; default: system CAs)")
    .option('--insecure', "ixnetwork backend: do not verify the API server's TLS certificate (warned; prefer --ixnet-ca)")
    .addOption(
      new Option(
        '--ixnet-latency-mode <mode>',
        'ixnetwork backend: latency measurement mode (default: TRAFFICGEN_IXNET_LATENCY_MODE of the settings, storeForward)',
      ).choices(['storeForward', 'cutThrough', 'mef', 'forwardingDelay']),
    )
    .option(
      '--name <name>',
      "name of this shim: a restarted shim of the same name (and, for the lease, listen address) cleans up the IxNetwork sessions a dead one left and keeps its client's lease; give distinct shims on one host distinct names",
      'default',
    )
    .option('--ixnet-poll-ms <n>', 'ixnetwork backend: async operation poll interval (ms)', '1000')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
}

/** Option combinations commander cannot check; the token and lease they give. */
function checkOptions(o: ShimOptions): { token?: string; leaseS: number; holdLimitS: number } {
  if (!!o.tlsCert !== !!o.tlsKey) throw new UsageError('--tls-cert and --tls-key go together');
  if (o.tlsClientCa && !o.tlsCert) throw new UsageError('--tls-client-ca needs --tls-cert and --tls-key');
  const token = o.tokenFile ? readText(o.tokenFile, 'token file').trim() : undefined;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(o.name)) throw new UsageError(`--name "${o.name}": use 1-64 letters, digits, '.', '_' or '-'`);
  const leaseS = Number(o.leaseS);
  if (!Number.isInteger(leaseS) || leaseS < 1 || leaseS > 3600) throw new UsageError(`--lease-s ${o.leaseS}: must be an integer 1..3600`);
  const holdLimitS = Number(o.holdLimitS);
  if (!Number.isInteger(holdLimitS) || holdLimitS < 1 || holdLimitS > 25) throw new UsageError(`--hold-limit-s ${o.holdLimitS}: must be an integer 1..25`);
  return { ...(token !== undefined ? { token } : {}), leaseS, holdLimitS };
}

/** The generator side: the software backend wraps a registered generator, the ixnetwork one an IxNetwork API server. */
async function createBackend(o: ShimOptions, log: Logger, roots: ShimRoots): Promise<ShimBackend> {
  if (o.backend === 'software') {
    const { SoftwareBackend, cleanupDeadShims } = await import('./backends/software.js');
    await cleanupDeadShims(log);
    const registry = new Registry();
    roots.registerBuiltins(registry);
    if (o.plugin.length) {
      const { loadPlugin } = await import('../../framework/registry/plugin-loader.js');
      for (const p of o.plugin) await loadPlugin(p, registry);
    }
    return new SoftwareBackend({ generator: o.generator, settings: loadShimSettings(o.confFile), log: log.child('software'), workDir: o.workDir, registry });
  } else {
    if (!o.ixnetUrl) throw new UsageError('--backend ixnetwork needs --ixnet-url');
    const { IxNetworkBackend, LATENCY_MODES } = await import('./backends/ixnetwork/backend.js');
    const mode = o.ixnetLatencyMode ?? loadShimSettings(o.confFile).getOr<string>('TRAFFICGEN_IXNET_LATENCY_MODE', 'storeForward');
    if (!(LATENCY_MODES as readonly string[]).includes(mode))
      throw new UsageError(`TRAFFICGEN_IXNET_LATENCY_MODE "${mode}" is not one of ${LATENCY_MODES.join(', ')}`);
    if (o.insecure) log.warn(`--insecure: the certificate of ${o.ixnetUrl} is not verified; anyone on the path can read the IxNetwork credentials`);
    return new IxNetworkBackend({
      latencyMode: mode as (typeof LATENCY_MODES)[number],
      shimName: o.name,
      ...(o.insecure ? { insecure: true } : {}),
      baseUrl: o.ixnetUrl,
      platform: o.ixnetPlatform,
      user: o.ixnetUser,
      ...(o.ixnetPasswordFile ? { password: readText(o.ixnetPasswordFile, 'password file').trim() } : {}),
      ...(o.ixnetApiKeyFile ? { apiKey: readText(o.ixnetApiKeyFile, 'API key file').trim() } : {}),
      ...(o.ixnetCa ? { caPem: Buffer.from(readText(o.ixnetCa, 'CA file')) } : {}),
      pollMs: Number(o.ixnetPollMs),
      log: log.child('ixnetwork'),
    });
  }
}

function createServer(
  o: ShimOptions,
  backend: ShimBackend,
  auth: { token?: string; leaseS: number; holdLimitS: number },
  log: Logger,
  lease: Awaited<ReturnType<typeof leaseFileFor>>,
): ShimServer {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  return new ShimServer({
    address: o.listen,
    ...lease,
    backend,
    ...(o.tlsCert && o.tlsKey
      ? {
          tls: {
            certPem: Buffer.from(readText(o.tlsCert, 'certificate')),
            keyPem: Buffer.from(readText(o.tlsKey, 'key')),
            ...(o.tlsClientCa ? { clientCaPem: Buffer.from(readText(o.tlsClientCa, 'client CA')) } : {}),
          },
        }
      : {}),
    ...(auth.token !== undefined ? { token: auth.token } : {}),
    defaultLeaseS: auth.leaseS,
    holdLimitMs: auth.holdLimitS * 1000,
    log,
    serverVersion: pkg.version,
  });
}

/** Serves until SIGINT/SIGTERM, then stops traffic and shuts down: 0 on a clean stop. */
function serveUntilSignalled(server: ShimServer, log: Logger): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      log.info(`${sig}: stopping traffic and shutting down`);
      server.stop().then(
        () => resolve(0),
        (e) => {
          log.error(`shutdown: ${errorMessage(e)}`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** What the entry point (tgshim.ts, beside drivers.ts) gives the shim: how to register the built-in drivers. */
export interface ShimRoots {
  readonly registerBuiltins: (registry: Registry) => void;
}

export async function main(argv: readonly string[], roots: ShimRoots): Promise<number> {
  const program = buildProgram();
  try {
    program.parse(argv as string[], { from: 'user' });
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  const o = program.opts<ShimOptions>();
  const level: LogLevel = isLogLevel(o.logLevel) ? o.logLevel : 'info';
  const log = createLogger((lv, scope, msg) => process.stderr.write(`${new Date().toISOString()} ${lv.toUpperCase()} ${scope}: ${msg}\n`), level, 'tgshim');
  let server: ShimServer | undefined;
  try {
    const auth = checkOptions(o);
    server = createServer(o, await createBackend(o, log, roots), auth, log, await leaseFileFor(o.name, o.listen));
    const port = await server.start();
    process.stdout.write(JSON.stringify({ event: 'listening', port }) + '\n');
  } catch (e) {
    process.stderr.write(`vsperf-tgshim: ${errorMessage(e)}\n`);
    await server?.stop().catch(() => undefined);
    return isVsperfError(e) ? e.exitCode : 1;
  }
  return serveUntilSignalled(server, log);
}
