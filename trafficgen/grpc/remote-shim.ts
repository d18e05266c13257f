/**
 * A software generator on another host: `vsperf-tgshim --listen 127.0.0.1:0` started there over SSH
 * (RemoteHost.spawn: journalled, stopped at teardown and by the janitor after a SIGKILL of vsperf), its
 * port forwarded to a local unix socket through the connection's ControlMaster, and a ShimClient on
 * that socket. The gRPC server stays on the remote loopback: plaintext is fine there, and SSH carries
 * it (beyond loopback the shim would need TLS and a token).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { DriverContext } from '../../framework/api/driver.js';
import type {
  ContinuousRun,
  GeneratorCaps,
  LiveCounters,
  PortSpec,
  TrafficGenerator,
  TrafficSpec,
  TrialResult,
  TrialHooks,
  TrialSpec,
} from '../../framework/api/trafficgen.js';
import type { JsonObject } from '../../framework/config/settings.js';
import type { Settings } from '../../framework/config/settings.js';
import { DriverError, VsperfError, errorMessage } from '../../framework/errors.js';
import { sleep } from '../../framework/host/proc.js';
import { RemoteHost, type RemoteProcess } from '../../framework/host/remote-host.js';
import type { SshTarget } from '../../framework/host/ssh.js';
import { ShimClient } from './client.js';

/** The shim's first stdout line once it serves (shim-cli.ts). */
const LISTENING = /\{"event":"listening","port":(\d+)\}/;

/** What the generator on the remote host is configured with: the run's own generator settings. */
export function remoteGeneratorConf(s: Settings): JsonObject {
  const conf: JsonObject = {};
  for (const k of s.keys()) if (k.startsWith('TRAFFICGEN_SOFTWARE_') || k === 'TRAFFIC') conf[k] = s.get(k);
  return conf;
}

/** argv of the shim on the host: loopback only, any free port, the run's settings, state and scratch in `dir`. */
export function remoteShimArgv(shim: readonly string[], dir: string, name: string, generator = 'Software'): string[] {
  return [
    ...shim,
    '--listen',
    '127.0.0.1:0',
    '--backend',
    'software',
    '--generator',
    generator,
    '--conf-file',
    `${dir}/generator.json`,
    '--work-dir',
    `${dir}/work`,
    '--name',
    name,
  ];
}

/** The last lines of a process's output, on one line (for a one-line error). */
function lastWords(p: RemoteProcess): string {
  const t = p
    .tail(4)
    .split('\n')
    .map((l) => l.replace(/^\S+Z (INFO|ERROR|WARNING|DEBUG) \S+: /, '').trim())
    .filter((l) => l && !LISTENING.test(l));
  return t.slice(-2).join(' | ') || 'no output';
}

function exitText(p: RemoteProcess): string {
  const st = p.exitStatus;
  return st?.signal ? `signal ${st.signal}` : `code ${st?.code ?? '?'}`;
}

/** Software on `target` through a vsperf-tgshim there. close() stops the shim and removes what it made. */
export class RemoteShimGenerator implements TrafficGenerator {
  readonly startContinuous?: (spec: TrafficSpec, signal?: AbortSignal) => Promise<ContinuousRun>;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly name: string,
    private readonly target: SshTarget,
    private readonly client: ShimClient,
    private readonly shim: RemoteProcess,
    private readonly release: () => Promise<void>,
  ) {
    if (client.startContinuous) this.startContinuous = (spec, signal) => this.guard(() => client.startContinuous!(spec, signal));
  }

  /** Start the shim on `target`, forward its port, open the client. On failure nothing is left on either host. */
  static async open(ctx: DriverContext, target: SshTarget, signal?: AbortSignal): Promise<RemoteShimGenerator> {
    const name = 'Software';
    const log = ctx.log.child(`tgshim@${target.name}`);
    const tag = randomBytes(3).toString('hex');
    // Short: the control socket and the forwarded socket live here (unix socket paths hold 107 bytes).
    const localDir = `/tmp/vsg-${tag}`;
    const undo: Array<() => Promise<void>> = [ctx.host.makeDir(localDir)];
    const unwind = async (): Promise<void> => {
      const errors: string[] = [];
      while (undo.length) await undo.pop()!().catch((e: unknown) => errors.push(errorMessage(e)));
      if (errors.length) throw new VsperfError('E_CLEANUP', `generator on ${target.name}: ${errors.join('; ')}`);
    };
    try {
      const rh = new RemoteHost(target, ctx.host, localDir);
      undo.push(() => rh.close());
      await rh.connect();
      signal?.throwIfAborted();
      const shim = target.tgshim ?? ['vsperf-tgshim'];
      if ((await rh.exec(['sh', '-c', 'command -v -- "$1" >/dev/null', 'sh', shim[0]!], { allowFail: true })).code !== 0)
        throw new DriverError(name, 'connect', `${shim[0]} is not installed on host ${target.name}`, {
          hint: `install vsperf-ts there (it brings vsperf-tgshim), or name the command in its TESTBED_HOSTS entry ("tgshim": ["/path/to/vsperf-tgshim"])`,
          kind: 'environment',
        });
      // Not the local directory's name: on the sandbox both hosts share one filesystem.
      const dir = `/tmp/vsperf-gen-${tag}`;
      // Released by rh.close() (like the shim: newest first), so not pushed on `undo` a second time.
      await rh.makeDir(dir);
      await rh.writeFile(`${dir}/generator.json`, JSON.stringify(remoteGeneratorConf(ctx.settings), null, 2) + '\n');
      const proc = await rh.spawn(remoteShimArgv(shim, dir, `vsperf-${tag}`), {
        // Its journal (engine processes of dead shims) stays inside the directory removed after it.
        env: { VSPERF_STATE_DIR: `${dir}/state` },
        label: `stop vsperf-tgshim on ${target.name}`,
        logFile: join(ctx.workDir, `tgshim-${target.name}.log`),
        timeoutMs: 20_000,
      });
      const port = await waitListening(proc, target.name, 60_000, signal);
      log.info(`vsperf-tgshim on ${target.name} (pid ${proc.pid}) listens on 127.0.0.1:${port}; forwarded over ssh`);
      const sock = join(localDir, 'shim.sock');
      let cancel: () => Promise<void>;
      try {
        cancel = await rh.forwardSocket(sock, `127.0.0.1:${port}`);
      } catch (e) {
        throw new DriverError(name, 'connect', `ssh could not forward ${sock} to port ${port} of host ${target.name}: ${errorMessage(e)}`, {
          kind: 'environment',
        });
      }
      undo.push(cancel);
      const client = await ShimClient.open({ address: `unix:${sock}`, name, log, clientName: `vsperf@${target.name}`, callTimeoutMs: 30_000 });
      undo.push(() => client.close());
      const gen = new RemoteShimGenerator(name, target, client, proc, unwind);
      // Registered after everything the connection tracked, so it unwinds first: the session is released
      // while the shim still runs, and the shim is stopped while its host is still there.
      ctx.host.cleanup.defer(`close the generator on ${target.name}`, () => gen.close());
      return gen;
    } catch (e) {
      await unwind().catch((u: unknown) => log.warn(errorMessage(u)));
      throw e;
    }
  }

  capabilities(): GeneratorCaps {
    return this.client.capabilities();
  }

  connect(ports: readonly PortSpec[], signal?: AbortSignal): Promise<void> {
    return this.guard(() => this.client.connect(ports, signal));
  }

  runTrial(spec: TrialSpec, signal?: AbortSignal, onProgress?: (c: LiveCounters) => void, hooks?: TrialHooks): Promise<TrialResult> {
    return this.guard(() => this.client.runTrial(spec, signal, onProgress, hooks));
  }

  close(): Promise<void> {
    return (this.closing ??= this.release());
  }

  /** A failed call whose shim has died says so, in one line, instead of the gRPC status it caused. */
  private async guard<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      // The channel's end is seen a moment after the socket's: give it that moment.
      if (this.shim.running) await Promise.race([this.shim.waitExit(), sleep(1000)]);
      if (this.shim.running) throw e;
      throw new DriverError(
        this.name,
        'trial',
        `vsperf-tgshim on ${this.target.name} (pid ${this.shim.pid}) exited (${exitText(this.shim)}): ${lastWords(this.shim)}`,
        {
          cause: e,
        },
      );
    }
  }
}

/** The port the shim reports; a shim that exits first is one line with its last words. */
async function waitListening(proc: RemoteProcess, host: string, timeoutMs: number, signal?: AbortSignal): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = LISTENING.exec(proc.tail(50));
    if (m) return Number(m[1]);
    if (!proc.running) {
      await proc.waitExit();
      throw new DriverError('Software', 'connect', `vsperf-tgshim on ${host} exited before it served (${exitText(proc)}): ${lastWords(proc)}`, {
        kind: 'environment',
      });
    }
    signal?.throwIfAborted();
    if (Date.now() > end)
      throw new DriverError('Software', 'connect', `vsperf-tgshim on ${host} did not serve within ${timeoutMs / 1000} s: ${lastWords(proc)}`);
    await sleep(50);
  }
}

/** DriverContext → the opener PlacedGenerator calls when the ports are on another host. */
export function remoteSoftwareOpener(ctx: DriverContext): (host: SshTarget, signal?: AbortSignal) => Promise<TrafficGenerator> {
  return (host, signal) => RemoteShimGenerator.open(ctx, host, signal);
}
