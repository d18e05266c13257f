/**
 * GUEST_* settings (VSPERF names; per-guest lists indexed by VM index, a scalar applies to every
 * guest, an index past the end of a list takes the last entry) resolved into one typed QemuConfig.
 */
import type { HostOps } from '../../framework/host/host-ops.js';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Settings, Json } from '../../framework/config/settings.js';
import { ConfigError, EnvironmentError } from '../../framework/errors.js';
import { autoSmp, checkFwdMode, isDpdkApp, TCG_DPDK_CPU, testpmdAppArgs } from './dpdk-guest.js';

export type Accel = 'kvm' | 'tcg';

export interface QemuConfig {
  readonly qemuBin: string;
  readonly accel: Accel;
  /** Why this accelerator (for the facts: "/dev/kvm present", "GUEST_ACCEL=tcg", …). */
  readonly accelReason: string;
  /** KVM was chosen by GUEST_ACCEL=auto (so a KVM that hangs the guest may fall back to TCG). */
  readonly accelAuto: boolean;
  /** Extra -accel options (GUEST_ACCEL_OPTIONS, e.g. "thread=single" for TCG). */
  readonly accelOptions: string;
  readonly machine: string;
  readonly cpu: string;
  readonly memoryMiB: number;
  readonly smp: number;
  /** Host CPUs the QEMU process is confined to (empty = no binding). */
  readonly coreBinding: readonly number[];
  readonly nicsNr: number;
  readonly loopback: string;
  readonly kernel: string;
  readonly initrd: string;
  /** Directory of the image (for facts). */
  readonly image: string;
  readonly bootTimeoutMs: number;
  readonly memBackend: 'memfd' | 'hugepages';
  readonly hugepagesDir: string;
  /**
   * KiB added to the guest RAM under TCG with memfd memory (GUEST_TCG_RAM_PAD_KB; 0/undefined = none).
   * QEMU < 9.0 loses TCG guest stores during live migration when the RAM block is a multiple of 256 KiB:
   * its word-at-a-time dirty-bitmap sync clears the bits without re-arming the TCG TLB's dirty tracking
   * (fixed upstream by 03bfc2188f, QEMU 9.0; not in Debian 12's 7.2). Any other size takes the
   * page-by-page sync, which re-arms it.
   */
  readonly tcgRamPadKiB?: number;
  /** virtio-net-pci `vectors=` (0 under TCG: QEMU 7.2 segfaults with MSI-X + vhost-user); undefined = omit. */
  readonly vectors: number | undefined;
  readonly nicQueues: number;
  readonly mergeBuffersDisable: boolean;
  /**
   * false: the virtio NICs do not offer VIRTIO_NET_F_GUEST_ANNOUNCE, so after a migration QEMU asks the
   * vhost-user backend to send the RARPs (VHOST_USER_SEND_RARP) instead of asking a guest that has no
   * address to announce (peer-to-peer migration: the fabric relearns from those RARPs).
   */
  readonly guestAnnounce?: boolean;
  readonly extraArgs: readonly string[];
  readonly appendExtra: string;
  /** testpmd's forwarding mode and extra application arguments (DPDK loopback apps only). */
  readonly testpmd?: { readonly fwdMode: string; readonly args: readonly string[]; readonly dropped: readonly string[] };
  /** Host PCI devices passed through with vfio-pci (from the deployment's attachment, not from settings). */
  readonly pciDevices?: readonly string[];
}

/** Value of a per-guest setting for guest `index`. */
export function perGuest(settings: Settings, key: string, index: number): Json | undefined {
  if (!settings.has(key)) return undefined;
  const v = settings.get(key);
  if (Array.isArray(v)) return v.length ? (v[Math.min(index, v.length - 1)] as Json) : undefined;
  return v;
}

function num(settings: Settings, key: string, index: number, dflt: number, min = 0): number {
  const v = perGuest(settings, key, index);
  if (v === undefined || v === null || v === '') return dflt;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n) || n < min) throw new ConfigError(key, settings.source(key), `guest ${index}: must be a number ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
}

function str(settings: Settings, key: string, index: number, dflt: string): string {
  const v = perGuest(settings, key, index);
  return v === undefined || v === null || v === '' ? dflt : String(v);
}

function bool(settings: Settings, key: string, index: number, dflt: boolean): boolean {
  const v = perGuest(settings, key, index);
  if (v === undefined || v === null || v === '') return dflt;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|yes|1)$/i.test(v)) return true;
  if (typeof v === 'string' && /^(false|no|0)$/i.test(v)) return false;
  throw new ConfigError(key, settings.source(key), `guest ${index}: must be a boolean, got ${JSON.stringify(v)}`);
}

/** "1,3", "1-3", [1,3], 1 → [1,3] / [1,2,3] / [1]. */
export function parseCpuList(v: Json | undefined, key: string, source: string): number[] {
  if (v === undefined || v === null || v === '') return [];
  const parts: string[] = Array.isArray(v) ? v.map((x) => String(x)) : String(v).split(',');
  const out: number[] = [];
  for (const p of parts.map((x) => x.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(p);
    if (!m) throw new ConfigError(key, source, `not a CPU list entry: ${JSON.stringify(p)} (use e.g. [0,1] or "0-1")`);
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    for (let c = a; c <= b; c++) out.push(c);
  }
  return [...new Set(out)];
}

/** Host CPUs in a hex CPU mask ("2" / "0x6" → [1] / [1, 2]). */
export function cpusOfMask(mask: string): number[] {
  const v = BigInt(mask.startsWith('0x') || mask.startsWith('0X') ? mask : `0x${mask}`);
  const out: number[] = [];
  for (let i = 0; i < 256; i++) if ((v >> BigInt(i)) & 1n) out.push(i);
  return out;
}

/**
 * GUEST_CORE_BINDING for guest `index`. "auto" = every online CPU except the vSwitch PMD cores
 * (VSWITCH_PMD_CPU_MASK): a busy-polling PMD sharing a core with QEMU stretches every migration
 * downtime; if that leaves no CPU, no binding.
 */
export function coreBinding(settings: Settings, index: number): number[] {
  const v = perGuest(settings, 'GUEST_CORE_BINDING', index);
  const auto = v === 'auto' || (Array.isArray(v) && v.length === 1 && v[0] === 'auto');
  if (!auto) return parseCpuList(v, 'GUEST_CORE_BINDING', settings.source('GUEST_CORE_BINDING'));
  const n = cpus().length;
  let pmd: number[] = [];
  try {
    pmd = cpusOfMask(String(settings.getOr('VSWITCH_PMD_CPU_MASK', '') || '0'));
  } catch {
    pmd = [];
  }
  const rest = Array.from({ length: n }, (_, i) => i).filter((c) => !pmd.includes(c));
  return rest.length && rest.length < n ? rest : [];
}

/** The project root (where package.json and .vsperf/ live), from dist/vnfs/qemu or vnfs/qemu. */
export function projectRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'conf'))) return d;
    d = dirname(d);
  }
  return process.cwd();
}

/** Directory of the built-in image (`npm run setup` builds it there). */
export function builtinImageDir(): string {
  return process.env.VSPERF_GUEST_DIR || join(projectRoot(), '.vsperf', 'guest');
}

export function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * KVM probe result cached next to the image: on some nested-virtualization hosts /dev/kvm exists but a
 * Linux guest hangs right after decompression. The driver then falls back to TCG once and records it
 * here (keyed by host kernel and QEMU binary), so later runs go straight to TCG.
 */
function probeFile(): string {
  return join(builtinImageDir(), 'kvm-probe.json');
}

function probeKey(): string {
  let qemu = '';
  try {
    qemu = String(statSync('/usr/bin/qemu-system-x86_64').mtimeMs);
  } catch {
    /* other path */
  }
  return `${release()}|${qemu}`;
}

/** Reason KVM is known not to boot guests on this host, or undefined. */
export function kvmKnownBroken(): string | undefined {
  try {
    const p = JSON.parse(readFileSync(probeFile(), 'utf8')) as { key: string; ok: boolean; reason?: string };
    return p.key === probeKey() && !p.ok ? (p.reason ?? 'KVM hangs guests on this host') : undefined;
  } catch {
    return undefined;
  }
}

export function recordKvmProbe(ok: boolean, reason?: string): void {
  try {
    writeFileSync(probeFile(), JSON.stringify({ key: probeKey(), ok, ...(reason ? { reason } : {}), at: new Date().toISOString() }) + '\n');
  } catch {
    /* read-only image dir: probe again next time */
  }
}

/** The CPU model of a TCG guest when GUEST_CPU_OPTIONS is auto: DPDK apps need SSE4.2 and POPCNT. */
function tcgCpu(loopback: string): string {
  return isDpdkApp(loopback) ? TCG_DPDK_CPU : 'qemu64';
}

/** The same config with TCG instead of KVM (after a KVM boot hang). */
export function withTcg(cfg: QemuConfig, reason: string): QemuConfig {
  // A DPDK app on qemu64 dies of SIGILL in its constructors, before it prints anything.
  return { ...cfg, accel: 'tcg', accelReason: `TCG: ${reason}`, cpu: cfg.cpu.startsWith('host') ? tcgCpu(cfg.loopback) : cfg.cpu, vectors: cfg.vectors ?? 0 };
}

/** GUEST_TCG_RAM_PAD_KB: a multiple of 4 KiB (page), and not of 256 KiB (that would keep QEMU's fast sync). */
export function tcgRamPad(settings: Settings, index: number): number {
  const pad = num(settings, 'GUEST_TCG_RAM_PAD_KB', index, 64, 0);
  if (pad % 4 !== 0 || (pad > 0 && pad % 256 === 0)) {
    throw new ConfigError(
      'GUEST_TCG_RAM_PAD_KB',
      settings.source('GUEST_TCG_RAM_PAD_KB'),
      `guest ${index}: must be 0 or a multiple of 4 that is not a multiple of 256 (KiB), got ${pad}`,
    );
  }
  return pad;
}

const versions = new Map<string, [number, number] | undefined>();

/** Major and minor version of a QEMU binary (`--version`), cached per binary; undefined when it cannot tell. */
export function qemuVersionOf(bin: string): [number, number] | undefined {
  if (!versions.has(bin)) {
    const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    const m = /version (\d+)\.(\d+)/.exec(r.stdout ?? '');
    versions.set(bin, m ? [Number(m[1]), Number(m[2])] : undefined);
  }
  return versions.get(bin);
}

/**
 * QEMU ≥ 9.0 carries upstream 03bfc2188f (TCG dirty-bitmap coherency during migration): the RAM pad is
 * not needed there, and leaving it out removes the page-by-page first dirty sync that stalls the guest
 * for 100–270 ms at the start of every migration.
 */
export function needsTcgPad(bin: string): boolean {
  const v = qemuVersionOf(bin);
  return v === undefined || v[0] < 9;
}

/** The guest RAM size for -m and the memory backend: MiB, or KiB when the TCG pad applies. */
export function ramSizeArg(cfg: QemuConfig): string {
  const pad = cfg.accel === 'tcg' && cfg.memBackend === 'memfd' ? (cfg.tcgRamPadKiB ?? 0) : 0;
  return pad > 0 ? `${Math.round(cfg.memoryMiB * 1024) + pad}K` : `${cfg.memoryMiB}M`;
}

/** Whether /dev/kvm is usable on `host` (this machine or another one, through its HostOps). */
export async function kvmUsableOn(host: HostOps): Promise<boolean> {
  return (await host.exec(['test', '-r', '/dev/kvm', '-a', '-w', '/dev/kvm'], { allowFail: true })).code === 0;
}

/**
 * `kvm`: what the hosts the guest runs on say of /dev/kvm (kvmUsableOn), when that is not (only) this
 * machine; `kvmWhere` names them in the error. The KVM probe cache describes this machine: it applies
 * only when `thisMachine` says those hosts share its kernel (the two-host sandbox's namespaces).
 */
export function qemuConfigFromSettings(settings: Settings, index: number, hosts: { kvm?: boolean; kvmWhere?: string; thisMachine?: boolean } = {}): QemuConfig {
  const accelWish = str(settings, 'GUEST_ACCEL', index, 'auto').toLowerCase();
  if (!['auto', 'kvm', 'tcg'].includes(accelWish))
    throw new ConfigError('GUEST_ACCEL', settings.source('GUEST_ACCEL'), `must be auto, kvm or tcg, got ${JSON.stringify(accelWish)}`);
  const haveKvm = hosts.kvm ?? kvmUsable();
  if (accelWish === 'kvm' && !haveKvm)
    throw new EnvironmentError(`GUEST_ACCEL=kvm but /dev/kvm is missing or not accessible${hosts.kvmWhere ? ` on ${hosts.kvmWhere}` : ''}`, {
      hint: 'use GUEST_ACCEL=auto to fall back to TCG',
    });
  const kvmBroken = accelWish === 'auto' && haveKvm && (hosts.kvm === undefined || hosts.thisMachine) ? kvmKnownBroken() : undefined;
  const accel: Accel = accelWish === 'tcg' ? 'tcg' : accelWish === 'kvm' ? 'kvm' : haveKvm && !kvmBroken ? 'kvm' : 'tcg';
  const accelReason =
    accelWish !== 'auto' ? `GUEST_ACCEL=${accelWish}` : !haveKvm ? '/dev/kvm absent: TCG emulation' : kvmBroken ? `TCG: ${kvmBroken}` : '/dev/kvm present';

  const imageSetting = str(settings, 'GUEST_IMAGE', index, '');
  const image = imageSetting || builtinImageDir();
  const kernel = join(image, 'vmlinuz');
  const initrd = join(image, 'initramfs.gz');
  if (!existsSync(kernel) || !existsSync(initrd)) {
    throw new EnvironmentError(`guest image ${image} has no vmlinuz + initramfs.gz`, {
      hint: imageSetting ? 'GUEST_IMAGE must name a directory with vmlinuz and initramfs.gz' : 'run `npm run setup` to build the guest image',
    });
  }
  const cpuSetting = str(settings, 'GUEST_CPU_OPTIONS', index, 'auto');
  const loopback = str(settings, 'GUEST_LOOPBACK', index, 'testpmd');
  const cpu = cpuSetting === 'auto' ? (accel === 'kvm' ? 'host,-arch-capabilities' : tcgCpu(loopback)) : cpuSetting;
  const vecSetting = perGuest(settings, 'GUEST_NIC_VECTORS', index);
  const vectors =
    vecSetting === undefined || vecSetting === null || vecSetting === 'auto'
      ? accel === 'tcg'
        ? 0
        : undefined
      : vecSetting === ''
        ? undefined
        : num(settings, 'GUEST_NIC_VECTORS', index, 0);
  const memBackend = str(settings, 'GUEST_MEM_BACKEND', index, 'memfd');
  if (memBackend !== 'memfd' && memBackend !== 'hugepages')
    throw new ConfigError('GUEST_MEM_BACKEND', settings.source('GUEST_MEM_BACKEND'), `must be memfd or hugepages, got ${JSON.stringify(memBackend)}`);
  const extra = perGuest(settings, 'GUEST_QEMU_EXTRA_ARGS', index);
  const extraArgs = Array.isArray(extra) ? extra.map(String) : typeof extra === 'string' && extra ? extra.split(/\s+/) : [];
  return {
    qemuBin: str(settings, 'QEMU_BIN', 0, 'qemu-system-x86_64'),
    accel,
    accelReason,
    accelAuto: accelWish === 'auto',
    accelOptions: str(settings, 'GUEST_ACCEL_OPTIONS', index, ''),
    machine: str(settings, 'GUEST_MACHINE', index, 'q35'),
    cpu,
    memoryMiB: num(settings, 'GUEST_MEMORY', index, 256, 64),
    smp: perGuest(settings, 'GUEST_SMP', index) === 'auto' ? autoSmp(loopback) : num(settings, 'GUEST_SMP', index, autoSmp(loopback), 1),
    coreBinding: coreBinding(settings, index),
    nicsNr: num(settings, 'GUEST_NICS_NR', index, 2, 0),
    loopback,
    kernel,
    initrd,
    image,
    bootTimeoutMs: num(settings, 'GUEST_TIMEOUT', index, 120, 1) * 1000,
    memBackend,
    hugepagesDir: str(settings, 'GUEST_HUGEPAGES_DIR', index, '/dev/hugepages'),
    tcgRamPadKiB: needsTcgPad(str(settings, 'QEMU_BIN', 0, 'qemu-system-x86_64')) ? tcgRamPad(settings, index) : 0,
    vectors,
    nicQueues: num(settings, 'GUEST_NIC_QUEUES', index, 0, 0),
    mergeBuffersDisable: bool(settings, 'GUEST_NIC_MERGE_BUFFERS_DISABLE', index, false),
    extraArgs,
    appendExtra: str(settings, 'GUEST_KERNEL_APPEND', index, ''),
    ...(isDpdkApp(loopback) ? { testpmd: testpmdConfig(settings, index) } : {}),
  };
}

/** VSPERF's GUEST_TESTPMD_FWD_MODE and GUEST_TESTPMD_PARAMS for guest `index`. */
function testpmdConfig(settings: Settings, index: number): NonNullable<QemuConfig['testpmd']> {
  const fwdMode = checkFwdMode(str(settings, 'GUEST_TESTPMD_FWD_MODE', index, 'io'), settings.source('GUEST_TESTPMD_FWD_MODE'));
  const { args, dropped } = testpmdAppArgs(str(settings, 'GUEST_TESTPMD_PARAMS', index, ''), settings.source('GUEST_TESTPMD_PARAMS'));
  return { fwdMode, args, dropped };
}
