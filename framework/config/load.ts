import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';
import { confDirLayers, envLayer, mergeLayers, readConfigFile, type Layer } from './layers.js';
import { SettingsSchema, type DeclaredSettings } from './schema.js';
import { Settings, isPlainObject, type Json, type JsonObject, type VsperfView } from './settings.js';
import { paramsForTestcase } from './test-params.js';
import { ConfFileReader } from './conf-reader.js';
import { vsperfCatalogue, type VsperfCatalogue } from './vsperf-catalogue.js';
import { suggest } from '../util/suggest.js';

/** Project root (the folder holding package.json and conf/). */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const DEFAULT_CONF_DIR = join(PROJECT_ROOT, 'conf');

export interface LoadOptions {
  readonly confDir?: string;
  readonly confFiles?: readonly string[];
  readonly loadEnv?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  /** Parsed --test-params: one entry for all testcases, or one per testcase. */
  readonly testParams?: readonly JsonObject[];
  /** CLI flags mapped to settings (--trafficgen → TRAFFICGEN …), with the flag named as source. */
  readonly cliFlags?: readonly Layer[];
  /** Skip ajv validation (fast paths such as --list that only read the catalogue). */
  readonly validate?: boolean;
  /** Settings plugins declared (schema and defaults), loaded before validation. */
  readonly pluginSettings?: readonly DeclaredSettings[];
  /** vsperf --integration: also load conf/integration/ and use its testcase catalogue. */
  readonly integration?: boolean;
}

/** A known VSPERF setting that was set but has no effect here, with its value and where it came from. */
export interface IneffectiveSetting {
  readonly value: Json;
  readonly source: string;
}

export interface TestcaseDef {
  readonly name: string;
  readonly Deployment: string;
  readonly Description: string;
  readonly Parameters: JsonObject;
  readonly raw: JsonObject;
}

/**
 * Layers in priority order (later wins): conf/NN_*.json → --conf-file → environment (--load-env) →
 * the testcase's own Parameters → --test-params → CLI flags. VSPERF itself ranks a testcase's
 * Parameters above --test-params; we let the user's command line win, which is what people expect.
 */
export class Config {
  readonly schema: SettingsSchema;
  private readonly baseLayers: Layer[];
  readonly base: Settings;

  /** VSPERF settings without effect that any layer or testcase set (reported once by the CLI). */
  readonly ineffective = new Map<string, IneffectiveSetting>();
  private readonly confDir: string;

  constructor(private readonly opts: LoadOptions = {}) {
    const confDir = opts.confDir ?? DEFAULT_CONF_DIR;
    this.confDir = confDir;
    this.schema = new SettingsSchema(join(confDir, 'schema'));
    const reader = new ConfFileReader(() => this.catalogue, PROJECT_ROOT, opts.env ?? process.env);
    const layers = [...pluginDefaults(this.schema, opts.pluginSettings ?? [])];
    layers.push(...confDirLayers(confDir, reader, layers));
    // As VSPERF: conf/integration/ loads after conf/ and before the user's --conf-file.
    const integrationDir = join(confDir, 'integration');
    if (opts.integration && existsSync(integrationDir)) layers.push(...confDirLayers(integrationDir, reader, layers));
    for (const f of opts.confFiles ?? []) layers.push({ source: `--conf-file ${f}`, values: readConfigFile(f, `--conf-file ${f}`, reader, layers) });
    if (opts.loadEnv) layers.push(envLayer(opts.env ?? process.env, this.schema.keys()));
    this.baseLayers = layers;
    const tp = this.testParamLayers(0);
    this.base = this.resolve([...layers, ...tp, ...(opts.cliFlags ?? [])], tp);
  }

  /** VSPERF's settings catalogue (conf/vsperf-settings.json), read on first use. */
  get catalogue(): VsperfCatalogue {
    return vsperfCatalogue(this.confDir, DEFAULT_CONF_DIR);
  }

  private testParamLayers(index: number): Layer[] {
    const layers: Layer[] = [];
    const tp = this.opts.testParams ? paramsForTestcase(this.opts.testParams, index) : {};
    if (Object.keys(tp).length) layers.push({ source: '--test-params', values: tp });
    return layers;
  }

  /** `testParams`: the layers VSPERF keeps in TEST_PARAMS (see VsperfView). */
  private resolve(layers: Layer[], testParams: readonly Layer[]): Settings {
    const { values, provenance } = mergeLayers(layers);
    const withoutEffect: JsonObject = {};
    const effective = this.setAsideIneffective(values, (k) => provenance.get(k) ?? 'defaults', withoutEffect);
    const settings = new Settings(effective, provenance, this.vsperfView(withoutEffect, testParams));
    if (this.opts.validate !== false) this.schema.validate(effective, (k) => settings.source(k));
    return settings;
  }

  /** The names of the TEST_PARAMS layers, each with its value in the conf files below them (VSPERF's "master value"). */
  private vsperfView(withoutEffect: JsonObject, testParams: readonly Layer[]): VsperfView {
    const names = new Set(testParams.flatMap((l) => Object.keys(l.values)));
    if (!names.size) return { withoutEffect, testParams: new Map() };
    const master = mergeLayers(this.baseLayers).values;
    return { withoutEffect, testParams: new Map([...names].map((n) => [n, master[n]])) };
  }

  /**
   * Takes out the settings conf/schema does not describe but VSPERF defines (and `_NAMES`, the
   * private helper values of VSPERF testcases): accepted without effect. A name neither knows is an
   * unknown setting, with the closest name of either as suggestion.
   */
  private setAsideIneffective(values: JsonObject, sourceOf: (key: string) => string, setAside: JsonObject): JsonObject {
    const known = this.schema.keys();
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(values)) {
      if (known.has(k)) out[k] = v;
      else if (k.startsWith('_') || this.catalogue.has(k)) {
        this.ineffective.set(k, { value: v, source: sourceOf(k) });
        setAside[k] = v;
      } else if (this.opts.validate === false) out[k] = v;
      else {
        const s = suggest(k, [...known, ...this.catalogue.names()]);
        throw new ConfigError(k, sourceOf(k), `unknown setting${s ? `; did you mean ${s}?` : ''}`, { hint: 'see `vsperf --list-settings`' });
      }
    }
    return out;
  }

  /** Setting holding the testcase catalogue: TESTCASES, or INTEGRATION_TESTCASES with --integration. */
  get catalogueKey(): string {
    return this.opts.integration ? 'INTEGRATION_TESTCASES' : 'TESTCASES';
  }

  /** The catalogue of this run (the integration one with --integration), in definition order. */
  testcases(): TestcaseDef[] {
    return this.opts.integration ? this.integrationTestcases() : this.catalogueOf('TESTCASES');
  }

  /** VSPERF's integration testcases (conf/integration/, INTEGRATION_TESTS of any conf file). */
  integrationTestcases(): TestcaseDef[] {
    return this.catalogueOf('INTEGRATION_TESTCASES');
  }

  private catalogueOf(key: 'TESTCASES' | 'INTEGRATION_TESTCASES'): TestcaseDef[] {
    const tcs = this.base.getOr<JsonObject>(key, {});
    return Object.entries(tcs).map(([name, raw]) => {
      if (!isPlainObject(raw)) throw new ConfigError(`${key}.${name}`, this.base.source(`${key}.${name}`), 'must be an object');
      return {
        name,
        Deployment: String(raw.Deployment ?? ''),
        Description: String(raw.Description ?? ''),
        Parameters: isPlainObject(raw.Parameters) ? raw.Parameters : {},
        raw,
      };
    });
  }

  /** Settings for the `index`-th testcase of this run: TEST_PARAMS and its Parameters slot in below --test-params. */
  forTestcase(tc: TestcaseDef, index: number): Settings {
    const layers: Layer[] = [...this.baseLayers];
    const testParams: Layer[] = [];
    const common = this.base.getOr<JsonObject>('TEST_PARAMS', {});
    if (Object.keys(common).length) testParams.push({ source: 'TEST_PARAMS', values: common });
    // VSPERF merges the testcase's Parameters into TEST_PARAMS; its vSwitch, VNF… keys are set directly.
    if (Object.keys(tc.Parameters).length) testParams.push({ source: `testcase ${tc.name}`, values: tc.Parameters });
    layers.push(...testParams.filter((l) => l.source === 'TEST_PARAMS'));
    const tcLayer: JsonObject = { ...tc.Parameters };
    if (tc.raw.vSwitch) tcLayer.VSWITCH = tc.raw.vSwitch;
    if (tc.raw.Trafficgen) tcLayer.TRAFFICGEN = tc.raw.Trafficgen;
    if (tc.raw.VNF) tcLayer.VNF = tc.raw.VNF;
    if (typeof tc.raw['Tunnel Type'] === 'string') tcLayer.TUNNEL_TYPE = tc.raw['Tunnel Type'];
    if (typeof tc.raw['Tunnel Operation'] === 'string') tcLayer.TUNNEL_OPERATION = tc.raw['Tunnel Operation'];
    // VSPERF's "Frame Modification": the vSwitch rewrites frames in flight (vlan = push a VLAN tag).
    // VSPERF's testcase "Load" dict configures the load generator (phy2phy_cpu_load/mem_load).
    if (isPlainObject(tc.raw.Load)) tcLayer.LOADGEN_CONFIG = tc.raw.Load;
    if (typeof tc.raw['Frame Modification'] === 'string') tcLayer.FRAME_MOD = tc.raw['Frame Modification'].toLowerCase();
    layers.push({ source: `testcase ${tc.name}`, values: tcLayer });
    const cli = this.testParamLayers(index);
    layers.push(...cli, ...(this.opts.cliFlags ?? []));
    return this.resolve(layers, [...testParams, ...cli]);
  }
}

/** Adds plugin settings to the schema; their defaults are the lowest layer (any conf file overrides them). */
function pluginDefaults(schema: SettingsSchema, declared: readonly DeclaredSettings[]): Layer[] {
  return declared.flatMap(({ owner, fragment }) => {
    schema.addFragment(owner, fragment);
    const values: JsonObject = {};
    for (const [key, prop] of Object.entries(fragment.properties)) if (prop.default !== undefined) values[key] = structuredClone(prop.default);
    return Object.keys(values).length ? [{ source: `plugin ${owner} (default)`, values }] : [];
  });
}
