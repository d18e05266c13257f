import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';
import { confDirLayers, envLayer, mergeLayers, readConfigFile, type Layer } from './layers.js';
import { SettingsSchema, type DeclaredSettings } from './schema.js';
import { Settings, isPlainObject, type JsonObject } from './settings.js';
import { paramsForTestcase } from './test-params.js';

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

  constructor(private readonly opts: LoadOptions = {}) {
    const confDir = opts.confDir ?? DEFAULT_CONF_DIR;
    this.schema = new SettingsSchema(join(confDir, 'schema'));
    const layers = [...pluginDefaults(this.schema, opts.pluginSettings ?? []), ...confDirLayers(confDir)];
    for (const f of opts.confFiles ?? []) layers.push({ source: `--conf-file ${f}`, values: readConfigFile(f, `--conf-file ${f}`) });
    if (opts.loadEnv) layers.push(envLayer(opts.env ?? process.env, this.schema.keys()));
    this.baseLayers = layers;
    this.base = this.resolve([...layers, ...this.testParamLayers(0), ...(opts.cliFlags ?? [])]);
  }

  private testParamLayers(index: number): Layer[] {
    const layers: Layer[] = [];
    const tp = this.opts.testParams ? paramsForTestcase(this.opts.testParams, index) : {};
    if (Object.keys(tp).length) layers.push({ source: '--test-params', values: tp });
    return layers;
  }

  private resolve(layers: Layer[]): Settings {
    const { values, provenance } = mergeLayers(layers);
    const settings = new Settings(values, provenance);
    if (this.opts.validate !== false) this.schema.validate(values, (k) => settings.source(k));
    return settings;
  }

  /** The catalogue, in definition order. */
  testcases(): TestcaseDef[] {
    const tcs = this.base.getOr<JsonObject>('TESTCASES', {});
    return Object.entries(tcs).map(([name, raw]) => {
      if (!isPlainObject(raw)) throw new ConfigError(`TESTCASES.${name}`, this.base.source(`TESTCASES.${name}`), 'must be an object');
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
    const common = this.base.getOr<JsonObject>('TEST_PARAMS', {});
    if (Object.keys(common).length) layers.push({ source: 'TEST_PARAMS', values: common });
    const tcLayer: JsonObject = { ...tc.Parameters };
    if (tc.raw.vSwitch) tcLayer.VSWITCH = tc.raw.vSwitch;
    if (tc.raw.Trafficgen) tcLayer.TRAFFICGEN = tc.raw.Trafficgen;
    if (tc.raw.VNF) tcLayer.VNF = tc.raw.VNF;
    // VSPERF's "Frame Modification": the vSwitch rewrites frames in flight (vlan = push a VLAN tag).
    // VSPERF's testcase "Load" dict configures the load generator (phy2phy_cpu_load/mem_load).
    if (isPlainObject(tc.raw.Load)) tcLayer.LOADGEN_CONFIG = tc.raw.Load;
    if (typeof tc.raw['Frame Modification'] === 'string') tcLayer.FRAME_MOD = tc.raw['Frame Modification'].toLowerCase();
    layers.push({ source: `testcase ${tc.name}`, values: tcLayer });
    layers.push(...this.testParamLayers(index), ...(this.opts.cliFlags ?? []));
    return this.resolve(layers);
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
