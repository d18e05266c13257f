/**
 * QemuDpdkVhostUser: a QEMU guest on vhost-user NICs (QEMU serves the sockets, the vSwitch connects as
 * dpdkvhostuserclient), booted from the project's kernel + busybox initramfs. Boot is watched on the
 * serial log (VSPERF-READY / VSPERF-ERR markers) and on the process; a guest that does not come up in
 * GUEST_TIMEOUT fails with the tail of its serial log and of QEMU's stderr, and nothing is left running.
 *
 * The object is "the guest", not one QEMU process: live migration starts a second instance with
 * `-incoming defer` (startIncoming) and, once the guest resumed there, switchTo() makes it current.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { DriverContext } from '../../framework/api/driver.js';
import type { Logger } from '../../framework/log/logger.js';
import type { Child } from '../../framework/host/child.js';
import type { Host } from '../../framework/host/host.js';
import { sleep, isAlive } from '../../framework/host/proc.js';
import { AbortedError, DriverError } from '../../framework/errors.js';
import { QmpClient } from '../qmp/client.js';
import type { GuestCommandResult, GuestNic, MigratableVnf, QemuInstanceHandle, VnfAttachment } from '../types.js';
import { qemuConfigFromSettings, ramSizeArg, recordKvmProbe, withTcg, type QemuConfig } from './config.js';
import { qemuArgv, type InstanceFiles } from './cmdline.js';
import { queryGuestClock, type ClockQueryOptions, type GuestClockReading } from './guest-clock.js';
import { runGuestCommand, type GuestCommandOptions } from './guest-command.js';

export const READY_MARKER = 'VSPERF-READY';
export const ERROR_MARKER = 'VSPERF-ERR';
const DRIVER = 'QemuDpdkVhostUser';
const KVM_PROBE_MS = 10_000;

/** One QEMU process (a guest's current home, or a migration destination). */
export class QemuInstance implements QemuInstanceHandle {
  readonly qmp: QmpClient;
  private stopped = false;

  private constructor(
    readonly name: string,
    readonly nics: readonly GuestNic[],
    readonly files: InstanceFiles & { readonly qemuLog: string },
    readonly child: Child,
    readonly incoming: boolean,
    private readonly log: Logger,
  ) {
    this.qmp = new QmpClient({ log, defaultTimeoutMs: 10_000 });
    child.on('unexpected-exit', (code: number | null, sig: string | null) => {
      const msg = `QEMU ${name} (pid ${child.pid}) exited unexpectedly (${sig ?? `code ${code}`})`;
      log.warn(`${msg}: ${this.logTail(5).replace(/\n/g, ' | ')}`);
      this.onUnexpectedExit?.(new DriverError(DRIVER, 'run', `${msg}\n${this.logTail()}`));
    });
  }

  /** Set by the owning QemuVm: called when this process dies without being asked to. */
  onUnexpectedExit: ((e: DriverError) => void) | undefined;

  static async launch(
    host: Host,
    log: Logger,
    cfg: QemuConfig,
    index: number,
    nics: readonly GuestNic[],
    files: QemuInstance['files'],
    incoming: boolean,
    paused = false,
  ): Promise<QemuInstance> {
    for (const f of [files.qmpSocket, files.serialLog, files.qemuLog, files.clockSocket, files.commandSocket]) if (f) rmSync(f, { force: true });
    const argv = qemuArgv(cfg, index, nics, files, { incoming, paused });
    log.debug(`starting ${argv.join(' ')}`);
    const child = await host.spawn(argv, { logFile: files.qemuLog, label: `stop QEMU ${files.name}`, graceMs: 3000 });
    return new QemuInstance(files.name, nics, files, child, incoming, log.child(files.name));
  }

  get pid(): number {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.child.running && isAlive(this.child.pid);
  }

  serial(): string {
    try {
      return readFileSync(this.files.serialLog, 'utf8');
    } catch {
      return '';
    }
  }

  /** The guest clock against the host's, on the guest's second serial port. */
  async queryClock(opts?: ClockQueryOptions): Promise<GuestClockReading> {
    if (!this.files.clockSocket) throw new DriverError(DRIVER, 'clock', `${this.name} has no clock port`);
    return queryGuestClock(this.files.clockSocket, opts);
  }

  /** A shell command inside the guest, on its command port (guest-command.ts). */
  async execute(command: string, opts: GuestCommandOptions): Promise<GuestCommandResult> {
    if (!this.files.commandSocket) throw new DriverError(DRIVER, 'execute', `${this.name} has no command port`);
    if (!this.alive) throw new DriverError(DRIVER, 'execute', `QEMU ${this.name} is not running\n${this.logTail(5)}`);
    return runGuestCommand(this.files.commandSocket, command, opts);
  }

  /** Last lines of the serial console and of QEMU's own output. */
  logTail(lines = 15): string {
    const ser = this.serial().trim().split('\n').slice(-lines).join('\n');
    const out = this.child.tail(lines).trim();
    return [ser && `serial: ${ser}`, out && `qemu: ${out}`].filter(Boolean).join('\n') || '(no output)';
  }

  /** Connect QMP once QEMU created the socket (after the vSwitch connected to every vhost socket). */
  async connectQmp(deadline: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) throw new AbortedError(`aborted while waiting for QMP of ${this.name}`);
      if (!this.alive) throw await this.died('before its QMP socket came up');
      if (existsSync(this.files.qmpSocket)) {
        try {
          await this.qmp.connect(this.files.qmpSocket, { timeoutMs: Math.max(500, Math.min(5000, deadline - Date.now())), ...(signal ? { signal } : {}) });
          return;
        } catch (e) {
          if (Date.now() > deadline) throw e;
        }
      }
      if (Date.now() > deadline) {
        throw new DriverError(
          DRIVER,
          'start',
          `${this.name}: no QMP socket within the deadline${this.nics.some((n) => !n.switchServes) ? ' (QEMU waits until the vSwitch connects to every vhost-user socket it serves)' : ''}\n${this.logTail()}`,
        );
      }
      await sleep(50);
    }
  }

  async died(when: string): Promise<DriverError> {
    await Promise.race([this.child.waitExit(), sleep(1000)]);
    const st = this.child.exitStatus;
    const how = st ? (st.signal ? `killed by ${st.signal}` : `exited with code ${st.code}`) : 'is gone';
    return new DriverError(DRIVER, 'start', `QEMU ${this.name} ${how} ${when}\n${this.logTail()}`);
  }

  /** Soft (QMP quit) → SIGTERM → SIGKILL. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.child.expectExit();
    if (this.alive && this.qmp.state === 'running') {
      try {
        await this.qmp.quit({ timeoutMs: 2000 });
        await Promise.race([this.child.waitExit(), sleep(3000)]);
      } catch (e) {
        this.log.debug(`QMP quit of ${this.name} failed: ${(e as Error).message}`);
      }
    }
    await this.qmp.close();
    if (this.alive) this.log.debug(`QEMU ${this.name} still running after quit: SIGTERM`);
    await this.child.stop(2000);
    rmSync(this.files.qmpSocket, { force: true });
    if (this.files.clockSocket) rmSync(this.files.clockSocket, { force: true });
    if (this.files.commandSocket) rmSync(this.files.commandSocket, { force: true });
    // VSPERF_GUEST_LOG_DIR: keep serial console and QEMU output of every instance (debugging aid).
    const keep = process.env.VSPERF_GUEST_LOG_DIR;
    if (keep) {
      try {
        mkdirSync(keep, { recursive: true });
        for (const f of [this.files.serialLog, this.files.qemuLog]) if (existsSync(f)) copyFileSync(f, join(keep, `${Date.now()}-${basename(f)}`));
      } catch (e) {
        this.log.warn(`could not keep guest logs in ${keep}: ${(e as Error).message}`);
      }
    }
  }
}

export class QemuVm implements MigratableVnf {
  readonly migratable = true as const;
  private attachment: VnfAttachment | undefined;
  private cfg: QemuConfig | undefined;
  private current_: QemuInstance | undefined;
  private readonly all: QemuInstance[] = [];
  private incomingSeq = 0;
  private bootS: number | undefined;
  private readonly log: Logger;
  private readonly healthAc = new AbortController();
  /** Aborted (reason: DriverError with the log tail) when the QEMU the guest currently runs in dies. */
  readonly health: AbortSignal = this.healthAc.signal;

  /** `baseName` + guest index (from attach), e.g. guest0; an explicit full name is kept as is. */
  constructor(
    private readonly ctx: DriverContext,
    private readonly baseName = 'guest',
    private readonly indexed = true,
  ) {
    this.log = ctx.log.child('qemu');
  }

  get name(): string {
    return this.indexed ? `${this.baseName}${this.index}` : this.baseName;
  }

  attach(a: VnfAttachment): void {
    if (this.current_) throw new DriverError(DRIVER, 'attach', `${this.name} is already started`);
    this.attachment = a;
    this.cfg = undefined;
  }

  get workDir(): string {
    return this.ctx.workDir;
  }

  get index(): number {
    return this.attachment?.index ?? 0;
  }

  get config(): QemuConfig {
    if (!this.cfg) {
      const pci = this.attachment?.pciDevices;
      this.cfg = { ...qemuConfigFromSettings(this.ctx.settings, this.index), ...(pci?.length ? { pciDevices: pci } : {}) };
    }
    return this.cfg;
  }

  get current(): QemuInstance {
    if (!this.current_) throw new DriverError(DRIVER, 'use', `${this.name} was not started`);
    return this.current_;
  }

  get nics(): readonly GuestNic[] {
    return this.current_?.nics ?? this.attachment?.nics ?? [];
  }

  private files(name: string): QemuInstance['files'] {
    const dir = this.ctx.workDir;
    mkdirSync(dir, { recursive: true });
    // sun_path holds 107 bytes: fall back to a short path for deep work dirs.
    const socket = (what: string): string => {
      const p = join(dir, `${name}-${what}.sock`);
      return Buffer.byteLength(p) > 100 ? join('/tmp', `vsv-${process.pid}-${name}-${what}.sock`) : p;
    };
    return {
      name,
      qmpSocket: socket('qmp'),
      clockSocket: socket('clock'),
      commandSocket: socket('cmd'),
      serialLog: join(dir, `${name}-serial.log`),
      qemuLog: join(dir, `${name}-qemu.log`),
    };
  }

  async start(signal?: AbortSignal): Promise<void> {
    if (this.current_) throw new DriverError(DRIVER, 'start', `${this.name} is already started`);
    if (signal?.aborted) throw new AbortedError();
    const cfg = this.config;
    const nics = this.attachment?.nics ?? [];
    if (!this.attachment && cfg.nicsNr > 0) {
      throw new DriverError(DRIVER, 'start', `${this.name} needs ${cfg.nicsNr} NIC(s) (GUEST_NICS_NR) but the deployment attached none`, { kind: 'usage' });
    }
    const ram = ramSizeArg(cfg);
    this.log.info(
      `starting guest ${this.name}: ${cfg.accel} (${cfg.accelReason}), ${cfg.memoryMiB} MiB${ram.endsWith('K') ? ` (${ram}: TCG migration fix, GUEST_TCG_RAM_PAD_KB)` : ''}, ${cfg.smp} vCPU, ${nics.length} vhost-user NIC(s), loopback ${cfg.loopback}`,
    );
    if (cfg.testpmd?.dropped.length && cfg.loopback === 'testpmd') {
      this.log.warn(`${this.name}: GUEST_TESTPMD_PARAMS: ignoring ${cfg.testpmd.dropped.join(' ')} (interactive mode, or removed from DPDK before 22.11)`);
    }
    if (cfg.accel === 'tcg' && cfg.memBackend === 'hugepages') {
      this.log.warn(
        `${this.name}: TCG with hugepage memory: QEMU < 9.0 can lose guest writes during live migration (RAM a multiple of 256 KiB; docs/migration.md, "Guests, QMP and live migration"); use GUEST_MEM_BACKEND=memfd to migrate`,
      );
    }
    this.bootStartMs = performance.now();
    const inst = await QemuInstance.launch(this.ctx.host, this.log, cfg, this.index, nics, this.files(this.name), false);
    this.adopt(inst);
    this.current_ = inst;
  }

  private bootStartMs = 0;

  /** Wait for the ready marker on the serial console (and connect QMP on the way). */
  async waitReady(timeoutMs = this.config.bootTimeoutMs, signal?: AbortSignal): Promise<void> {
    let inst = this.current;
    let deadline = Date.now() + timeoutMs;
    // GUEST_ACCEL=auto chose KVM: a KVM guest reaches /init in ~1-2 s; if it does not within
    // KVM_PROBE_MS, KVM hangs guests here (seen with nested virtualization) → fall back to TCG once.
    let kvmProbeUntil = this.config.accel === 'kvm' && this.config.accelAuto ? Date.now() + KVM_PROBE_MS : undefined;
    try {
      await inst.connectQmp(deadline, signal);
      for (;;) {
        if (signal?.aborted) throw new AbortedError(`aborted while ${this.name} was booting`);
        const ser = inst.serial();
        const err = ser.split('\n').find((l) => l.startsWith(ERROR_MARKER));
        if (err) throw new DriverError(DRIVER, 'boot', `guest ${this.name} reported: ${err.slice(ERROR_MARKER.length).trim()}\n${inst.logTail()}`);
        if (ser.includes(READY_MARKER)) break;
        if (!inst.alive) throw await inst.died('while the guest was booting');
        if (kvmProbeUntil !== undefined && ser.includes('VSPERF-INIT')) {
          recordKvmProbe(true);
          kvmProbeUntil = undefined;
        }
        if (kvmProbeUntil !== undefined && Date.now() > kvmProbeUntil) {
          const reason = `KVM guest printed nothing in ${KVM_PROBE_MS / 1000} s (KVM unusable here, e.g. nested virtualization)`;
          this.log.warn(`${this.name}: ${reason}; falling back to TCG`);
          recordKvmProbe(false, reason);
          await inst.stop();
          this.cfg = withTcg(this.config, reason);
          inst = await QemuInstance.launch(this.ctx.host, this.log, this.cfg, this.index, inst.nics, this.files(this.name), false);
          this.adopt(inst);
          this.current_ = inst;
          this.bootStartMs = performance.now();
          deadline = Date.now() + timeoutMs;
          kvmProbeUntil = undefined;
          await inst.connectQmp(deadline, signal);
          continue;
        }
        if (Date.now() > deadline) {
          throw new DriverError(
            DRIVER,
            'boot',
            `guest ${this.name} did not print ${READY_MARKER} within ${Math.round(timeoutMs / 1000)} s (GUEST_TIMEOUT)\n${inst.logTail()}`,
          );
        }
        await sleep(20);
      }
      this.bootS = (performance.now() - this.bootStartMs) / 1000;
      this.log.info(`guest ${this.name} ready after ${this.bootS.toFixed(2)} s (${inst.serial().match(/VSPERF-READY[^\n]*/)?.[0] ?? ''})`);
    } catch (e) {
      await inst.stop();
      throw e;
    }
  }

  /** Seconds from launch to the ready marker (undefined before). */
  get bootSeconds(): number | undefined {
    return this.bootS;
  }

  /** A destination for live migration: same machine, other vhost sockets, `-incoming defer`. */
  async startIncoming(nics: readonly GuestNic[], signal?: AbortSignal, timeoutMs = 30_000, opts: { paused?: boolean } = {}): Promise<QemuInstance> {
    const name = `${this.name}-m${++this.incomingSeq}`;
    const inst = await QemuInstance.launch(this.ctx.host, this.log, this.config, this.index, nics, this.files(name), true, opts.paused ?? false);
    this.adopt(inst);
    try {
      await inst.connectQmp(Date.now() + timeoutMs, signal);
      const st = await inst.qmp.queryStatus();
      if (st.status !== 'inmigrate') throw new DriverError(DRIVER, 'incoming', `${name} is in state ${st.status}, expected inmigrate`);
    } catch (e) {
      await inst.stop();
      throw e;
    }
    return inst;
  }

  /** The guest now runs in `inst`; returns the previous instance (the caller quits it). */
  switchTo(inst: QemuInstanceHandle): QemuInstance {
    const next = this.all.find((i) => i === inst);
    if (!next) throw new DriverError(DRIVER, 'switch', `${inst.name} is not an instance of ${this.name}`);
    const prev = this.current;
    this.current_ = next;
    return prev;
  }

  get alive(): boolean {
    return this.current_?.alive ?? false;
  }

  private commands: Promise<unknown> = Promise.resolve();

  /**
   * A shell command in the guest where it runs now (after a migration too). One at a time: the
   * command port takes one connection, so concurrent callers queue here.
   */
  execute(command: string, opts: GuestCommandOptions): Promise<GuestCommandResult> {
    const run = this.commands.then(() => this.current.execute(command, opts));
    this.commands = run.catch(() => undefined);
    return run;
  }

  private adopt(inst: QemuInstance): void {
    this.all.push(inst);
    inst.onUnexpectedExit = (e) => {
      if (inst === this.current_ && !this.healthAc.signal.aborted) this.healthAc.abort(e);
    };
  }

  async stop(): Promise<void> {
    const errors: unknown[] = [];
    for (const inst of [...this.all].reverse()) {
      try {
        await inst.stop();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length) throw errors[0];
  }

  facts(): Readonly<Record<string, string | number | boolean>> {
    const cfg = this.config;
    const v = this.current_?.qmp.version;
    return {
      guest_name: this.name,
      guest_accel: cfg.accel,
      guest_accel_reason: cfg.accelReason,
      guest_memory_mib: cfg.memoryMiB,
      guest_smp: cfg.smp,
      guest_nics: this.nics.length,
      ...(cfg.pciDevices?.length ? { guest_pci_devices: cfg.pciDevices.join(',') } : {}),
      guest_loopback_app: cfg.loopback,
      ...(cfg.testpmd && cfg.loopback === 'testpmd' ? { guest_testpmd_fwd_mode: cfg.testpmd.fwdMode, guest_testpmd_args: cfg.testpmd.args.join(' ') } : {}),
      guest_image: cfg.image,
      guest_mem_backend: cfg.memBackend,
      guest_ram_size: ramSizeArg(cfg),
      ...(cfg.vectors !== undefined ? { guest_nic_vectors: cfg.vectors } : {}),
      ...(cfg.coreBinding.length ? { guest_core_binding: cfg.coreBinding.join(',') } : {}),
      ...(v ? { qemu_version: `${v.major}.${v.minor}.${v.micro}` } : {}),
      ...(this.bootS !== undefined ? { guest_boot_s: Math.round(this.bootS * 1000) / 1000 } : {}),
    };
  }
}

export async function createQemuVm(ctx: DriverContext): Promise<QemuVm> {
  return new QemuVm(ctx);
}
