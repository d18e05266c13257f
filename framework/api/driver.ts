/** The plugin contract: driver kinds, what a factory receives (DriverContext), and the registry a plugin adds to. */
import type { Logger } from '../log/logger.js';
import type { Host } from '../host/host.js';
import type { Json, Settings } from '../config/settings.js';
import type { TrafficGenerator } from './trafficgen.js';
import type { VSwitch, Deployment } from './deployment.js';
import type { Vnf, LoopbackApp } from './vnf.js';

/** Kinds of pluggable components, as VSPERF's --list-* options name them. */
export type DriverKind = 'trafficgen' | 'vswitch' | 'vnf' | 'fwdapp' | 'loadgen' | 'deployment' | 'loopback';

export interface LoadGenerator {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A forwarding application that replaces the vSwitch (VSPERF --fwdapp, e.g. testpmd). */
export type FwdApp = VSwitch;

export interface DriverOf {
  trafficgen: TrafficGenerator;
  vswitch: VSwitch;
  vnf: Vnf;
  fwdapp: FwdApp;
  loadgen: LoadGenerator;
  deployment: DeploymentFactory;
  loopback: LoopbackApp;
}

/** What a factory gets: its settings (frozen), a logger, the host (tracked resources), an abort signal. */
export interface DriverContext {
  readonly settings: Settings;
  readonly log: Logger;
  readonly host: Host;
  readonly signal: AbortSignal;
  /** Per-testcase scratch directory (logs, sockets). */
  readonly workDir: string;
  /** Create another registered driver by name (a deployment creating its VSWITCH and VNFs). */
  create<K extends DriverKind>(kind: K, name: string): Promise<DriverOf[K]>;
}

/** A driver as registered: a plain object, like a Vite plugin. `create` imports the heavy code lazily. */
export interface DriverFactory<K extends DriverKind = DriverKind> {
  readonly kind: K;
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly summary: string;
  create(ctx: DriverContext): Promise<DriverOf[K]>;
  /**
   * Plan-time check of the settings this driver reads, called by --dry-run and before a run for every
   * driver the run would create; throws a ConfigError. Whatever passes here, `create` must accept.
   */
  checkSettings?(settings: Settings): void | Promise<void>;
  /** Lines --dry-run prints for this driver under a testcase (e.g. the headers a hardware generator will program). */
  describePlan?(settings: Settings): string[] | Promise<string[]>;
}

/** What a vendor package exports: `export function register(registry) { registry.add({...}) }`. */
export type PluginRegister = (registry: RegistryApi) => void | Promise<void>;

/** JSON Schema of one setting a plugin declares. `description` is shown by --list-settings. */
export interface SettingSchema {
  readonly description: string;
  /** Value used when no conf file, environment variable or --test-params sets it. */
  readonly default?: Json;
  readonly type?: string | readonly string[];
  readonly [keyword: string]: unknown;
}

/**
 * Settings a plugin adds to the closed schema, in the same form as conf/schema/*.schema.json:
 * upper-case top-level keys, prefixed with the driver's name by convention (TRAFFICGEN_ACME_HOST).
 */
export interface SettingsFragment {
  readonly properties: Readonly<Record<string, SettingSchema>>;
  /** Shared JSON Schema definitions the properties refer to with $ref: '#/definitions/…'. */
  readonly definitions?: Readonly<Record<string, unknown>>;
}

export interface RegistryApi {
  add<K extends DriverKind>(factory: DriverFactory<K>): void;
  /** Declare settings; plugins load before the configuration is validated, so they work everywhere. */
  addSettings(fragment: SettingsFragment): void;
}

/** Registered under kind 'deployment'; builds a Deployment for a testcase from its settings. */
export interface DeploymentFactory {
  readonly name: string;
  build(ctx: DriverContext): Promise<Deployment>;
}
