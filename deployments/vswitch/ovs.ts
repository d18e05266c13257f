/**
 * Open vSwitch with a private run directory: its own ovsdb-server and ovs-vswitchd (DPDK or plain
 * build), never touching a system OVS. Both daemons run in the foreground as tracked children, so a
 * crash is seen at once (health signal) and the janitor can kill them after a crashed run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CapabilityError, DriverError, EnvironmentError } from '../../framework/errors.js';
import type { Host } from '../../framework/host/host.js';
import { localOps, type HostOps, type HostProcess } from '../../framework/host/host-ops.js';
import type { ExecResult } from '../../framework/host/exec.js';
import { waitUntil } from '../../framework/host/proc.js';
import type { Logger } from '../../framework/log/logger.js';
import type { Json, JsonObject, Settings } from '../../framework/config/settings.js';
import { flowText } from '../flows.js';
import {
  parseDumpFlows,
  parseDumpPorts,
  parseInterfaceTypes,
  policerDropsOf,
  parsePmdStats,
  parseSchedstat,
  parseThreadIds,
  parseVersion,
} from '../ovs/parse.js';
import { ensureHugepages, ensureHugepagesOn } from '../testbed/hugepages.js';
import { checkPmdMask, ONLINE_CPUS, ranges } from './pmd-cores.js';
import { affinityArgv, nonPmdCpus, parseStatCpu, parseTaskStatus, placement, placementFact, type Placement, type SwitchThread } from './pmd-isolation.js';
import { primerArgv, primerCpu } from './vhost-prepare.js';
import { mtuRequests } from '../ovs/mtu-requests.js';
import { isVhostType, policedInRxPackets } from '../ovs/policer-counting.js';
import { maskCpus } from '../../framework/fidelity/testcase.js';
import { cpuList } from '../../framework/fidelity/host-checks.js';
import type { FlowSpec, PhyPort, PortStats, SwitchPort, VSwitch, VSwitchCaps } from '../../framework/api/deployment.js';

export interface OvsOptions {
  /** Registered name (OvsDpdkVhost / OvsVanilla). */
  readonly name: string;
  readonly dpdk: boolean;
  readonly settings: Settings;
  readonly host: Host;
  readonly log: Logger;
  /** Private run directory (sockets, db, logs, hugepage mount). Short: unix socket paths must fit 108 bytes. */
  readonly runDir: string;
  /** The host the switch runs on (default: this one, through `host`). */
  readonly ops?: HostOps;
  /** DPDK EAL --file-prefix: two OVS-DPDK instances on one kernel must not share hugepage files. */
  readonly filePrefix?: string;
}

interface Daemon {
  readonly child: HostProcess;
  readonly release: () => Promise<void>;
  readonly logFile: string;
}

const SOCKET_PATH_MAX = 107;

function strList(v: Json): string[] {
  return Array.isArray(v) ? v.map((x) => String(x)) : v === null || v === '' ? [] : [String(v)];
}

/** Last `n` lines of a file ('' if missing). */
export function fileTail(path: string, n = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

/** dpdk-socket-limit (MB, first NUMA node) for a switch whose ports may go jumbo: VSPERF's DPDK_SOCKET_MEM default. */
const JUMBO_SOCKET_LIMIT_MB = 1024;

export class OvsSwitch implements VSwitch {
  readonly name: string;
  private readonly s: Settings;
  private readonly host: Host;
  private readonly log: Logger;
  readonly runDir: string;
  private ovsdb: Daemon | undefined;
  private vswitchd: Daemon | undefined;
  private readonly releases: Array<() => Promise<void>> = [];
  private readonly healthCtl = new AbortController();
  private failure: DriverError | undefined;
  private stopping = false;
  private started = false;
  /** ofport → port name, per bridge (ports added through this driver). */
  private readonly ports = new Map<string, Map<number, string>>();
  private vdevSeq = 0;
  private versionText = '';
  private netns: string | undefined;
  private pmdClearedAt: number | undefined;
  /** Bridges already warned of a dump-ports reply without custom statistics (once per bridge). */
  private readonly warnedNoCustom = new Set<string>();
  /** Each PMD thread's schedstat at clearStats: how long it ran and waited for a CPU since. */
  private pmdSchedAt = new Map<number, { comm: string; runNs: number; waitNs: number }>();
  private readonly ops: HostOps;
  /** `<daemon>.<pid>.ctl` links (aliasCtl). */
  private readonly ctlAliases = new Map<string, string>();

  constructor(private readonly opts: OvsOptions) {
    this.name = opts.name;
    this.s = opts.settings;
    this.host = opts.host;
    this.ops = opts.ops ?? localOps(opts.host);
    this.log = opts.log;
    this.runDir = opts.runDir;
  }

  get health(): AbortSignal {
    return this.healthCtl.signal;
  }

  useNetns(netns: string): void {
    if (this.started) throw new DriverError(this.name, 'useNetns', 'must be called before start()');
    this.netns = netns;
  }

  /** Largest MTU a port may get in this run (allowMtu); 0 = standard. */
  private maxMtu = 0;
  /** keepOffPmdCpus() was asked for; the PMD CPUs and the CPUs the daemons run on once started. */
  private isolatePmd = false;
  private pmdCpus: number[] = [];
  private daemonCpus: number[] | undefined;

  /**
   * Start both daemons on the CPUs the PMD mask leaves (pmd-isolation.ts): no thread of the switch but
   * its PMDs then runs on a PMD CPU. Before start(); without a PMD mask, or when the PMDs take every
   * CPU, nothing changes (said in the log).
   */
  keepOffPmdCpus(): void {
    if (this.started) throw new DriverError(this.name, 'keepOffPmdCpus', 'must be called before start()');
    this.isolatePmd = true;
  }

  /** The CPUs the daemons were started on (keepOffPmdCpus), undefined = not confined. */
  get nonPmdCpus(): readonly number[] | undefined {
    return this.daemonCpus;
  }

  allowMtu(maxMtu: number): void {
    if (this.started) throw new DriverError(this.name, 'allowMtu', 'must be called before start()');
    this.maxMtu = maxMtu;
  }

  capabilities(): VSwitchCaps {
    return { bridges: true, vhostUser: this.opts.dpdk, pmdStats: this.opts.dpdk };
  }

  // ---- paths and tools -------------------------------------------------------------------------

  private get dbSock(): string {
    return join(this.runDir, 'db.sock');
  }
  private ctl(d: 'ovsdb-server' | 'ovs-vswitchd'): string {
    return join(this.runDir, `${d}.ctl`);
  }
  /** Added to every OVS tool's and daemon's environment: nothing outside the run dir. */
  private get env(): Record<string, string> {
    return {
      OVS_RUNDIR: this.runDir,
      OVS_DBDIR: this.runDir,
      OVS_LOGDIR: this.runDir,
      OVS_SYSCONFDIR: this.runDir,
      OVS_PKGDATADIR: process.env.OVS_PKGDATADIR ?? '/usr/share/openvswitch',
    };
  }
  private get timeoutS(): number {
    return Number(this.s.getOr('OVS_CMD_TIMEOUT', 10));
  }
  private get vswitchdBin(): string {
    return this.opts.dpdk
      ? String(this.s.getOr('OVS_VSWITCHD_DPDK_BIN', '/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk'))
      : String(this.s.getOr('OVS_VSWITCHD_BIN', '/usr/lib/openvswitch-switch/ovs-vswitchd'));
  }

  private async run(argv: string[], what: string, opts: { input?: string; signal?: AbortSignal; allowFail?: boolean } = {}): Promise<ExecResult> {
    this.assertAlive(what);
    try {
      return await this.ops.exec(argv, { env: this.env, timeoutMs: (this.timeoutS + 5) * 1000, ...opts });
    } catch (e) {
      // A command failing because the daemon just died reports the death, not the symptom.
      this.assertAlive(what);
      throw new DriverError(this.name, what, (e as Error).message, { cause: e });
    }
  }

  vsctl(args: string[], what = 'ovs-vsctl', opts: { signal?: AbortSignal; noWait?: boolean } = {}): Promise<ExecResult> {
    return this.run(
      [
        'ovs-vsctl',
        `--db=unix:${this.dbSock}`,
        `--timeout=${this.timeoutS}`,
        ...(opts.noWait ? ['--no-wait'] : []),
        ...strList(this.s.getOr('OVS_VSCTL_ARGS', [])),
        ...args,
      ],
      what,
      opts.signal ? { signal: opts.signal } : {},
    );
  }

  ofctl(cmd: string, bridge: string, args: string[] = [], what = `ovs-ofctl ${cmd}`, input?: string, of14 = false): Promise<ExecResult> {
    const common = strList(this.s.getOr('OVS_OFCTL_ARGS', ['-O', 'OpenFlow13']));
    return this.run(
      ['ovs-ofctl', ...(of14 ? withOpenFlow14(common) : common), `--timeout=${this.timeoutS}`, cmd, `unix:${join(this.runDir, `${bridge}.mgmt`)}`, ...args],
      what,
      input !== undefined ? { input } : {},
    );
  }

  appctl(target: 'ovsdb-server' | 'ovs-vswitchd', args: string[], what = `ovs-appctl ${args[0]}`): Promise<ExecResult> {
    return this.run(['ovs-appctl', `--timeout=${this.timeoutS}`, '-t', this.ctl(target), ...strList(this.s.getOr('OVS_APPCTL_ARGS', [])), ...args], what);
  }

  private assertAlive(what: string): void {
    if (this.failure) throw new DriverError(this.name, what, this.failure.message, { cause: this.failure });
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  private async spawnDaemon(argv: string[], label: string, logFile: string): Promise<Daemon> {
    const child = await this.ops.spawn(argv, { env: this.env, cwd: this.runDir, tailChars: 16384, label: `stop ${label}`, graceMs: 3000 });
    const release = (): Promise<void> => child.stop(3000);
    child.on('unexpected-exit', (code: number | null, signal: string | null) => {
      if (this.stopping) return;
      const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
      const tail = (this.ops.name === 'local' && fileTail(logFile)) || child.tail(15);
      this.failure = new DriverError(this.name, 'run', `${label} (pid ${child.pid}) ${how} unexpectedly; last log lines:\n${tail}`);
      this.log.error(this.failure.message);
      this.healthCtl.abort(this.failure);
    });
    return { child, release, logFile };
  }

  async start(signal?: AbortSignal): Promise<void> {
    if (this.started) return;
    this.started = true;
    const sockLen = join(this.runDir, 'dpdkvhostuserclient99').length;
    if (sockLen > SOCKET_PATH_MAX) throw new EnvironmentError(`OVS run dir ${this.runDir} is too long for unix socket paths (${sockLen} > ${SOCKET_PATH_MAX})`);
    if (!(await this.ops.exists(this.vswitchdBin))) {
      throw new EnvironmentError(`${this.name}: ovs-vswitchd binary not found: ${this.vswitchdBin}`, {
        hint: 'run `npm run setup` (installs openvswitch-switch-dpdk)',
      });
    }
    this.releases.push(await this.ops.makeDir(this.runDir));
    // DPDK's EAL keeps its runtime files in /var/run/dpdk/<prefix>: a private prefix's directory is ours.
    if (this.opts.dpdk && this.opts.filePrefix) this.releases.push(await this.ops.makeDir(`/var/run/dpdk/${this.opts.filePrefix}`));
    const schema = String(this.s.getOr('OVS_SCHEMA', '/usr/share/openvswitch/vswitch.ovsschema'));
    await this.run(['ovsdb-tool', 'create', join(this.runDir, 'conf.db'), schema], 'ovsdb-tool create', signal ? { signal } : {});

    // Hugepages before DPDK starts: enough free pages, and a private hugetlbfs mount of ours.
    let hugeDir = '';
    if (this.opts.dpdk) {
      const limitMb = this.socketLimitMb();
      const needKb = Number(this.s.getOr('HUGEPAGE_RAM_ALLOCATION', limitMb * 1024));
      if (this.opts.ops) await ensureHugepagesOn(this.ops, needKb, this.log);
      else ensureHugepages(this.host, needKb, this.log);
      hugeDir = String(this.s.getOr('HUGEPAGE_DIR', ''));
      if (!hugeDir) {
        hugeDir = join(this.runDir, 'hugepages');
        this.releases.push(await this.ops.mount(['-t', 'hugetlbfs', '-o', 'pagesize=2M', 'nodev'], hugeDir));
      }
    }

    // The host OVS runs on, which may be another one (pvp_peer): its CPUs, read through its HostOps.
    const online = cpuList((await this.ops.readFile(ONLINE_CPUS)).trim());
    const other = this.otherConfig(hugeDir, online);
    this.placeDaemons(other, online);
    const dbLog = join(this.runDir, 'ovsdb-server.log');
    this.ovsdb = await this.spawnDaemon(
      [
        ...this.onDaemonCpus(),
        String(this.s.getOr('OVSDB_SERVER_BIN', 'ovsdb-server')),
        join(this.runDir, 'conf.db'),
        `--remote=punix:${this.dbSock}`,
        '--remote=db:Open_vSwitch,Open_vSwitch,manager_options',
        `--pidfile=${join(this.runDir, 'ovsdb-server.pid')}`,
        `--log-file=${dbLog}`,
        `--unixctl=${this.ctl('ovsdb-server')}`,
        '-vconsole:off',
      ],
      'ovsdb-server',
      dbLog,
    );
    this.releases.push(this.ovsdb.release);
    if (!(await waitUntil(async () => !this.ovsdb!.child.running || (await this.ops.exists(this.dbSock)), 10_000, 20))) {
      throw new DriverError(this.name, 'start', `ovsdb-server did not create ${this.dbSock} within 10 s: ${await this.logTail(dbLog)}`);
    }
    this.assertAlive('start ovsdb-server');
    await this.vsctl(['init'], 'ovs-vsctl init', { noWait: true, ...(signal ? { signal } : {}) });
    if (other.length) await this.vsctl(['set', 'Open_vSwitch', '.', ...other], 'configure', { noWait: true });

    await this.aliasCtl('ovsdb-server');
    await this.startVswitchd(signal);
    this.versionText = (await this.ops.exec([this.vswitchdBin, '--version'], { allowFail: true })).stdout;
    this.log.info(`${this.name} started${this.opts.ops ? ` on ${this.ops.name}` : ''} (ovs-vswitchd pid ${this.vswitchd!.child.pid}, run dir ${this.runDir})`);
  }

  /** ovs-vswitchd on the running ovsdb-server; resolves when it serves its control socket (DPDK: initialised). */
  private async startVswitchd(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const vsLog = join(this.runDir, 'ovs-vswitchd.log');
    const vargs = this.opts.dpdk ? [] : strList(this.s.getOr('VSWITCHD_VANILLA_ARGS', []));
    // `ip netns exec` execs the daemon in place: the tracked pid is ovs-vswitchd's own.
    const inNs = this.netns ? ['ip', 'netns', 'exec', this.netns] : [];
    this.vswitchd = await this.spawnDaemon(
      [
        ...this.onDaemonCpus(),
        ...inNs,
        this.vswitchdBin,
        `unix:${this.dbSock}`,
        `--pidfile=${join(this.runDir, 'ovs-vswitchd.pid')}`,
        `--log-file=${vsLog}`,
        `--unixctl=${this.ctl('ovs-vswitchd')}`,
        '-vconsole:off',
        ...vargs,
      ],
      'ovs-vswitchd',
      vsLog,
    );
    this.releases.push(this.vswitchd.release);
    const ready = await waitUntil(
      async () => {
        if (this.failure) return true;
        if (!(await this.ops.exists(this.ctl('ovs-vswitchd')))) return false;
        if (!this.opts.dpdk) return true;
        const r = await this.ops.exec(['ovs-vsctl', `--db=unix:${this.dbSock}`, '--timeout=2', 'get', 'Open_vSwitch', '.', 'dpdk_initialized'], {
          env: this.env,
          allowFail: true,
        });
        return r.stdout.trim() === 'true';
      },
      30_000,
      50,
    );
    this.assertAlive('start ovs-vswitchd');
    if (!ready) throw new DriverError(this.name, 'start', `ovs-vswitchd not ready within 30 s; last log lines:\n${await this.logTail(vsLog)}`);
    await this.aliasCtl('ovs-vswitchd');
  }

  /** keepOffPmdCpus: the CPUs left by the PMD mask among `other` (the other_config about to be set). */
  private placeDaemons(other: readonly string[], online: readonly number[]): void {
    if (!this.opts.dpdk) return;
    const mask = other.find((x) => x.startsWith('other_config:pmd-cpu-mask='))?.split('=')[1];
    this.pmdCpus = mask ? maskCpus(mask) : [];
    if (!this.isolatePmd) return;
    const rest = nonPmdCpus(online, this.pmdCpus);
    if (!this.pmdCpus.length || !rest.length) {
      this.log.warn(
        `${this.name}: non-PMD threads left where the kernel puts them: ${this.pmdCpus.length ? `the PMDs take every CPU (${ranges(online)})` : 'no pmd-cpu-mask (VSWITCH_AFFINITIZATION_ON=0)'}`,
      );
      return;
    }
    this.daemonCpus = rest;
    this.log.info(`${this.name}: PMDs on CPU ${ranges(this.pmdCpus)}, every other thread of ovsdb-server and ovs-vswitchd on CPU ${ranges(rest)}`);
  }

  private onDaemonCpus(): string[] {
    return this.daemonCpus ? affinityArgv(this.daemonCpus) : [];
  }

  /**
   * Where ovs-vswitchd's threads may run, read from /proc (a switch on this host only; undefined
   * otherwise or before start): the PMDs' CPUs and any other thread allowed on one of them.
   */
  threadPlacement(): string | undefined {
    const p = this.placement();
    return p && placementFact(p);
  }

  /** threadPlacement's figures. */
  placement(): Placement | undefined {
    const pid = this.vswitchd?.child.pid;
    if (!pid || this.opts.ops || !this.pmdCpus.length) return undefined;
    const threads: SwitchThread[] = [];
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const st = parseTaskStatus(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'));
        threads.push({ tid: Number(tid), comm: st.comm, allowed: st.allowed, lastCpu: parseStatCpu(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')) });
      } catch {
        /* the thread ended */
      }
    }
    return placement(threads, this.pmdCpus);
  }

  /**
   * OVS's tools find a daemon by name (`ovs-appctl -t ovs-vswitchd`, or no -t at all) through
   * $OVS_RUNDIR/<name>.pid and the socket <name>.<pid>.ctl. Our daemons' sockets have fixed names
   * (a DPDK build would otherwise name its socket after its binary, ovs-vswitchd-dpdk.<pid>.ctl):
   * a link under the name the tools look for makes VSPERF's `$TOOLS['ovs-appctl'] -t ovs-vswitchd`
   * reach this private instance.
   */
  private async aliasCtl(d: 'ovsdb-server' | 'ovs-vswitchd'): Promise<void> {
    const pid = (await this.ops.readFile(join(this.runDir, `${d}.pid`))).trim();
    if (!/^\d+$/.test(pid)) throw new DriverError(this.name, 'start', `${d} wrote no pid to ${join(this.runDir, `${d}.pid`)}`);
    const alias = join(this.runDir, `${d}.${pid}.ctl`);
    await this.run(['ln', '-sfn', `${d}.ctl`, alias], `link ${alias}`);
    this.ctlAliases.set(d, alias);
  }

  /**
   * VSPERF's `vswitch restart`: ovs-vswitchd stops and starts again; ovsdb-server, and with it the
   * configuration (bridges, ports, other_config), stays. The new daemon reads that configuration
   * (vhost-sock-dir and the other DPDK options are read only when DPDK initialises) and recreates
   * bridges and ports; flows, which live in ovs-vswitchd only, are gone, as in VSPERF.
   */
  async restart(signal?: AbortSignal): Promise<void> {
    const old = this.vswitchd;
    if (!old || !this.started) throw new DriverError(this.name, 'restart', 'the switch is not running');
    this.assertAlive('restart');
    old.child.expectExit();
    // exit --cleanup: ports leave the datapath (vhost-user sockets, AF_XDP sockets closed); the database keeps them.
    await this.ops.exec(['ovs-appctl', '--timeout=5', '-t', this.ctl('ovs-vswitchd'), 'exit', '--cleanup'], {
      env: this.env,
      allowFail: true,
      timeoutMs: 8000,
    });
    await Promise.race([old.child.waitExit(), new Promise((r) => setTimeout(r, 5000))]);
    await old.release();
    const at = this.releases.indexOf(old.release);
    if (at >= 0) this.releases.splice(at, 1);
    const alias = this.ctlAliases.get('ovs-vswitchd');
    if (alias) await this.run(['rm', '-f', alias], `remove ${alias}`);
    await this.startVswitchd(signal);
    // The bridges come back with the configuration: wait for their OpenFlow sockets before steps use them.
    for (const bridge of await this.listBridges()) {
      const mgmt = join(this.runDir, `${bridge}.mgmt`);
      if (!(await waitUntil(async () => !!this.failure || (await this.ops.exists(mgmt)), 10_000, 20)))
        throw new DriverError(
          this.name,
          'restart',
          `bridge socket ${mgmt} did not come back within 10 s; last log lines:\n${await this.logTail(this.logFile())}`,
        );
    }
    this.assertAlive('restart');
    this.log.info(`${this.name} restarted (ovs-vswitchd pid ${this.vswitchd!.child.pid}; configuration database kept)`);
  }

  /** Last lines of a daemon log on the switch's host. */
  private async logTail(path: string, n = 15): Promise<string> {
    return (await this.ops.readFile(path)).trimEnd().split('\n').slice(-n).join('\n');
  }

  private socketLimitMb(): number {
    const cfg = (this.s.getOr('VSWITCHD_DPDK_CONFIG', {}) as JsonObject) ?? {};
    const lim = cfg['dpdk-socket-limit'] ?? strList(this.s.getOr('DPDK_SOCKET_MEM', ['256'])).join(',');
    return String(lim)
      .split(',')
      .reduce((a, x) => a + (Number(x) || 0), 0);
  }

  /**
   * dpdk-socket-limit when ports may go jumbo (allowMtu) and the user set none: OVS keeps a port's old
   * mbuf pool while it builds the new one, and a pool at MTU 9000 needs at least 16384 mbufs of ~10 KiB
   * (~160 MB), beside the 1500 one (~160 MB at 256 MB): measured, 256 MB fails with "Failed to create
   * memory pool … Cannot allocate memory". DPDK takes memory beyond dpdk-socket-mem only when a pool asks.
   */
  private jumboSocketLimit(cfg: Record<string, string>): string | undefined {
    if (!this.maxMtu || this.maxMtu <= 1500 || cfg['dpdk-socket-limit'] !== undefined) return undefined;
    const mem = cfg['dpdk-socket-mem']!.split(',').map((x) => Number(x) || 0);
    return mem.map((m, i) => (i === 0 ? Math.max(m, JUMBO_SOCKET_LIMIT_MB) : m)).join(',');
  }

  /** other_config:* for ovs-vsctl set (VSPERF: VSWITCHD_DPDK_CONFIG, DPDK_SOCKET_MEM, VSWITCH_PMD_CPU_MASK…). */
  otherConfig(hugeDir: string, online: readonly number[]): string[] {
    const out: string[] = [];
    const idle = this.s.getOr('VSWITCH_FLOW_TIMEOUT', '30000');
    out.push(`other_config:max-idle=${String(idle)}`);
    if (!this.opts.dpdk) return out;
    const cfg: Record<string, string> = {};
    for (const [k, v] of Object.entries((this.s.getOr('VSWITCHD_DPDK_CONFIG', {}) as JsonObject) ?? {})) cfg[k] = String(v);
    cfg['dpdk-init'] = cfg['dpdk-init'] ?? 'true';
    cfg['dpdk-socket-mem'] = strList(this.s.getOr('DPDK_SOCKET_MEM', ['256'])).join(',');
    const jumboLimit = this.jumboSocketLimit(cfg);
    if (jumboLimit) {
      cfg['dpdk-socket-limit'] = jumboLimit;
      // Shared pools start at 262144 mbufs and halve until one fits: under a 1 GB limit that is 630 MB
      // at MTU 1500 and seconds of hugepage faulting per MTU change. Per-port pools are sized by the
      // port's rings (~20k mbufs), so an MTU change takes a fraction of a second and ~200 MB at 9000.
      cfg['per-port-memory'] = cfg['per-port-memory'] ?? 'true';
    }
    if (Number(this.s.getOr('VSWITCH_AFFINITIZATION_ON', 1)) === 1) {
      cfg['pmd-cpu-mask'] = checkPmdMask(String(this.s.getOr('VSWITCH_PMD_CPU_MASK', '2')), online, this.s.source('VSWITCH_PMD_CPU_MASK') ?? 'defaults');
    }
    // A PMD that may sleep when idle leaves its core to others (few-core hosts, live migration at 1 kpps).
    const maxSleepUs = Number(this.s.getOr('VSWITCH_PMD_MAXSLEEP_US', 0));
    if (maxSleepUs > 0) cfg['pmd-maxsleep'] = String(Math.round(maxSleepUs));
    if (hugeDir) cfg['dpdk-hugepage-dir'] = hugeDir;
    const extra = strList(this.s.getOr('VSWITCHD_DPDK_ARGS', []));
    if (this.opts.filePrefix) extra.push(`--file-prefix=${this.opts.filePrefix}`);
    if (strList(this.s.getOr('WHITELIST_NICS', [])).length === 0 && !extra.includes('--no-pci')) extra.unshift('--no-pci');
    if (extra.length) cfg['dpdk-extra'] = extra.join(' ');
    for (const [k, v] of Object.entries(cfg)) {
      if (/[\s"\\]/.test(k)) throw new DriverError(this.name, 'configure', `bad other_config key ${JSON.stringify(k)}`);
      out.push(`other_config:${k}=${v}`);
    }
    return out;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.vswitchd?.child.running) {
      this.vswitchd.child.expectExit();
      await this.ops.exec(['ovs-appctl', '--timeout=5', '-t', this.ctl('ovs-vswitchd'), 'exit', '--cleanup'], {
        env: this.env,
        allowFail: true,
        timeoutMs: 8000,
      });
      await Promise.race([this.vswitchd.child.waitExit(), new Promise((r) => setTimeout(r, 3000))]);
    }
    if (this.ovsdb?.child.running) {
      this.ovsdb.child.expectExit();
      await this.ops.exec(['ovs-appctl', '--timeout=5', '-t', this.ctl('ovsdb-server'), 'exit'], { env: this.env, allowFail: true, timeoutMs: 8000 });
      await Promise.race([this.ovsdb.child.waitExit(), new Promise((r) => setTimeout(r, 2000))]);
    }
    // Releases in reverse: daemons (SIGTERM/SIGKILL if still there), hugepage mount, run dir.
    const errors: Error[] = [];
    while (this.releases.length) {
      try {
        await this.releases.pop()!();
      } catch (e) {
        errors.push(e as Error);
      }
    }
    this.ports.clear();
    if (errors.length) throw new DriverError(this.name, 'stop', errors.map((e) => e.message).join('; '));
  }

  async version(): Promise<string> {
    const v = parseVersion(this.versionText);
    if (!v.ovs) return 'unknown';
    return this.opts.dpdk && v.dpdk ? `${v.ovs} (DPDK ${v.dpdk})` : v.ovs;
  }

  /** PIDs of the daemons (tests, facts). */
  pids(): { ovsdb?: number; vswitchd?: number } {
    return { ...(this.ovsdb ? { ovsdb: this.ovsdb.child.pid } : {}), ...(this.vswitchd ? { vswitchd: this.vswitchd.child.pid } : {}) };
  }

  logFile(): string {
    return join(this.runDir, 'ovs-vswitchd.log');
  }

  // ---- bridges and ports -----------------------------------------------------------------------

  async addBridge(name: string, opts: { readonly hwaddr?: string } = {}): Promise<void> {
    if (opts.hwaddr !== undefined && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(opts.hwaddr))
      throw new DriverError(this.name, `add-br ${name}`, `hwaddr must be a MAC address, got ${JSON.stringify(opts.hwaddr)}`);
    // fail-mode secure: no NORMAL flow, so nothing is forwarded (and no L2 loop through guests) until
    // explicit flows exist. netdev = userspace datapath (DPDK, or the plain build without kernel module).
    const hw = opts.hwaddr !== undefined ? [`other_config:hwaddr=${JSON.stringify(opts.hwaddr)}`] : [];
    await this.vsctl(['add-br', name, '--', 'set', 'bridge', name, 'datapath_type=netdev', 'fail-mode=secure', ...hw], `add-br ${name}`);
    // The netdev datapath backs the bridge's LOCAL port with a tap netdev that outlives a SIGKILLed
    // vswitchd: journal it so the janitor removes it after a crash.
    // (A switch in a sandbox namespace of ours goes with the namespace; one on another host does not.)
    if ((!this.netns || this.opts.ops) && (await this.ops.exists(`/sys/class/net/${name}`))) {
      this.releases.push(
        this.ops.track({ kind: 'link', id: this.ops.nextId('link'), name }, `ip link del ${name}`, async () => {
          if (await this.ops.exists(`/sys/class/net/${name}`)) await this.ops.exec(['ip', 'link', 'del', name], { allowFail: true });
        }),
      );
    }
    // add-br returns once vswitchd took the config; under CPU pressure the bridge's OpenFlow socket
    // can appear a little later.
    const mgmt = join(this.runDir, `${name}.mgmt`);
    if (!(await waitUntil(async () => !!this.failure || (await this.ops.exists(mgmt)), 10_000, 20))) {
      throw new DriverError(
        this.name,
        `add-br ${name}`,
        `bridge socket ${mgmt} did not appear within 10 s; last log lines:\n${await this.logTail(this.logFile())}`,
      );
    }
    this.assertAlive(`add-br ${name}`);
    this.ports.set(name, new Map());
    await this.delFlows(name);
  }

  private mtuParams(): string[] {
    return this.s.has('VSWITCH_JUMBO_FRAMES_ENABLED') && this.s.boolean('VSWITCH_JUMBO_FRAMES_ENABLED')
      ? [`mtu_request=${Number(this.s.getOr('VSWITCH_JUMBO_FRAMES_SIZE', 9000))}`]
      : [];
  }

  private async addPort(bridge: string, name: string, ofport: number, iface: string[], what: string): Promise<void> {
    await this.vsctl(['add-port', bridge, name, '--', 'set', 'Interface', name, ...iface, `ofport_request=${ofport}`, ...this.mtuParams()], what);
    const r = await this.vsctl(['get', 'Interface', name, 'error', 'ofport'], `check port ${name}`);
    const [err, got] = r.stdout.trim().split('\n');
    if (err && err !== '[]') {
      await this.vsctl(['--if-exists', 'del-port', bridge, name], `del-port ${name}`).catch(() => undefined);
      throw new DriverError(this.name, what, `interface ${name}: ${err}`);
    }
    if (Number(got) !== ofport) throw new DriverError(this.name, what, `interface ${name} got ofport ${got}, requested ${ofport}`);
    this.ports.get(bridge)?.set(ofport, name);
  }

  async addPhyPort(bridge: string, name: string, port: PhyPort, ofport: number): Promise<SwitchPort> {
    if (!this.opts.dpdk) {
      if (port.kind === 'vhost') throw new CapabilityError(this.name, 'vhost-user "physical" ports', 'use OvsDpdkVhost, or SANDBOX_PORT_TYPE=veth');
      if (port.kind !== 'veth')
        throw new CapabilityError(this.name, 'PCI ports', 'the plain OVS build uses kernel netdevs; bind the NIC to its kernel driver and name the netdev');
      // Userspace datapath: the kernel netdev itself is the port (its name is the interface name).
      await this.addPort(bridge, port.iface, ofport, [], `add-port ${port.iface}`);
      return { name: port.iface, ofport };
    }
    if (port.kind === 'vhost') {
      // The generator's net_virtio_user device is the server; OVS connects (and reconnects per trial).
      await this.addPort(
        bridge,
        name,
        ofport,
        ['type=dpdkvhostuserclient', `options:vhost-server-path=${port.socketPath}`],
        `add-port ${name} (vhost-user to the generator)`,
      );
      return { name, ofport, socketPath: port.socketPath };
    }
    let devargs: string;
    if (port.kind === 'pci') devargs = port.pci;
    else if (port.io === 'af_xdp') devargs = `net_af_xdp${this.vdevSeq++},iface=${port.iface},start_queue=0,queue_count=1`;
    // A deeper rx ring than the PMD default (512 frames) rides out moments when the PMD is starved of CPU.
    // A port that may go jumbo (VSPERF's ovsdpdk_jumbo_* set mtu_request 68…9702 while it runs): net_pcap.
    // net_af_packet refuses an MTU above its ring frame less 52 B and a ring frame above the mbuf (sized
    // by the MTU), so no one frame size serves 1500 and 9000; AF_XDP on a veth stops at ~3500 (a page).
    // net_pcap has no MTU of its own (OVS logs that and sizes its mbufs by mtu_request) and takes frames
    // up to 9728 B in chained mbufs; it is slower, which these functional testcases do not measure.
    else if (port.maxMtu && port.maxMtu > 1500) devargs = `net_pcap${this.vdevSeq++},iface=${port.iface}`;
    else devargs = `net_af_packet${this.vdevSeq++},iface=${port.iface},framecnt=4096${port.capturable ? ',qdisc_bypass=0' : ''}`;
    const params = ['type=dpdk', `options:dpdk-devargs=${devargs}`];
    const mq = Number(this.s.getOr('VSWITCH_DPDK_MULTI_QUEUES', 0));
    if (mq > 0) params.push(`options:n_rxq=${mq}`);
    await this.addPort(bridge, name, ofport, params, `add-port ${name} (${devargs})`);
    return { name, ofport };
  }

  async addVhostPort(bridge: string, name: string, ofport: number): Promise<SwitchPort> {
    if (!this.opts.dpdk) throw new CapabilityError(this.name, 'vhost-user ports', 'use OvsDpdkVhost for guests');
    const server = this.s.has('VSWITCH_VHOSTUSER_SERVER_MODE') && this.s.boolean('VSWITCH_VHOSTUSER_SERVER_MODE');
    const socketPath = join(this.runDir, name);
    const params = server ? ['type=dpdkvhostuser'] : ['type=dpdkvhostuserclient', `options:vhost-server-path=${socketPath}`];
    await this.addPort(bridge, name, ofport, params, `add-port ${name} (vhost-user)`);
    return { name, ofport, socketPath, ...(server ? { switchServes: true } : {}) };
  }

  /**
   * Give vhost-user ports that never had a device the configuration a device's arrival triggers
   * (vhost-prepare.ts): a receive-only virtio-user frontend on their sockets until OVS reports their
   * links up, then gone again. Returns how long it took (ms). Call before traffic reaches the ports.
   */
  async prepareVhostPorts(bridge: string, names: readonly string[], timeoutMs = 30_000): Promise<number> {
    if (!this.opts.dpdk) throw new CapabilityError(this.name, 'vhost-user ports', 'use OvsDpdkVhost for guests');
    if (!names.length) return 0;
    const t0 = performance.now();
    const server = this.s.has('VSWITCH_VHOSTUSER_SERVER_MODE') && this.s.boolean('VSWITCH_VHOSTUSER_SERVER_MODE');
    const sockets = names.map((n) => join(this.runDir, n));
    const online = cpuList((await this.ops.readFile(ONLINE_CPUS)).trim());
    const pmd = Number(this.s.getOr('VSWITCH_AFFINITIZATION_ON', 1)) === 1 ? maskCpus(String(this.s.getOr('VSWITCH_PMD_CPU_MASK', '2'))) : [];
    const prefix = `vsprime-${process.pid}-${++this.vdevSeq}`;
    // EAL keeps a runtime directory for the prefix even in memory-only mode: ours, removed with it.
    const releaseDir = await this.ops.makeDir(`/var/run/dpdk/${prefix}`);
    const argv = primerArgv(sockets, primerCpu(online, pmd), prefix, !server);
    this.log.debug(`preparing vhost-user port(s) ${names.join(', ')}: ${argv.join(' ')}`);
    const child = await this.ops.spawn(argv, { label: `stop vhost-user port primer (${names.join(', ')})`, graceMs: 3000, tailChars: 8192 });
    try {
      const end = Date.now() + timeoutMs;
      let down: string[] = [...names];
      while (down.length && Date.now() < end && child.running) {
        down = await this.waitLinksUp(bridge, down, 200);
      }
      if (down.length) {
        // The frontend's own output goes to the log; the error stays one line.
        this.log.warn(`vhost-user port primer (${names.join(', ')}) output:\n${child.tail(12)}`);
        const last = child.running ? '' : child.tail(4).trim().split('\n').pop()?.trim();
        throw new DriverError(
          this.name,
          'prepare vhost-user ports',
          `vhost-user port(s) ${down.join(', ')} of bridge ${bridge} still down ${timeoutMs / 1000} s after a virtio-user frontend started on ${down.map((n) => join(this.runDir, n)).join(', ')}${child.running ? '' : ` (dpdk-testpmd exited: ${last || 'no output'})`}`,
          {
            hint: `check that each is a vhost-user port of this switch with that socket (ovs-vsctl list Interface ${down[0]}), or set MIGRATION_PREPARE_PORTS=false to skip preparing`,
          },
        );
      }
    } finally {
      await child.stop(3000);
      for (const s of server ? [] : sockets) await this.ops.exec(['rm', '-f', '--', s], { allowFail: true });
      await releaseDir();
    }
    // The device is gone again (OVS keeps the port's mempool): the ports wait for their QEMU.
    const stillUp = await this.waitLinksDown(names, 5000);
    if (stillUp.length) this.log.warn(`vhost-user port(s) ${stillUp.join(', ')} still up after the primer exited`);
    return performance.now() - t0;
  }

  private async waitLinksDown(names: readonly string[], timeoutMs: number): Promise<string[]> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const up: string[] = [];
      for (const n of names) if ((await this.vsctl(['get', 'Interface', n, 'link_state'], `link_state ${n}`)).stdout.trim() === 'up') up.push(n);
      if (!up.length || Date.now() >= end) return up;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async delPort(bridge: string, name: string): Promise<void> {
    await this.vsctl(['--if-exists', 'del-port', bridge, name], `del-port ${name}`);
    const m = this.ports.get(bridge);
    for (const [k, v] of m ?? []) if (v === name) m!.delete(k);
  }

  async delBridge(name: string): Promise<void> {
    await this.vsctl(['--if-exists', 'del-br', name], `del-br ${name}`);
    this.ports.delete(name);
  }

  async listBridges(): Promise<string[]> {
    return (await this.vsctl(['list-br'], 'list-br')).stdout.split('\n').filter((l) => l.trim() !== '');
  }

  async show(): Promise<string> {
    return (await this.vsctl(['show'], 'show')).stdout;
  }

  async getPorts(bridge: string): Promise<SwitchPort[]> {
    const names = (await this.vsctl(['list-ports', bridge], `list-ports ${bridge}`)).stdout.split('\n').filter((l) => l.trim() !== '');
    const out: SwitchPort[] = [];
    for (const name of names) {
      const of = Number((await this.vsctl(['get', 'Interface', name, 'ofport'], `ofport ${name}`)).stdout.trim());
      out.push({ name, ofport: of });
    }
    return out.sort((a, b) => a.ofport - b.ofport);
  }

  async delFlowsMatching(bridge: string, match: string): Promise<void> {
    if (/[\s\n]/.test(match)) throw new DriverError(this.name, 'del-flows', `flow match must not contain whitespace: ${JSON.stringify(match)}`);
    await this.ofctl('del-flows', bridge, match ? [match] : [], `del-flows ${match}`);
  }

  async addTunnelPort(
    bridge: string,
    name: string,
    type: 'vxlan' | 'gre' | 'geneve',
    remoteIp: string,
    ofport: number,
    options: Readonly<Record<string, string>> = {},
  ): Promise<SwitchPort> {
    const opts = Object.entries({ remote_ip: remoteIp, ...options }).map(([k, v]) => `options:${k}=${v}`);
    await this.addPort(bridge, name, ofport, [`type=${type}`, ...opts], `add-port ${name} (${type} to ${remoteIp})`);
    return { name, ofport };
  }

  async addPatchPorts(
    a: { readonly bridge: string; readonly name: string; readonly ofport: number },
    b: { readonly bridge: string; readonly name: string; readonly ofport: number },
  ): Promise<[SwitchPort, SwitchPort]> {
    // No mtu_request (addPort's jumbo setting): a patch port has no MTU of its own.
    for (const [p, peer] of [
      [a, b],
      [b, a],
    ] as const) {
      await this.vsctl(
        ['add-port', p.bridge, p.name, '--', 'set', 'Interface', p.name, 'type=patch', `options:peer=${peer.name}`, `ofport_request=${p.ofport}`],
        `add-port ${p.name} (patch to ${peer.name})`,
      );
      const got = (await this.vsctl(['get', 'Interface', p.name, 'ofport'], `check port ${p.name}`)).stdout.trim();
      if (Number(got) !== p.ofport) throw new DriverError(this.name, `add-port ${p.name}`, `interface ${p.name} got ofport ${got}, requested ${p.ofport}`);
      this.ports.get(p.bridge)?.set(p.ofport, p.name);
    }
    return [
      { name: a.name, ofport: a.ofport },
      { name: b.name, ofport: b.ofport },
    ];
  }

  async addTunnelRoute(network: string, bridge: string): Promise<void> {
    await this.appctl('ovs-vswitchd', ['ovs/route/add', network, bridge], `ovs/route/add ${network} ${bridge}`);
  }

  async setTunnelArp(bridge: string, ip: string, mac: string): Promise<void> {
    await this.appctl('ovs-vswitchd', ['tnl/arp/set', bridge, ip, mac], `tnl/arp/set ${bridge} ${ip} ${mac}`);
  }

  async showTunnelRoutes(): Promise<string> {
    return (await this.appctl('ovs-vswitchd', ['ovs/route/show'])).stdout;
  }

  async showTunnelArp(): Promise<string> {
    return (await this.appctl('ovs-vswitchd', ['tnl/arp/show'])).stdout;
  }

  async interfaceMac(name: string): Promise<string> {
    const v = (await this.vsctl(['get', 'Interface', name, 'mac_in_use'], `mac_in_use ${name}`)).stdout.trim().replace(/"/g, '');
    if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(v))
      throw new DriverError(this.name, 'interfaceMac', `interface ${name} has no MAC address yet (mac_in_use ${JSON.stringify(v)})`);
    return v;
  }

  /**
   * As VSPERF's TOOLS: the bare tools. Run with toolEnv() they reach this instance by OVS's own
   * defaults: ovs-vsctl $OVS_RUNDIR/db.sock, ovs-appctl (with or without `-t ovs-vswitchd`) the
   * daemon's pid file and control socket, ovs-ofctl a bridge's $OVS_RUNDIR/<bridge>.mgmt.
   */
  toolArgv(tool: 'ovs-vsctl' | 'ovs-ofctl' | 'ovs-appctl'): string[] {
    if (tool === 'ovs-ofctl') return ['ovs-ofctl', ...strList(this.s.getOr('OVS_OFCTL_ARGS', ['-O', 'OpenFlow13']))];
    return [tool];
  }

  toolEnv(): Readonly<Record<string, string>> {
    return this.env;
  }

  /**
   * ovs-vsctl returns before OVS-DPDK has applied an Interface's mtu_request (the port is reconfigured
   * later): wait until the `mtu` column shows it, or the Interface reports an error, at most 3 s. Past
   * that the next step reads what OVS has and its assertion says so.
   */
  async settleAfterTool(argv: readonly string[], signal?: AbortSignal): Promise<void> {
    for (const { iface, mtu } of mtuRequests(argv)) {
      const applied = async (): Promise<boolean> => {
        const r = await this.vsctl(['--if-exists', 'get', 'Interface', iface, 'mtu', 'error'], `mtu ${iface}`, signal ? { signal } : {});
        const [cur = '', err = ''] = r.stdout.split('\n').map((l) => l.trim());
        return cur === String(mtu) || (err !== '' && err !== '[]') || cur === '';
      };
      if (!(await waitUntil(applied, 3000, 20))) this.log.debug(`${this.name}: ${iface} mtu_request=${mtu} not applied within 3 s`);
    }
  }

  /** This host, or the one given as `ops` (a remote OVS). */
  hostOps(): HostOps {
    return this.ops;
  }

  /** The switch's ports live in this namespace (the sandbox's): TestSteps' shell commands run there. */
  toolNetns(): string | undefined {
    return this.opts.ops ? undefined : this.netns;
  }

  /** OpenFlow management socket of a bridge (ovs-ofctl reaches a bridge through it). */
  mgmtSocket(bridge: string): string {
    return `unix:${join(this.runDir, `${bridge}.mgmt`)}`;
  }

  async waitLinksUp(_bridge: string, names: readonly string[], timeoutMs: number): Promise<string[]> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const down: string[] = [];
      for (const n of names) {
        const r = await this.vsctl(['get', 'Interface', n, 'link_state'], `link_state ${n}`);
        if (r.stdout.trim() !== 'up') down.push(n);
      }
      if (!down.length || Date.now() >= end) return down;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  // ---- flows -----------------------------------------------------------------------------------

  private template(): Record<string, string | number> {
    const t = this.s.getOr('OVS_FLOW_TEMPLATE', { idle_timeout: '0' });
    return Object.fromEntries(Object.entries((t as JsonObject) ?? {}).map(([k, v]) => [k, String(v)]));
  }

  async addFlow(bridge: string, flow: FlowSpec): Promise<void> {
    await this.ofctl('add-flow', bridge, [flowText(flow, this.template())], 'add-flow');
  }

  async addFlows(bridge: string, flows: readonly FlowSpec[]): Promise<void> {
    if (flows.length === 0) return;
    if (flows.length === 1) return this.addFlow(bridge, flows[0]!);
    const t = this.template();
    await this.ofctl('add-flows', bridge, ['-'], `add-flows (${flows.length})`, flows.map((f) => flowText(f, t)).join('\n') + '\n');
  }

  async delFlows(bridge: string): Promise<void> {
    await this.ofctl('del-flows', bridge, [], 'del-flows');
  }

  async dumpFlows(bridge: string): Promise<string[]> {
    return parseDumpFlows((await this.ofctl('dump-flows', bridge, [], 'dump-flows')).stdout);
  }

  // ---- statistics ------------------------------------------------------------------------------

  async portStats(bridge: string): Promise<PortStats[]> {
    const names = this.ports.get(bridge) ?? new Map<number, string>();
    // OpenFlow's drop counters do not say who dropped: OVS-DPDK's policers count theirs apart in the
    // port's custom statistics, which an OpenFlow 1.4 reply carries, read live like the packet counts
    // (the Interface statistics in the database lag up to stats-update-interval, 5 s, behind them).
    const counters = parseDumpPorts((this.opts.dpdk ? await this.dumpPortsOf14(bridge) : await this.ofctl('dump-ports', bridge, [], 'dump-ports')).stdout);
    const types = this.opts.dpdk
      ? parseInterfaceTypes((await this.vsctl(['--format=json', '--columns=name,type', 'list', 'Interface'], 'interface types')).stdout)
      : new Map<string, string>();
    // A netdev port (dpdk, vhost-user, af_xdp) always has custom statistics in a 1.4 reply: none means
    // the bridge answered in 1.3, and its policers' drops would be counted as the switch's loss.
    const bare = counters.find((c) => c.port !== 'LOCAL' && Object.keys(c.custom).length === 0 && isNetdevType(types.get(names.get(c.port as number) ?? '')));
    if (bare && !this.warnedNoCustom.has(bridge)) {
      this.warnedNoCustom.add(bridge);
      this.log.warn(
        `${this.name}: bridge ${bridge} answered dump-ports without custom statistics (no OpenFlow 1.4 in its protocols?): policer drops are not counted apart; allow OpenFlow14 on the bridge`,
      );
    }
    return counters
      .filter((c) => c.port !== 'LOCAL')
      .map((c) => {
        const name = names.get(c.port as number) ?? `ofport${c.port}`;
        const q = policerDropsOf(c.custom);
        const type = types.get(name);
        return {
          name,
          ofport: c.port as number,
          rxPackets: c.rxPackets,
          txPackets: c.txPackets,
          // A vhost-user port without its frontend reports no rx_dropped, but keeps the one drop OVS 3.1
          // counts in it on such a port, its policer's (rx_dropped = ovs_rx_qos_drops, measured).
          rxDropped: !c.reported && q && isVhostType(type) ? q.rx : c.rxDropped,
          txDropped: c.txDropped,
          rxErrors: c.rxErrors,
          txErrors: c.txErrors,
          ...(q ? { rxPolicerDropped: q.rx, txPolicerDropped: q.tx, rxPolicedInRxPackets: policedInRxPackets(type) } : {}),
          ...(c.reported ? {} : { unreported: true }),
          rxBytes: c.rxBytes,
          txBytes: c.txBytes,
        };
      })
      .sort((a, b) => a.ofport - b.ofport);
  }

  /**
   * dump-ports in OpenFlow 1.4 when the bridge speaks it (the custom statistics need it), else 1.3: the
   * reply then has no policer counts and the counter check takes no policer out.
   */
  private dumpPortsOf14(bridge: string): Promise<ExecResult> {
    return this.ofctl('dump-ports', bridge, [], 'dump-ports (OpenFlow 1.4)', undefined, true);
  }

  async syncStats(): Promise<void> {
    // Userspace tunnel ports get their packet counts from datapath flow statistics, which the
    // revalidator threads push about once a second: wait for one round.
    await this.appctl('ovs-vswitchd', ['revalidator/wait']);
  }

  async clearStats(): Promise<void> {
    if (!this.opts.dpdk) return;
    await this.appctl('ovs-vswitchd', ['dpif-netdev/pmd-stats-clear']);
    this.pmdClearedAt = performance.now();
    this.pmdSchedAt = await this.pmdSched();
  }

  /**
   * The PMD threads' scheduler counters (/proc/…/schedstat). OVS's cycle counts run on the TSC and go on
   * while a PMD is preempted; these say how much of the trial it actually had a CPU. Empty when unreadable.
   */
  private async pmdSched(): Promise<Map<number, { comm: string; runNs: number; waitNs: number }>> {
    const out = new Map<number, { comm: string; runNs: number; waitNs: number }>();
    const pid = this.vswitchd?.child.pid;
    if (pid === undefined) return out;
    try {
      const threads = parseThreadIds((await this.ops.exec(['ps', '-L', '-o', 'tid=,comm=', '-p', String(pid)])).stdout, 'pmd');
      for (const t of threads) {
        const s = parseSchedstat(await this.ops.readFile(`/proc/${pid}/task/${t.tid}/schedstat`));
        if (s) out.set(t.tid, { comm: t.comm, ...s });
      }
    } catch {
      // a kernel without schedstat, or a thread that just ended: nothing measured, nothing claimed
    }
    return out;
  }

  /** PMD statistics since clearStats, and that window's length (pmdWindowS: the cycle shares cover it all, traffic or not). */
  async extraStats(): Promise<Record<string, unknown>> {
    if (!this.opts.dpdk) return {};
    const text = (await this.appctl('ovs-vswitchd', ['dpif-netdev/pmd-stats-show'])).stdout;
    const windowS = this.pmdClearedAt === undefined ? undefined : (performance.now() - this.pmdClearedAt) / 1000;
    const now = await this.pmdSched();
    const pct = (ns: number): number => Math.round((ns / 1e9 / windowS!) * 1000) / 10;
    const sched =
      windowS === undefined
        ? []
        : [...now].flatMap(([tid, b]) => {
            const a = this.pmdSchedAt.get(tid);
            return a ? [{ thread: b.comm, tid, onCpuPct: pct(b.runNs - a.runNs), waitingPct: pct(b.waitNs - a.waitNs) }] : [];
          });
    return {
      pmd: parsePmdStats(text),
      ...(windowS !== undefined ? { pmdWindowS: Number(windowS.toFixed(3)) } : {}),
      ...(sched.length ? { pmdSched: sched } : {}),
    };
  }
}

/**
 * The ovs-ofctl arguments with OpenFlow 1.4 allowed besides what they name (its port statistics carry
 * OVS's custom counters, the policers' drops among them); the bridge answers in the highest version
 * both sides speak. Without a protocol option: OpenFlow 1.3 and 1.4.
 */
export function withOpenFlow14(args: readonly string[]): string[] {
  const out = [...args];
  const add = (v: string): string => (/OpenFlow1[45]/.test(v) ? v : `${v},OpenFlow14`);
  for (let i = 0; i < out.length; i++) {
    const a = out[i]!;
    if ((a === '-O' || a === '--protocols') && i + 1 < out.length) {
      out[i + 1] = add(out[i + 1]!);
      return out;
    }
    const m = /^(--protocols=|-O)(.+)$/.exec(a);
    if (m) {
      out[i] = m[1]! + add(m[2]!);
      return out;
    }
  }
  return ['-O', 'OpenFlow13,OpenFlow14', ...out];
}

/** Port types whose OpenFlow 1.4 statistics carry OVS's custom counters (netdev-dpdk, netdev-afxdp). */
function isNetdevType(type: string | undefined): boolean {
  return type !== undefined && /^(dpdk|dpdkvhostuser|dpdkvhostuserclient|afxdp|afxdp-nonpmd)$/.test(type);
}
