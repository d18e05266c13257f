/**
 * A QEMU process on another host (peer-to-peer migration): started over SSH by a RemoteHost, its QMP
 * socket forwarded to a local unix socket through the same SSH connection, so the QMP client and the
 * migration code work on it exactly as on a local instance.
 */
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import type { GuestNic } from '../../framework/api/vnf.js';
import type { RemoteHost, RemoteProcess } from '../../framework/host/remote-host.js';
import { sleep } from '../../framework/host/proc.js';
import type { Logger } from '../../framework/log/logger.js';
import { DriverError } from '../../framework/errors.js';
import { QmpClient } from '../qmp/client.js';
import { queryGuestClock, type ClockQueryOptions, type GuestClockReading } from './guest-clock.js';
import type { QemuInstanceHandle } from '../types.js';

const DRIVER = 'QemuDpdkVhostUser';

export interface RemoteQemuOptions {
  readonly name: string;
  /** QEMU argv; without a QMP option unless `qmpSocket` names the one in it. */
  readonly argv: readonly string[];
  /** Remote QMP socket already in argv (qemuArgv puts one there). */
  readonly qmpSocket?: string;
  /** Remote serial console file (`-serial file:…` in argv), read by refreshSerial(). */
  readonly serialLog?: string;
  /** Remote socket of the guest's clock port (ttyS1, in argv), forwarded here like QMP for queryClock(). */
  readonly clockSocket?: string;
  /** Directory on the remote host for the QMP socket (created and removed here unless `makeDir` is false). */
  readonly remoteDir: string;
  readonly makeDir?: boolean;
  /** Local directory for the forwarded QMP socket (short path: sun_path holds 107 bytes). */
  readonly localDir: string;
  readonly nics?: readonly GuestNic[];
  readonly log: Logger;
  readonly timeoutMs?: number;
}

export class RemoteQemu implements QemuInstanceHandle {
  readonly qmp: QmpClient;
  readonly nics: readonly GuestNic[];

  private constructor(
    readonly name: string,
    readonly host: RemoteHost,
    private readonly proc: RemoteProcess,
    private readonly unforward: () => Promise<void>,
    qmp: QmpClient,
    nics: readonly GuestNic[],
    private readonly serialLog?: string,
    /** Local end of the forwarded clock port. */
    private readonly clockSocket?: string,
  ) {
    this.qmp = qmp;
    this.nics = nics;
    proc.on('unexpected-exit', (code, sig) => {
      const last = this.proc.tail(3).trim().split('\n').filter(Boolean).join(' | ');
      // The channel also ends when the ssh connection does: say so rather than blame QEMU alone.
      const msg = `QEMU ${name} on ${host.name} (pid ${proc.pid}) or its ssh channel ended unexpectedly (${sig ?? `code ${code}`})${last ? `: ${last}` : ''}`;
      this.onUnexpectedExit?.(new DriverError(DRIVER, 'run', msg));
    });
  }

  /** Set by the owning guest: called when this QEMU ends without being asked to. */
  onUnexpectedExit: ((e: DriverError) => void) | undefined;

  static async start(host: RemoteHost, o: RemoteQemuOptions): Promise<RemoteQemu> {
    if (o.makeDir !== false) await host.makeDir(o.remoteDir);
    const remoteQmp = o.qmpSocket ?? join(o.remoteDir, `${o.name}-qmp.sock`);
    const localQmp = join(o.localDir, `${host.name}-${o.name}-qmp.sock`);
    rmSync(localQmp, { force: true });
    const argv = o.qmpSocket ? o.argv : [...o.argv, '-qmp', `unix:${remoteQmp},server=on,wait=off`];
    const proc = await host.spawn(argv, { label: `stop QEMU ${o.name} on ${host.name}` });
    try {
      const { qmp, unforward } = await RemoteQemu.attachQmp(host, o, proc, remoteQmp, localQmp);
      return new RemoteQemu(o.name, host, proc, unforward, qmp, o.nics ?? [], o.serialLog, o.clockSocket ? RemoteQemu.localClockPath(host, o) : undefined);
    } catch (e) {
      // A QEMU whose monitor never came up is of no use: stop it now, not at the end of the run.
      await proc.stop().catch(() => undefined);
      throw e;
    }
  }

  /** Local end of the forwarded clock port (short directory: sun_path). */
  private static localClockPath(host: RemoteHost, o: RemoteQemuOptions): string {
    return join(o.localDir, `${host.name}-${o.name}-clk.sock`);
  }

  /** Wait for QEMU's QMP socket on the host, forward it (and the clock port) here and connect. */
  private static async attachQmp(
    host: RemoteHost,
    o: RemoteQemuOptions,
    proc: RemoteProcess,
    remoteQmp: string,
    localQmp: string,
  ): Promise<{ qmp: QmpClient; unforward: () => Promise<void> }> {
    const deadline = Date.now() + (o.timeoutMs ?? 20_000);
    // The remote socket exists only once QEMU has set up its monitor.
    while ((await host.exec(['test', '-S', remoteQmp], { allowFail: true })).code !== 0) {
      if (!proc.running) throw new DriverError(DRIVER, 'start', `QEMU ${o.name} on ${host.name} exited: ${proc.tail(5).trim() || 'no output'}`);
      if (Date.now() > deadline) throw new DriverError(DRIVER, 'start', `QEMU ${o.name} on ${host.name}: no QMP socket after ${o.timeoutMs ?? 20_000} ms`);
      await sleep(100);
    }
    const unforwardQmp = await host.forwardSocket(localQmp, remoteQmp);
    const localClock = o.clockSocket ? RemoteQemu.localClockPath(host, o) : undefined;
    const unforwardClock = localClock
      ? await host.forwardSocket(localClock, o.clockSocket!).catch(async (e: unknown) => {
          await unforwardQmp();
          throw e;
        })
      : async () => undefined;
    const unforward = async (): Promise<void> => {
      await unforwardQmp();
      await unforwardClock();
      for (const f of [localQmp, localClock]) if (f) rmSync(f, { force: true });
    };
    const qmp = new QmpClient({ log: o.log, defaultTimeoutMs: 10_000 });
    try {
      await qmp.connect(localQmp, { timeoutMs: Math.max(1000, deadline - Date.now()) });
    } catch (e) {
      await unforward();
      throw e;
    }
    return { qmp, unforward };
  }

  private serialText = '';

  /** Read the remote serial console (serial() returns what was read last). */
  async refreshSerial(): Promise<string> {
    if (this.serialLog) this.serialText = await this.host.readFile(this.serialLog);
    return this.serialText;
  }

  /**
   * The guest clock against this (the vsperf) host's, through the forwarded port: the ssh round trip is
   * inside the exchange, so it widens the uncertainty, not the offset; the step across a migration
   * compares two readings against the same clock, whichever host the guest is on.
   */
  async queryClock(opts?: ClockQueryOptions): Promise<GuestClockReading> {
    if (!this.clockSocket) throw new DriverError(DRIVER, 'clock', `${this.name} on ${this.host.name} has no clock port`);
    return queryGuestClock(this.clockSocket, opts);
  }

  get pid(): number {
    return this.proc.pid;
  }

  get alive(): boolean {
    return this.proc.running;
  }

  logTail(lines = 20): string {
    const ser = this.serialText.trim().split('\n').slice(-lines).join('\n');
    const out = this.proc.tail(lines).trim();
    return [ser && `serial: ${ser}`, out && `qemu: ${out}`].filter(Boolean).join('\n') || '(no output)';
  }

  serial(): string {
    return this.serialText;
  }

  private stopping: Promise<void> | undefined;

  /** Idempotent; a second caller waits for the first stop and sees its failure. */
  stop(): Promise<void> {
    return (this.stopping ??= this.quitAndKill());
  }

  private async quitAndKill(): Promise<void> {
    this.proc.expectExit();
    if (this.alive && this.qmp.state === 'running') await this.qmp.quit({ timeoutMs: 2000 }).catch(() => undefined);
    await this.qmp.close();
    await this.unforward();
    await this.proc.stop();
  }
}
