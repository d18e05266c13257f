/**
 * A generator that runs where its ports are. The runner creates the generator before the deployment
 * says where the ports are (a simulated generator needs no deployment at all), so the choice is made at
 * connect: ports of this host go to the local driver; ports on another host (PortSpec.host: a
 * TESTBED_HOSTS generator host, or the two-host sandbox's) go to the driver's remote form, opened on
 * that host (drivers.ts wires Software to a vsperf-tgshim started there over SSH).
 */
import type {
  ContinuousRun,
  GeneratorCaps,
  LiveCounters,
  PortSpec,
  TrafficGenerator,
  TrafficSpec,
  TrialHooks,
  TrialResult,
  TrialSpec,
} from '../api/trafficgen.js';
import { CapabilityError, VsperfError, errorMessage } from '../errors.js';
import type { SshTarget } from '../host/ssh.js';

/** Opens the generator on `host`; its close() releases everything it made there. */
export type OpenRemoteGenerator = (host: SshTarget, signal?: AbortSignal) => Promise<TrafficGenerator>;

export class PlacedGenerator implements TrafficGenerator {
  readonly startContinuous?: (spec: TrafficSpec, signal?: AbortSignal) => Promise<ContinuousRun>;
  private active: TrafficGenerator;
  private remote: TrafficGenerator | undefined;

  constructor(
    private readonly local: TrafficGenerator,
    private readonly openRemote: OpenRemoteGenerator,
  ) {
    this.active = local;
    if (local.startContinuous) this.startContinuous = (spec, signal) => this.continuous(spec, signal);
  }

  get name(): string {
    return this.local.name;
  }

  /** Where the generator runs: undefined = this host. */
  get host(): string | undefined {
    return this.remote ? this.hostName : undefined;
  }

  private hostName: string | undefined;
  /** The one close: a second call, or one made while it runs, gets this same promise. */
  private closing: Promise<void> | undefined;

  capabilities(): GeneratorCaps {
    return this.active.capabilities();
  }

  async connect(ports: readonly PortSpec[], signal?: AbortSignal): Promise<void> {
    const hosts = [...new Set(ports.map((p) => p.host?.name ?? 'this host'))];
    if (hosts.length > 1) throw new CapabilityError(this.name, `ports on ${hosts.join(' and ')}`, 'one generator runs on one host: give it ports of one host');
    const host = ports[0]?.host;
    if (!host) return this.local.connect(ports, signal);
    if (this.remote) throw new CapabilityError(this.name, 'a second connect', 'connect once per generator');
    this.hostName = host.name;
    this.remote = await this.openRemote(host, signal);
    this.active = this.remote;
    // On its own host a port is a plain interface there: the route to the host is this side's business.
    await this.remote.connect(
      ports.map(({ host: _h, ...p }) => p),
      signal,
    );
  }

  runTrial(spec: TrialSpec, signal?: AbortSignal, onProgress?: (c: LiveCounters) => void, hooks?: TrialHooks): Promise<TrialResult> {
    return this.active.runTrial(spec, signal, onProgress, hooks);
  }

  private continuous(spec: TrafficSpec, signal?: AbortSignal): Promise<ContinuousRun> {
    if (!this.active.startContinuous) throw new CapabilityError(this.name, 'continuous traffic', `the generator on ${this.hostName} cannot run it`);
    return this.active.startContinuous(spec, signal);
  }

  /**
   * Both sides, the remote one first (it holds a connection and a process on its host). Idempotent: the
   * runner's cleanup and a failing testcase may both close it, at once; each side is closed once.
   */
  close(): Promise<void> {
    return (this.closing ??= this.closeBoth());
  }

  private async closeBoth(): Promise<void> {
    const errors: string[] = [];
    await this.remote?.close().catch((e: unknown) => errors.push(errorMessage(e)));
    await this.local.close().catch((e: unknown) => errors.push(errorMessage(e)));
    if (errors.length) throw new VsperfError('E_CLEANUP', `${this.name}: ${errors.join('; ')}`);
  }
}
