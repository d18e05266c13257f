/**
 * `Software`: the built-in traffic generator. Real frames on interfaces (veth ends in network namespaces
 * in the sandbox, NIC netdevs otherwise), sent and counted by the native vsg-engine (engine/), one
 * engine process per trial, controlled over the line protocol in protocol.ts.
 */
import { basicStream } from '../../framework/api/example-spec.js';
import { checkTrafficSpec, checkTrialSpec } from '../../framework/api/trial-check.js';
import { readFileSync } from 'node:fs';
import type { DriverContext } from '../../framework/api/driver.js';
import type { Settings } from '../../framework/config/settings.js';
import type { Host } from '../../framework/host/host.js';
import type { Logger } from '../../framework/log/logger.js';
import { silentLogger } from '../../framework/log/logger.js';
import { exec } from '../../framework/host/exec.js';
import { CapabilityError, ConfigError, DriverError, EnvironmentError } from '../../framework/errors.js';
import {
  TUNNEL_TYPES,
  type ContinuousRun,
  type GeneratorCaps,
  type LiveCounters,
  type PortSpec,
  type TrafficGenerator,
  type TrafficSpec,
  type TrialHooks,
  type TrialResult,
  type TrialSpec,
} from '../../framework/api/trafficgen.js';
import { defaultEnginePath, EngineRun, requireEngine } from './engine-run.js';
import { buildPlan, MAX_FRAME_SIZE, type PlanPort, type TrialBounds } from './plan.js';
import { engineArgv, parseEngineLine, portArg, TX_BURST_MAX, TX_BURST_WAIT_US_MAX, type Backend, type EnginePlan, type EngineProgress } from './protocol.js';
import { trialResultOf } from './results.js';
import { availableParallelism } from 'node:os';
import { cpuOwners, dpdkPreflight, freeCpus, isDpdkPort } from './dpdk.js';
import { PCI_ADDRESS_RE, type PciBinder } from '../../framework/host/pci.js';
import { bindNicsForDpdk } from './nic-bind.js';

export interface SoftwareOptions {
  readonly enginePath: string;
  /** Default I/O backend for ports that do not name one. */
  readonly backend: Backend;
  /** CPUs for the engine's TX/RX threads (round robin); empty = no pinning. */
  readonly cpus: readonly number[];
  readonly drainS: number;
  readonly progressMs: number;
  readonly learningFps: number;
  /** Known maximum rate (fps, 64 B, one direction); 0 = calibrate at connect when calibrateS > 0. */
  readonly maxRateFps: number;
  readonly calibrateS: number;
  /** Calibrate with traffic in both directions (as the testcases will run: TRAFFIC.bidir). */
  readonly calibrateBidir: boolean;
  readonly batch: number;
  readonly ringFrames: number;
  /** > 0: the engine's TX threads run SCHED_FIFO at this priority (pacing on a busy host). */
  readonly rtPriority: number;
  /** dpdk backend: RX and TX queues per port (1..4). */
  readonly queues: number;
  /**
   * dpdk backend: paced frames leave once this many are due (1 = each when due) or once the oldest due
   * frame has waited txBurstWaitUs; the average rate and each frame's schedule are kept.
   */
  readonly txBurst: number;
  readonly txBurstWaitUs: number;
  /** sysfs and /dev/vfio for binding PCI ports (SRIOV_SYSFS_ROOT, VFIO_DEV_DIR: a fake tree in tests). */
  readonly sysfsRoot?: string;
  readonly vfioDir?: string;
}

export const DEFAULT_OPTIONS: SoftwareOptions = {
  enginePath: '',
  backend: 'auto',
  cpus: [],
  drainS: 1,
  progressMs: 250,
  learningFps: 1000,
  maxRateFps: 0,
  calibrateS: 1,
  calibrateBidir: true,
  batch: 64,
  ringFrames: 4096,
  rtPriority: 0,
  queues: 1,
  txBurst: 32,
  txBurstWaitUs: 50,
};

/**
 * Longest the engine keeps its ports after a trial for the caller's read (TrialHooks.beforeRelease; the
 * hook gets this less HOOK_MARGIN_MS). Reading op2p/ptunp's four bridges (sync, dump-ports, interface and
 * PMD statistics), maybe over SSH on a loaded host, takes seconds; a hook that needs longer fails the trial.
 */
export const HOLD_S = 30;

/** Share of the calibrated flat-out rate announced as the maximum. */
export const CALIBRATION_HEADROOM = 0.95;

const BACKENDS: readonly Backend[] = ['auto', 'af_packet', 'af_xdp', 'dpdk'];
let dpdkRuns = 0;

/** The TRAFFICGEN_SOFTWARE_* settings (conf/03_traffic_software.json) as options. */
export function optionsFromSettings(s: Settings): SoftwareOptions {
  const num = (k: string, d: number): number => (s.has(k) ? s.number(k) : d);
  const backend = s.has('TRAFFICGEN_SOFTWARE_BACKEND') ? s.string('TRAFFICGEN_SOFTWARE_BACKEND') : 'auto';
  if (!BACKENDS.includes(backend as Backend))
    throw new ConfigError('TRAFFICGEN_SOFTWARE_BACKEND', s.source('TRAFFICGEN_SOFTWARE_BACKEND'), `must be one of ${BACKENDS.join(', ')}, got "${backend}"`);
  const cpusRaw: unknown = s.getOr('TRAFFICGEN_SOFTWARE_CORES', []);
  if (!Array.isArray(cpusRaw) || !cpusRaw.every((c) => Number.isInteger(c) && (c as number) >= 0))
    throw new ConfigError('TRAFFICGEN_SOFTWARE_CORES', s.source('TRAFFICGEN_SOFTWARE_CORES'), 'must be a list of CPU numbers');
  return {
    enginePath: s.has('TRAFFICGEN_SOFTWARE_ENGINE') && s.string('TRAFFICGEN_SOFTWARE_ENGINE') ? s.string('TRAFFICGEN_SOFTWARE_ENGINE') : '',
    backend: backend as Backend,
    cpus: cpusRaw as number[],
    drainS: num('TRAFFICGEN_SOFTWARE_DRAIN_S', DEFAULT_OPTIONS.drainS),
    progressMs: num('TRAFFICGEN_SOFTWARE_PROGRESS_MS', DEFAULT_OPTIONS.progressMs),
    learningFps: num('TRAFFICGEN_SOFTWARE_LEARNING_FPS', DEFAULT_OPTIONS.learningFps),
    maxRateFps: num('TRAFFICGEN_SOFTWARE_MAX_RATE_FPS', DEFAULT_OPTIONS.maxRateFps),
    calibrateS: num('TRAFFICGEN_SOFTWARE_CALIBRATE_S', DEFAULT_OPTIONS.calibrateS),
    calibrateBidir: s.has('TRAFFIC.bidir') ? /^(true|yes|1)$/i.test(String(s.get('TRAFFIC.bidir'))) : DEFAULT_OPTIONS.calibrateBidir,
    batch: num('TRAFFICGEN_SOFTWARE_BATCH', DEFAULT_OPTIONS.batch),
    ringFrames: num('TRAFFICGEN_SOFTWARE_RING_FRAMES', DEFAULT_OPTIONS.ringFrames),
    rtPriority: num('TRAFFICGEN_SOFTWARE_RT_PRIORITY', DEFAULT_OPTIONS.rtPriority),
    queues: queuesSetting(s),
    ...txBurstSettings(s),
    ...(s.has('SRIOV_SYSFS_ROOT') ? { sysfsRoot: s.string('SRIOV_SYSFS_ROOT') } : {}),
    ...(s.has('VFIO_DEV_DIR') ? { vfioDir: s.string('VFIO_DEV_DIR') } : {}),
  };
}

function queuesSetting(s: Settings): number {
  const q = s.has('TRAFFICGEN_SOFTWARE_QUEUES') ? s.number('TRAFFICGEN_SOFTWARE_QUEUES') : DEFAULT_OPTIONS.queues;
  if (!Number.isInteger(q) || q < 1 || q > 4)
    throw new ConfigError('TRAFFICGEN_SOFTWARE_QUEUES', s.source('TRAFFICGEN_SOFTWARE_QUEUES'), `must be an integer 1..4, got ${String(q)}`);
  return q;
}

function txBurstSettings(s: Settings): { txBurst: number; txBurstWaitUs: number } {
  const b = s.has('TRAFFICGEN_SOFTWARE_TX_BURST') ? s.number('TRAFFICGEN_SOFTWARE_TX_BURST') : DEFAULT_OPTIONS.txBurst;
  if (!Number.isInteger(b) || b < 1 || b > TX_BURST_MAX)
    throw new ConfigError(
      'TRAFFICGEN_SOFTWARE_TX_BURST',
      s.source('TRAFFICGEN_SOFTWARE_TX_BURST'),
      `must be an integer 1..${TX_BURST_MAX} (frames), got ${String(b)}`,
    );
  const w = s.has('TRAFFICGEN_SOFTWARE_TX_BURST_WAIT_US') ? s.number('TRAFFICGEN_SOFTWARE_TX_BURST_WAIT_US') : DEFAULT_OPTIONS.txBurstWaitUs;
  if (!Number.isFinite(w) || w < 0 || w > TX_BURST_WAIT_US_MAX)
    throw new ConfigError(
      'TRAFFICGEN_SOFTWARE_TX_BURST_WAIT_US',
      s.source('TRAFFICGEN_SOFTWARE_TX_BURST_WAIT_US'),
      `must be 0..${TX_BURST_WAIT_US_MAX} (µs), got ${String(w)}`,
    );
  return { txBurst: b, txBurstWaitUs: w };
}

/** True when this process may open raw sockets and enter network namespaces. */
export function hasPrivileges(): boolean {
  if (process.getuid?.() === 0) return true;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    const caps = m ? BigInt(`0x${m[1]}`) : 0n;
    const NET_RAW = 1n << 13n;
    const SYS_ADMIN = 1n << 21n;
    return (caps & NET_RAW) !== 0n && (caps & SYS_ADMIN) !== 0n;
  } catch {
    return false;
  }
}

export class SoftwareGenerator implements TrafficGenerator {
  readonly name = 'Software';
  private ports: PlanPort[] = [];
  private maxRate: number | undefined;
  private readonly opts: SoftwareOptions;
  private continuous: EngineRun | undefined;
  /** PCI ports bound to vfio-pci by connect(): their original drivers come back at close(). */
  private nicBinder: PciBinder | undefined;
  /** CPUs for the engine's threads: TRAFFICGEN_SOFTWARE_CORES, or (dpdk) the CPUs no busy poller owns. */
  private cpus: readonly number[];

  constructor(
    private readonly host: Host,
    opts: Partial<SoftwareOptions> = {},
    private readonly log: Logger = silentLogger,
  ) {
    this.opts = { ...DEFAULT_OPTIONS, ...opts, enginePath: opts.enginePath || defaultEnginePath() };
    if (this.opts.maxRateFps > 0) this.maxRate = this.opts.maxRateFps;
    this.cpus = this.opts.cpus;
  }

  capabilities(): GeneratorCaps {
    return {
      continuous: true,
      latency: true,
      bidir: true,
      imix: true,
      vlan: true,
      ipv6: true,
      // encap.ts puts on every tunnel type
      tunnels: TUNNEL_TYPES,
      // Untagged frames incl. FCS that the connected ports' MTU and the engine allow (9018 before connect).
      maxFrameSize: this.ports.length ? Math.min(MAX_FRAME_SIZE, ...this.ports.map((p) => p.mtuFound + 18)) : 9018,
      ...(this.maxRate !== undefined ? { maxRateFps: this.maxRate } : {}),
    };
  }

  /** Checks: root, engine built, each interface exists, is up; records MTUs. Then calibrates if asked. */
  async connect(ports: readonly PortSpec[], signal?: AbortSignal): Promise<void> {
    if (ports.length < 1 || ports.length > 2) throw new CapabilityError('Software', `${ports.length} ports`, 'one engine drives one port or one port pair');
    if (!hasPrivileges())
      throw new EnvironmentError('the Software generator needs root (raw sockets and network namespaces need CAP_NET_RAW and CAP_SYS_ADMIN)', {
        hint: 'run vsperf as root',
      });
    requireEngine(this.opts.enginePath);
    for (const p of ports)
      if (p.backend !== undefined && !BACKENDS.includes(p.backend))
        throw new DriverError('Software', 'connect', `port ${p.name}: unknown backend "${String(p.backend)}"`, { kind: 'usage' });
    const dpdk = ports.map((p) => isDpdkPort(p, this.opts.backend));
    if (dpdk.some(Boolean)) await this.prepareDpdk(ports.filter((_, i) => dpdk[i]));
    const kernelPorts = ports.filter((_, i) => !dpdk[i]);
    const argv = ['check', ...kernelPorts.flatMap((p) => ['--port', portArg({ name: p.name, ...(p.netns ? { netns: p.netns } : {}) })])];
    const r = await exec([this.opts.enginePath, ...argv], { allowFail: true, timeoutMs: 10_000, ...(signal ? { signal } : {}) });
    const line = r.stdout.split('\n').find((l) => l.includes('"event"'));
    if (!line) throw new DriverError('Software', 'connect', `engine check printed nothing (exit ${r.code}): ${r.stderr.trim().slice(-200)}`);
    const ev = parseEngineLine(line);
    if (ev.event !== 'check') throw new DriverError('Software', 'connect', `engine check answered "${ev.event}"`);
    const found: PlanPort[] = [];
    let k = 0;
    ports.forEach((p, i) => {
      // A DPDK device is checked by the engine when it opens it (EAL start); its MTU is the configured one.
      if (dpdk[i]) return void found.push({ ...p, backend: 'dpdk', mtuFound: p.mtu ?? 1500 });
      const c = ev.ports[k++];
      const where = p.netns ? ` in network namespace ${p.netns}` : '';
      if (!c) throw new DriverError('Software', 'connect', `engine check did not report port ${p.name}`);
      if (c.error)
        throw new EnvironmentError(`port ${i} (${p.name}${where}): ${c.error}`, { hint: p.netns ? `does /run/netns/${p.netns} exist?` : 'run as root' });
      if (!c.exists) throw new EnvironmentError(`port ${i}: interface ${p.name} not found${where}`, { hint: 'check TRAFFICGEN_PORTS / the deployment ports' });
      if (!c.up)
        throw new EnvironmentError(`port ${i}: interface ${p.name}${where} is down`, { hint: `ip ${p.netns ? `-n ${p.netns} ` : ''}link set ${p.name} up` });
      found.push({ ...p, mtuFound: c.mtu });
    });
    this.ports = found;
    if (this.maxRate === undefined && this.opts.calibrateS > 0) {
      this.maxRate = await this.calibrate(signal);
      this.log.info(
        `Software: calibrated maximum rate ${Math.round(this.maxRate)} fps per direction (64 B, ${this.ports.length > 1 && this.opts.calibrateBidir ? 'both directions' : 'one direction'})`,
      );
    }
  }

  /**
   * Before a dpdk engine starts: hugepages, the engine's CPUs not owned by another poller, and PCI ports
   * on vfio-pci (bound here with the SR-IOV code's driver_override steps, journalled, restored at close;
   * then the passthrough preflight: IOMMU group viable, /dev/vfio node usable).
   */
  private async prepareDpdk(ports: readonly PortSpec[]): Promise<void> {
    dpdkPreflight(this.opts.cpus);
    if (!this.opts.cpus.length) {
      // A polling engine next to a switch's PMD: keep off the PMD's CPU (2-core box: PMD on one, engine on the other).
      const free = freeCpus(cpuOwners());
      if (free.length && free.length < availableParallelism()) {
        this.cpus = free;
        this.log.info(
          `Software: dpdk engine on CPU ${free.join(',')} (the others are polled by ${cpuOwners()
            .map((o) => o.comm)
            .join(', ')})`,
        );
      }
    }
    const pcis = ports.filter((p) => p.pci && !p.devargs).map((p) => p.pci!);
    if (!pcis.length) return;
    for (const pci of pcis)
      if (!PCI_ADDRESS_RE.test(pci)) throw new DriverError('Software', 'connect', `"${pci}" is not a full PCI address (e.g. 0000:05:00.0)`, { kind: 'usage' });
    const { sysfsRoot, vfioDir } = this.opts;
    await this.nicBinder?.release(); // connected before: give the devices back first
    this.nicBinder = await bindNicsForDpdk(pcis, { host: this.host, log: this.log, ...(sysfsRoot ? { sysfsRoot } : {}), ...(vfioDir ? { vfioDir } : {}) });
  }

  /**
   * Flat-out 64-byte trial for calibrateS (both directions when the testcases run bidirectional): the
   * achieved TX rate per direction, less 5 % headroom for the run-to-run spread of a shared CPU, is
   * announced as maxRateFps so searches do not waste trials the generator cannot send.
   */
  async calibrate(signal?: AbortSignal): Promise<number> {
    const speed = this.ports[0]?.speedMbps ?? 10_000;
    const bidir = this.ports.length > 1 && this.opts.calibrateBidir;
    const r = await this.runTrial({ ...calibrationSpec(), bidir, rate: { unit: 'pct', value: 100 }, durationS: this.opts.calibrateS, drainS: 0.2 }, signal);
    const perDir = Math.min(...r.directions.map((d) => d.txFrames)) / Math.max(r.durationS, 1e-9);
    if (!(perDir > 0)) throw new DriverError('Software', 'calibrate', `sent nothing in ${this.opts.calibrateS} s at ${speed} Mbit/s`);
    return perDir * CALIBRATION_HEADROOM;
  }

  async runTrial(spec: TrialSpec, signal?: AbortSignal, onProgress?: (c: LiveCounters) => void, hooks?: TrialHooks): Promise<TrialResult> {
    checkTrialSpec('Software', this.capabilities(), spec);
    const built = buildPlan(spec, this.ports, { ...this.opts, cpus: this.cpus });
    const offeredFps = built.offeredFps;
    // The engine keeps its ports until the caller has read what it needs (the switch's counters).
    const plan = hooks?.beforeRelease ? { ...built.plan, holdS: HOLD_S } : built.plan;
    const started = Date.now();
    const trafficS = spec.durationS ?? (spec.frames ?? 0) / Math.max(1, Math.min(offeredFps, this.maxRate ?? offeredFps));
    const run = await EngineRun.start({
      host: this.host,
      enginePath: this.opts.enginePath,
      ...this.engineArgs(plan),
      operation: 'runTrial',
      xdpPorts: this.xdpPorts(plan.ports.length),
      ...(signal ? { signal } : {}),
      ...(onProgress ? { onProgress: (p: EngineProgress) => onProgress({ elapsedS: p.elapsed_s, txFrames: p.tx, rxFrames: p.rx }) } : {}),
      ...(hooks?.beforeRelease ? { beforeRelease: hooks.beforeRelease, holdS: HOLD_S } : {}),
      // Until the result line; the hold and the exit have their own time after it (EngineRun.finish).
      timeoutMs: Math.ceil((trafficS * 2 + (spec.learningS ?? 0) + plan.drainS + 15) * 1000),
    });
    const res = await run.finish();
    return trialResultOf(res, { offeredFps, wallS: (Date.now() - started) / 1000, txPacing: plan });
  }

  /** The engine's argv; a run with DPDK ports gets its own EAL file prefix, journalled for the janitor. */
  private engineArgs(plan: EnginePlan): { argv: string[]; dpdkRuntimeDir?: string } {
    const dpdkPorts = plan.ports.some((p) => p.backend === 'dpdk');
    if (!dpdkPorts) return { argv: engineArgv(plan) };
    const prefix = `vsg-${process.pid}-${++dpdkRuns}`;
    const base = process.getuid?.() === 0 ? '/var/run/dpdk' : `${process.env.XDG_RUNTIME_DIR ?? '/tmp'}/dpdk`;
    // A vhost-user "phy" port (sandbox) would hold the sender back when the switch falls behind, where a
    // NIC's wire drops at the switch's full RX ring: the engine drops too, and the switch's limit shows as loss.
    const txDropFull = plan.ports.some((p) => p.dev?.startsWith('net_virtio_user'));
    return { argv: engineArgv({ ...plan, dpdkPrefix: prefix, ...(txDropFull ? { txDropFull } : {}) }), dpdkRuntimeDir: `${base}/${prefix}` };
  }

  /** Ports that may run AF_XDP (backend auto or af_xdp): the engine attaches an XDP program there. */
  private xdpPorts(n: number): { iface: string; netns?: string }[] {
    return this.ports
      .slice(0, n)
      .filter((p) => !['af_packet', 'dpdk'].includes(p.backend ?? this.opts.backend))
      .map((p) => ({ iface: p.name, ...(p.netns ? { netns: p.netns } : {}) }));
  }

  async startContinuous(spec: TrafficSpec, signal?: AbortSignal): Promise<ContinuousRun> {
    checkTrafficSpec('Software', this.capabilities(), spec);
    if (this.continuous) throw new DriverError('Software', 'startContinuous', 'continuous traffic is already running', { kind: 'usage' });
    const bounds: TrialBounds = { durationS: 365 * 24 * 3600 };
    const { plan: base, offeredFps } = buildPlan({ ...spec, ...bounds }, this.ports, { ...this.opts, cpus: this.cpus });
    // Continuous traffic is what live migration measures on: keep the receiver's 1 ms timeline.
    const plan = { ...base, timeline: true };
    const started = Date.now();
    const run = await EngineRun.start({
      host: this.host,
      enginePath: this.opts.enginePath,
      ...this.engineArgs(plan),
      operation: 'continuous',
      xdpPorts: this.xdpPorts(plan.ports.length),
      ...(signal ? { signal } : {}),
      timeoutMs: 2 ** 31 - 1,
    });
    this.continuous = run;
    const result = run.finish();
    result.catch(() => undefined); // observed by stop()
    return {
      poll: async () => {
        const p = run.lastProgress;
        return { elapsedS: p?.elapsed_s ?? 0, txFrames: p?.tx ?? 0, rxFrames: p?.rx ?? 0 };
      },
      mark: async () => run.mark(),
      stop: async () => {
        run.requestStop();
        try {
          return trialResultOf(await result, { offeredFps, wallS: (Date.now() - started) / 1000, txPacing: base });
        } finally {
          this.continuous = undefined;
        }
      },
    };
  }

  async close(): Promise<void> {
    const c = this.continuous;
    this.continuous = undefined;
    if (c) await c.kill();
    this.ports = [];
    const binder = this.nicBinder;
    this.nicBinder = undefined;
    await binder?.release();
  }
}

/** A plain 64-byte IPv4/UDP stream with VSPERF's default addresses (calibration, vsperf-gen). */
export function calibrationSpec(frameSize = 64): Omit<TrialSpec, 'rate'> {
  // The addresses of VSPERF's default TRAFFIC (conf/03_traffic.json).
  return {
    stream: basicStream({ frameSize, l3: { enabled: true, version: 4, proto: 'udp', srcIp: '1.1.1.1', dstIp: '90.90.90.90' } }),
    bidir: false,
    latency: true,
  };
}

export async function createSoftware(ctx: DriverContext): Promise<SoftwareGenerator> {
  return new SoftwareGenerator(ctx.host, optionsFromSettings(ctx.settings), ctx.log.child('software'));
}
