import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { ConfigError, PluginError } from '../errors.js';
import { suggest } from '../util/suggest.js';
import { findImplausible } from './plausible.js';
import type { JsonObject } from './settings.js';
import type { SettingsFragment } from '../api/driver.js';

export interface SettingDoc {
  readonly key: string;
  readonly description: string;
  readonly type: string;
  readonly file: string;
}

/** Settings a plugin declared through `registry.addSettings`, with who declared them. */
export interface DeclaredSettings {
  readonly owner: string;
  readonly fragment: SettingsFragment;
}

interface SchemaFile {
  title?: string;
  properties?: Record<string, { description?: string; type?: string | string[] } & Record<string, unknown>>;
  definitions?: Record<string, unknown>;
}

const COMPILED = new Map<string, ValidateFunction>();

/** All conf/schema/*.schema.json files merged: their `properties` describe the top-level settings. */
export class SettingsSchema {
  readonly properties: Record<string, Record<string, unknown>> = {};
  readonly docs: SettingDoc[] = [];
  private validator: ValidateFunction | undefined;
  private definitions: Record<string, unknown> = {};

  constructor(readonly schemaDir: string) {
    for (const f of readdirSync(schemaDir)
      .filter((x) => x.endsWith('.schema.json'))
      .sort()) {
      let s: SchemaFile;
      try {
        s = JSON.parse(readFileSync(join(schemaDir, f), 'utf8')) as SchemaFile;
      } catch (e) {
        throw new ConfigError('(schema)', `conf/schema/${f}`, `not valid JSON: ${(e as Error).message}`);
      }
      Object.assign(this.definitions, s.definitions ?? {});
      for (const [key, prop] of Object.entries(s.properties ?? {})) {
        if (this.properties[key]) throw new ConfigError(key, `conf/schema/${f}`, 'setting is described twice in the schema files');
        this.properties[key] = prop;
        const type = Array.isArray(prop.type) ? prop.type.join('|') : (prop.type ?? 'any');
        this.docs.push({ key, description: prop.description ?? '', type, file: f });
      }
    }
    this.docs.sort((a, b) => a.key.localeCompare(b.key));
  }

  /** Settings a plugin declared (registry.addSettings): they may not redefine an existing one. */
  addFragment(owner: string, fragment: SettingsFragment): void {
    for (const name of Object.keys(fragment.definitions ?? {})) {
      if (name in this.definitions) throw new PluginError(owner, `schema definition "${name}" is already defined`);
    }
    for (const [key, prop] of Object.entries(fragment.properties)) {
      const known = this.docs.find((d) => d.key === key);
      if (known) throw new PluginError(owner, `setting ${key} is already defined (${known.file})`, { hint: 'prefix plugin settings with the driver name' });
      const p = prop as { description?: string; type?: string | string[] } & Record<string, unknown>;
      this.properties[key] = p;
      this.docs.push({ key, description: p.description ?? '', type: Array.isArray(p.type) ? p.type.join('|') : (p.type ?? 'any'), file: `plugin ${owner}` });
    }
    Object.assign(this.definitions, fragment.definitions ?? {});
    this.docs.sort((a, b) => a.key.localeCompare(b.key));
    this.validator = undefined;
  }

  keys(): Set<string> {
    return new Set(Object.keys(this.properties));
  }

  private compile(): ValidateFunction {
    if (!this.validator) {
      const schema = { type: 'object', definitions: this.definitions, properties: this.properties, additionalProperties: false };
      // Compiling takes tens of milliseconds; a process that loads settings many times (tests, the
      // fuzz suite, a shim) compiles each distinct schema once.
      const key = JSON.stringify(schema);
      this.validator = COMPILED.get(key);
      if (!this.validator) {
        // Loaded on first validation only: `vsperf --list` never pays for ajv.
        const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
        const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: false, verbose: true });
        this.validator = ajv.compile(schema);
        COMPILED.set(key, this.validator);
      }
    }
    return this.validator;
  }

  /** Throws a ConfigError naming the first offending key, its expected type and its source. */
  validate(values: JsonObject, sourceOf: (key: string) => string): void {
    const validate = this.compile();
    if (validate(values)) {
      const bad = findImplausible(values);
      if (bad) throw new ConfigError(bad.key, sourceOf(bad.key), bad.message);
      return;
    }
    const errs = validate.errors ?? [];
    // Prefer the most specific error (deepest path); unknown-key errors are the most actionable.
    const e = errs.find((x) => x.keyword === 'additionalProperties') ?? errs.sort((a, b) => b.instancePath.length - a.instancePath.length)[0]!;
    throw this.toConfigError(e, sourceOf);
  }

  private toConfigError(e: ErrorObject, sourceOf: (key: string) => string): ConfigError {
    const path = e.instancePath
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (e.keyword === 'additionalProperties') {
      const extra = String((e.params as { additionalProperty: string }).additionalProperty);
      const key = [...path, extra].join('.');
      // Inside a dict setting (TRAFFIC.framerate) the candidates are that object's own keys.
      const props = (e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
      const candidates = path.length === 0 ? Object.keys(this.properties) : Object.keys(props ?? {});
      const s = suggest(extra, candidates);
      return new ConfigError(key, sourceOf(key), `unknown setting${s ? `; did you mean ${s}?` : ''}`, {
        hint: path.length === 0 ? 'see `vsperf --list-settings`' : candidates.length ? `known: ${candidates.join(', ')}` : undefined,
      });
    }
    const key = path.join('.') || '(top level)';
    let msg = e.message ?? 'invalid';
    if (e.keyword === 'type') msg = `must be ${(e.params as { type: string }).type}`;
    if (e.keyword === 'enum') msg = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((x) => JSON.stringify(x)).join(', ')}`;
    return new ConfigError(key, sourceOf(key), msg);
  }
}
