import { closeSync, openSync, readSync, readdirSync, existsSync } from 'node:fs';
import { join, relative, basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';
import { parseLiteral } from './literal.js';
import { decodeUtf8 } from './utf8.js';
import { ConfFileReader } from './conf-reader.js';
import { vsperfCatalogue } from './vsperf-catalogue.js';
import { deepMerge, isPlainObject, type Json, type JsonObject } from './settings.js';

const PROJECT_ROOT_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DEFAULT_CONF_DIR_PATH = join(PROJECT_ROOT_PATH, 'conf');

/** One configuration layer: values plus where they came from. Later layers win. */
export type { Layer } from './layer.js';
import type { Layer } from './layer.js';

/**
 * VSPERF lists testcases in PERFORMANCE_TESTS and INTEGRATION_TESTS (arrays: a later file would replace
 * the whole list). We keep them in TESTCASES / INTEGRATION_TESTCASES keyed by name, so a custom file
 * adds or changes one testcase; such an array in a user file is converted to that form on load.
 */
const TESTCASE_LISTS: Record<string, string> = { PERFORMANCE_TESTS: 'TESTCASES', INTEGRATION_TESTS: 'INTEGRATION_TESTCASES' };

function adaptTestcaseList(values: JsonObject, source: string): JsonObject {
  let out = values;
  for (const [listKey, key] of Object.entries(TESTCASE_LISTS)) {
    const list = out[listKey];
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new ConfigError(listKey, source, 'must be a list of testcase definitions');
    const testcases: JsonObject = {};
    list.forEach((tc, i) => {
      if (!isPlainObject(tc) || typeof tc.Name !== 'string') throw new ConfigError(`${listKey}[${i}]`, source, 'each testcase needs a "Name" string');
      const { Name, ...rest } = tc;
      testcases[Name] = rest;
    });
    const { [listKey]: _drop, ...others } = out;
    out = deepMerge(others, { [key]: testcases });
  }
  return out;
}

/** Larger than any real settings file; /dev/zero or a runaway generator output stops here. */
export const MAX_CONF_BYTES = 16 * 1024 * 1024;

/** The file's bytes, refusing more than `max` (readFileSync would read /dev/zero until memory runs out). */
function readBounded(path: string, max: number, source: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(64 * 1024);
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) return Buffer.concat(chunks, total);
      total += n;
      if (total > max) throw new ConfigError('(file)', source, `larger than ${max} bytes`);
      chunks.push(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * One settings file: JSON, or VSPERF's conf dialect (run by `reader` with the layers loaded before it
 * visible by name; a fresh reader sees VSPERF's defaults only).
 */
export function readConfigFile(path: string, source = path, reader?: ConfFileReader, earlier: readonly Layer[] = []): JsonObject {
  let bytes: Buffer;
  try {
    bytes = readBounded(path, MAX_CONF_BYTES, source);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError('(file)', source, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const text = decodeUtf8(bytes, path);
  let values: Json;
  if (path.endsWith('.json')) {
    try {
      values = JSON.parse(text) as Json;
    } catch (e) {
      throw new ConfigError('(file)', source, `not valid JSON: ${(e as Error).message}`);
    }
  } else values = (reader ?? defaultReader()).run(text, path, earlier);
  if (!isPlainObject(values)) throw new ConfigError('(file)', source, 'top level must be an object of SETTING: value');
  return adaptTestcaseList(values, source);
}

function defaultReader(): ConfFileReader {
  return new ConfFileReader(() => vsperfCatalogue(DEFAULT_CONF_DIR_PATH, DEFAULT_CONF_DIR_PATH), PROJECT_ROOT_PATH);
}

/** conf/NN_*.json|conf in name order (VSPERF's numbered layers, 01a_ after 01_; a higher number wins). */
export function confDirLayers(confDir: string, reader?: ConfFileReader, earlier: readonly Layer[] = []): Layer[] {
  if (!existsSync(confDir)) throw new ConfigError('(conf dir)', confDir, 'configuration directory not found');
  const layers: Layer[] = [];
  for (const f of readdirSync(confDir)
    .filter((x) => /^\d\d[a-z]?_.*\.(json|conf)$/.test(x))
    .sort()) {
    const path = join(confDir, f);
    const source = relative(process.cwd(), path).startsWith('..') ? path : relative(process.cwd(), path) || basename(path);
    layers.push({ source, values: readConfigFile(path, source, reader, [...earlier, ...layers]) });
  }
  return layers;
}

/**
 * --load-env: VSPERF_<KEY>=value for keys the schema knows. Only known keys: copying every upper-case
 * variable (PATH, HOME…) into settings, as VSPERF does, turns typos into silent no-ops.
 */
export function envLayer(env: NodeJS.ProcessEnv, knownKeys: ReadonlySet<string>): Layer {
  const values: JsonObject = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('VSPERF_') || raw === undefined) continue;
    const key = name.slice('VSPERF_'.length);
    if (!knownKeys.has(key)) continue;
    let v: Json;
    try {
      v = parseLiteral(raw, { bareWords: true });
    } catch {
      v = raw;
    }
    values[key] = v;
  }
  return { source: 'environment (--load-env)', values };
}

/** Every dotted path a layer sets, for provenance. Objects record their own path and their children. */
export function paths(values: JsonObject, prefix = '', out: string[] = []): string[] {
  // One array filled in place: spreading a child's paths into push() overflows the stack when a layer
  // sets tens of thousands of them (a conf file of 80 000 testcases did).
  for (const [k, v] of Object.entries(values)) {
    const p = prefix ? `${prefix}.${k}` : k;
    out.push(p);
    if (isPlainObject(v)) paths(v, p, out);
  }
  return out;
}

export function mergeLayers(layers: readonly Layer[]): { values: JsonObject; provenance: Map<string, string> } {
  let values: JsonObject = {};
  const provenance = new Map<string, string>();
  for (const l of layers) {
    values = deepMerge(values, l.values);
    for (const p of paths(l.values)) provenance.set(p, l.source);
  }
  return { values, provenance };
}
