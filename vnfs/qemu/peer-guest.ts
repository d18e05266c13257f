/**
 * A guest that lives on one of two hosts reached over SSH (peer-to-peer live migration): it boots on
 * the first site's host on that host's vhost-user sockets; a migration destination is an identical
 * QEMU on the other site's host with `-incoming defer`. Every QEMU is a RemoteQemu (started and
 * journalled through the RemoteHost, QMP forwarded through its SSH connection).
 */
import { join } from 'node:path';
import { AbortedError, DriverError } from '../../framework/errors.js';
import { sleep } from '../../framework/host/proc.js';
import type { Logger } from '../../framework/log/logger.js';
import type { PeerGuestLauncher, PeerGuestVnf, PeerSite } from '../../framework/api/peer-guest.js';
import { defaultGuestMac } from '../../framework/api/vnf.js';
import type { GuestNic, MigratableVnf, MigrationPlan, QemuInstanceHandle } from '../types.js';
import { RelearnObserver } from '../migration/relearn.js';
import { qemuArgv } from './cmdline.js';
import { kvmUsableOn, qemuConfigFromSettings, ramSizeArg, withTcg, type QemuConfig } from './config.js';
import { ERROR_MARKER, READY_MARKER } from './qemu-vm.js';
import { RemoteQemu } from './remote-qemu.js';

const DRIVER = 'QemuDpdkVhostUser';
const KVM_PROBE_MS = 10_000;

export class PeerGuest implements MigratableVnf, PeerGuestVnf {
  readonly migratable = true as const;
  private current_: RemoteQemu | undefined;
  private readonly all: RemoteQemu[] = [];
  private seq = 0;
  private bootS: number | undefined;
  private readonly healthAc = new AbortController();
  readonly health: AbortSignal = this.healthAc.signal;

  constructor(
    readonly name: string,
    private cfg: QemuConfig,
    private readonly index: number,
    readonly sites: readonly [PeerSite, PeerSite],
    /** Local directory for the guest's files. */
    readonly workDir: string,
    private readonly log: Logger,
    /** Local directory for the forwarded QMP sockets: short (sun_path holds 107 bytes), unlike a results dir. */
    private readonly socketDir = workDir,
  ) {}

  get current(): RemoteQemu {
    if (!this.current_) throw new DriverError(DRIVER, 'use', `${this.name} was not started`);
    return this.current_;
  }

  get nics(): readonly GuestNic[] {
    return this.current_?.nics ?? this.sites[0].nics;
  }

  get alive(): boolean {
    return this.current_?.alive ?? false;
  }

  get bootSeconds(): number | undefined {
    return this.bootS;
  }

  /** The site an instance runs on. */
  siteOf(inst: QemuInstanceHandle): PeerSite {
    const site = this.sites.find((s) => s.nics[0]?.socketPath === inst.nics[0]?.socketPath && (inst as RemoteQemu).host === s.host);
    if (!site) throw new DriverError(DRIVER, 'use', `${inst.name} runs on none of ${this.sites.map((s) => s.host.name).join(', ')}`);
    return site;
  }

  private async launch(site: PeerSite, incoming: boolean, paused: boolean): Promise<RemoteQemu> {
    const name = incoming ? `${this.name}-m${++this.seq}` : this.name;
    const files = {
      name,
      qmpSocket: join(site.dir, `${name}-qmp.sock`),
      serialLog: join(site.dir, `${name}-serial.log`),
      clockSocket: join(site.dir, `${name}-clk.sock`),
    };
    await site.host.exec(['rm', '-f', '--', files.qmpSocket, files.serialLog, files.clockSocket]);
    const argv = qemuArgv(this.cfg, this.index, site.nics, files, { incoming, paused });
    this.log.debug(`${site.host.name}: starting ${argv.join(' ')}`);
    const inst = await RemoteQemu.start(site.host, {
      name,
      makeDir: false,
      argv,
      qmpSocket: files.qmpSocket,
      serialLog: files.serialLog,
      clockSocket: files.clockSocket,
      remoteDir: site.dir,
      localDir: this.socketDir,
      nics: site.nics,
      log: this.log,
      timeoutMs: 30_000,
    });
    this.all.push(inst);
    inst.onUnexpectedExit = (e) => {
      if (inst === this.current_ && !this.healthAc.signal.aborted) this.healthAc.abort(e);
    };
    return inst;
  }

  async start(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new AbortedError();
    const site = this.sites[0];
    this.log.info(
      `starting guest ${this.name} on ${site.host.name}: ${this.cfg.accel}, ${ramSizeArg(this.cfg)} RAM, ${site.nics.length} vhost-user NIC(s), loopback ${this.cfg.loopback}`,
    );
    const t0 = performance.now();
    this.current_ = await this.launch(site, false, false);
    this.bootS = -t0;
  }

  async waitReady(timeoutMs = this.cfg.bootTimeoutMs, signal?: AbortSignal): Promise<void> {
    let inst = this.current;
    const deadline = Date.now() + timeoutMs;
    // GUEST_ACCEL=auto chose KVM: a guest that printed nothing after KVM_PROBE_MS hangs under it (nested
    // virtualization): boot once more under TCG, on both sites (the destination must match).
    let kvmProbeUntil = this.cfg.accel === 'kvm' && this.cfg.accelAuto ? Date.now() + KVM_PROBE_MS : undefined;
    for (;;) {
      if (signal?.aborted) throw new AbortedError(`aborted while ${this.name} was booting`);
      const ser = await inst.refreshSerial();
      const err = ser.split('\n').find((l) => l.startsWith(ERROR_MARKER));
      if (err) throw new DriverError(DRIVER, 'boot', `guest ${this.name} reported: ${err.slice(ERROR_MARKER.length).trim()}\n${inst.logTail()}`);
      if (ser.includes(READY_MARKER)) break;
      if (kvmProbeUntil !== undefined && ser.includes('VSPERF-INIT')) kvmProbeUntil = undefined;
      if (kvmProbeUntil !== undefined && Date.now() > kvmProbeUntil) {
        const reason = `KVM guest printed nothing in ${KVM_PROBE_MS / 1000} s on ${inst.host.name} (KVM unusable there, e.g. nested virtualization)`;
        this.log.warn(`${this.name}: ${reason}; falling back to TCG`);
        await inst.stop();
        this.cfg = withTcg(this.cfg, reason);
        inst = this.current_ = await this.launch(this.sites[0], false, false);
        kvmProbeUntil = undefined;
        continue;
      }
      if (!inst.alive) throw new DriverError(DRIVER, 'boot', `QEMU ${this.name} on ${inst.host.name} exited while the guest was booting\n${inst.logTail()}`);
      if (Date.now() > deadline)
        throw new DriverError(
          DRIVER,
          'boot',
          `guest ${this.name} did not print ${READY_MARKER} within ${Math.round(timeoutMs / 1000)} s (GUEST_TIMEOUT)\n${inst.logTail()}`,
        );
      await sleep(200);
    }
    this.bootS = (performance.now() + (this.bootS ?? 0)) / 1000;
    this.log.info(`guest ${this.name} ready on ${inst.host.name} after ${this.bootS.toFixed(2)} s`);
  }

  /** The destination: the site whose NICs these are (the other host), `-incoming defer`. */
  async startIncoming(nics: readonly GuestNic[], _signal?: AbortSignal, _timeoutMs?: number, opts: { paused?: boolean } = {}): Promise<RemoteQemu> {
    const site = this.sites.find((s) => s.nics[0]?.socketPath === nics[0]?.socketPath);
    if (!site) throw new DriverError(DRIVER, 'incoming', `no site of ${this.name} has the vhost-user socket ${nics[0]?.socketPath}`);
    const inst = await this.launch(site, true, opts.paused ?? false);
    const st = await inst.qmp.queryStatus().catch(async (e: unknown) => {
      await inst.stop();
      throw e;
    });
    if (st.status !== 'inmigrate') {
      await inst.stop();
      throw new DriverError(DRIVER, 'incoming', `${inst.name} on ${site.host.name} is in state ${st.status}, expected inmigrate`);
    }
    return inst;
  }

  /** Each migration goes to the other host; the generator addresses the guest's first NIC (the fabric learns it from RARPs). */
  migrationPlan(port: number): MigrationPlan {
    const mac = this.sites[0].nics[0]?.mac ?? defaultGuestMac(this.index, 0);
    return {
      ingressMac: mac,
      next: (src) => {
        const from = this.siteOf(src);
        const to = this.sites.find((s) => s !== from)!;
        const pair = `${from.host.name}→${to.host.name}`;
        const uplink = to.uplink;
        return {
          nics: to.nics,
          direction: pair,
          hostPair: pair,
          peer: { address: to.migrationAddress ?? to.host.target.address, port },
          ...(uplink
            ? {
                observeRelearn: async () => {
                  const o = await RelearnObserver.start(to.host, uplink, mac);
                  return (waitMs: number) => o.result(waitMs);
                },
              }
            : {}),
        };
      },
      release: async () => undefined,
    };
  }

  switchTo(inst: QemuInstanceHandle): RemoteQemu {
    const next = this.all.find((i) => i === inst);
    if (!next) throw new DriverError(DRIVER, 'switch', `${inst.name} is not an instance of ${this.name}`);
    const prev = this.current;
    this.current_ = next;
    return prev;
  }

  /** QEMU's self-announce of the current instance: a few RARPs per NIC, 50 ms apart. */
  async announce(): Promise<void> {
    await this.current.qmp.execute('announce-self', { initial: 50, max: 100, rounds: 2, step: 50 });
  }

  async stop(): Promise<void> {
    for (const inst of [...this.all].reverse()) await inst.stop().catch((e: unknown) => this.log.warn(`stop ${inst.name}: ${(e as Error).message}`));
  }

  facts(): Readonly<Record<string, string | number | boolean>> {
    return {
      guest_name: this.name,
      guest_accel: this.cfg.accel,
      guest_memory_mib: this.cfg.memoryMiB,
      guest_loopback_app: this.cfg.loopback,
      guest_mem_backend: this.cfg.memBackend,
      guest_hosts: this.sites.map((s) => s.host.name).join(','),
      ...(this.current_ ? { guest_host: this.current_.host.name } : {}),
      ...(this.bootS !== undefined && this.bootS > 0 ? { guest_boot_s: Math.round(this.bootS * 1000) / 1000 } : {}),
    };
  }
}

/**
 * The pvp_peer deployment's guest (drivers.ts injects this): the accelerator both hosts have (the
 * destination must match the source), probed on each host; no guest announce (the RARPs after a
 * switch-over come from the vhost-user backend: the guest has no address to announce).
 */
export const launchPeerGuest: PeerGuestLauncher = async (req) => {
  const noKvm: string[] = [];
  for (const site of req.sites) if (!(await kvmUsableOn(site.host))) noKvm.push(site.host.name);
  const cfg: QemuConfig = {
    ...qemuConfigFromSettings(req.settings, req.index, { kvm: noKvm.length === 0, kvmWhere: noKvm.join(', '), thisMachine: req.sameMachine }),
    guestAnnounce: false,
  };
  return new PeerGuest(req.name, cfg, req.index, req.sites, req.workDir, req.log, req.socketDir);
};
