import { createRequire } from 'node:module';
import { isAbsolute, resolve, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PluginError } from '../errors.js';
import type { Registry } from './registry.js';
import type { PluginRegister } from '../api/driver.js';

/** Resolve a plugin spec: a path (./x, /x) or an npm package name, looked up from the working directory first. */
export function resolvePlugin(spec: string, cwd = process.cwd()): string {
  if (spec.startsWith('.') || isAbsolute(spec)) {
    // A directory is a package: resolve its entry point as Node resolves require() of a folder.
    try {
      return pathToFileURL(createRequire(join(cwd, 'noop.js')).resolve(resolve(cwd, spec))).href;
    } catch {
      throw new PluginError(spec, 'not found', { hint: 'give the path of a package folder or a module file' });
    }
  }
  for (const base of [join(cwd, 'package.json'), import.meta.url]) {
    try {
      return pathToFileURL(createRequire(base).resolve(spec)).href;
    } catch {
      /* try the next base */
    }
  }
  throw new PluginError(spec, 'not found', { hint: `install it (npm install ${spec}) or give a path` });
}

/** Import a vendor package and call its `register(registry)`. */
export async function loadPlugin(spec: string, registry: Registry, cwd?: string): Promise<void> {
  const url = resolvePlugin(spec, cwd);
  let mod: { register?: unknown; default?: { register?: unknown } };
  try {
    mod = (await import(url)) as typeof mod;
  } catch (e) {
    throw new PluginError(spec, `failed to load: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  const register = (typeof mod.register === 'function' ? mod.register : mod.default?.register) as PluginRegister | undefined;
  if (typeof register !== 'function') throw new PluginError(spec, 'does not export a register(registry) function');
  try {
    await registry.asPlugin(spec, () => register(registry));
  } catch (e) {
    if (e instanceof PluginError) throw e;
    throw new PluginError(spec, `register() failed: ${(e as Error).message}`, { cause: e });
  }
}
