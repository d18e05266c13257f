/**
 * Reads VSPERF-dialect settings files (`.conf`) for one configuration load. All of them run in one
 * namespace, as VSPERF runs its conf files, seeded with VSPERF's defaults and then the values of the
 * layers loaded before (ours win), so `PATHS['dpdk']['bin']['path'] = …`, `STEP_X + [...]` and
 * `PERFORMANCE_TESTS + [...]` work in a user's file on its own.
 */
import { ConfNamespace } from './pyconf/interpret.js';
import type { Layer } from './layer.js';
import { deepMerge, isPlainObject, type Json, type JsonObject } from './settings.js';
import type { VsperfCatalogue } from './vsperf-catalogue.js';

/** A testcase catalogue (TESTCASES-style object) as VSPERF's list of dicts with "Name". */
function asTestcaseList(v: Json | undefined): Json[] {
  if (!isPlainObject(v)) return [];
  return Object.entries(v).map(([Name, tc]) => (isPlainObject(tc) ? { Name, ...tc } : { Name }));
}

export class ConfFileReader {
  private ns: ConfNamespace | undefined;
  private seen = 0;

  constructor(
    private readonly catalogue: () => VsperfCatalogue,
    private readonly rootDir: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** Run one decoded file; `file` names it in errors and is its __file__. */
  run(text: string, file: string, earlier: readonly Layer[]): JsonObject {
    return this.namespace(earlier).runFile(text, file).values;
  }

  private namespace(earlier: readonly Layer[]): ConfNamespace {
    if (!this.ns) {
      this.ns = new ConfNamespace({ initial: this.catalogue().defaults(), env: this.env });
      this.ns.define('ROOT_DIR', this.rootDir);
    }
    // Layers loaded since the last file (our JSON files, earlier --conf-files) are visible by name.
    for (const l of earlier.slice(this.seen)) {
      for (const [k, v] of Object.entries(l.values)) {
        if (k === 'TESTCASES') this.ns.define('PERFORMANCE_TESTS', asTestcaseList(mergedTestcases(earlier, k)));
        else if (k === 'INTEGRATION_TESTCASES') this.ns.define('INTEGRATION_TESTS', asTestcaseList(mergedTestcases(earlier, k)));
        else this.ns.define(k, mergedValue(earlier, k) ?? v);
      }
    }
    this.seen = earlier.length;
    return this.ns;
  }
}

function mergedTestcases(layers: readonly Layer[], key: string): JsonObject {
  const out: JsonObject = {};
  for (const l of layers) if (isPlainObject(l.values[key])) Object.assign(out, l.values[key]);
  return out;
}

/** The value of `key` after all layers, with the one merge rule of the layers (objects merge). */
function mergedValue(layers: readonly Layer[], key: string): Json | undefined {
  let v: Json | undefined;
  for (const l of layers) {
    const x = l.values[key];
    if (x === undefined) continue;
    v = isPlainObject(v) && isPlainObject(x) ? deepMerge(v, x) : x;
  }
  return v;
}
