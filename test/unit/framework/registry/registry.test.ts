import { expect } from 'chai';
import { join } from 'node:path';
import { Registry } from '../../../../framework/registry/registry.js';
import { registerBuiltins } from '../../../../drivers.js';
import { loadPlugin } from '../../../../framework/registry/plugin-loader.js';
import { ConfigError, PluginError, UsageError } from '../../../../framework/errors.js';
import { Config, PROJECT_ROOT } from '../../../../framework/config/load.js';
import type { DriverContext } from '../../../../framework/api/driver.js';

const FIXTURES = join(PROJECT_ROOT, 'test', 'fixtures');

describe('driver registry', () => {
  it('looks drivers up case-insensitively and by alias', () => {
    const r = new Registry();
    registerBuiltins(r);
    expect(r.get('trafficgen', 'simulated').name).to.equal('Simulated');
    expect(r.get('trafficgen', 'DUMMY').name).to.equal('Simulated');
  });
  it('refuses a duplicate name or alias', () => {
    const r = new Registry();
    const f = {
      kind: 'trafficgen' as const,
      name: 'X',
      summary: 'x',
      create: async () => {
        throw new Error('no');
      },
    };
    r.add(f);
    expect(() => r.add({ ...f, name: 'x' })).to.throw(PluginError, /already registered/);
    expect(() => r.add({ ...f, name: 'Y', aliases: ['X'] })).to.throw(PluginError, /already registered/);
  });
  it('refuses malformed factories', () => {
    const r = new Registry();
    expect(() => r.add({ kind: 'nonsense', name: 'X', summary: '', create: async () => ({}) } as never)).to.throw(PluginError, /unknown driver kind/);
    expect(() => r.add({ kind: 'trafficgen', name: 'X', summary: '' } as never)).to.throw(PluginError, /create\(\)/);
  });
  it('an unknown name gets a suggestion and the list', () => {
    const r = new Registry();
    registerBuiltins(r);
    expect(() => r.get('trafficgen', 'Simulatd')).to.throw(UsageError, /did you mean "Simulated"/);
  });
});

describe('plugin loading', () => {
  it('loads a vendor package by path and registers its driver', async () => {
    const r = new Registry();
    await loadPlugin(join(FIXTURES, 'plugin-acme'), r);
    const f = r.get('trafficgen', 'acme');
    expect(f.name).to.equal('AcmeGen');
    const gen = await f.create({} as DriverContext);
    expect(gen.capabilities().maxFrameSize).to.equal(1518);
  });
  it('loads a package by name from the working directory', async () => {
    const r = new Registry();
    await loadPlugin('vsperf-plugin-acme', r, join(FIXTURES, 'plugin-host'));
    expect(r.has('trafficgen', 'AcmeGen')).to.equal(true);
  });
  it('reports a missing package and a module without register()', async () => {
    const r = new Registry();
    let err: unknown;
    try {
      await loadPlugin('vsperf-plugin-does-not-exist', r);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(PluginError);
    expect((err as Error).message).to.match(/not found/);
    err = undefined;
    try {
      await loadPlugin(join(FIXTURES, 'plugin-broken.js'), r);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(PluginError);
    expect((err as Error).message).to.match(/does not export a register/);
  });
});

describe('plugin settings', () => {
  it('are attributed to the plugin that declared them; malformed declarations are refused with E_PLUGIN', async () => {
    const r = new Registry();
    await loadPlugin(join(FIXTURES, 'plugin-acme'), r);
    const declared = r.declaredSettings();
    expect(declared.map((d) => d.owner)).to.deep.equal([join(FIXTURES, 'plugin-acme')]);
    expect(Object.keys(declared[0]!.fragment.properties)).to.deep.equal(['TRAFFICGEN_ACME_HOST', 'TRAFFICGEN_ACME_PORTS']);
    const bad = (fragment: unknown): string => {
      try {
        r.addSettings(fragment as never);
      } catch (e) {
        return `${(e as PluginError).code}: ${(e as Error).message}`;
      }
      return 'accepted';
    };
    expect(bad({ properties: { acme_host: { description: 'x' } } })).to.match(/^E_PLUGIN: .*"acme_host" must be upper case/);
    expect(bad({ properties: { ACME_HOST: { type: 'string' } } })).to.match(/^E_PLUGIN: .*ACME_HOST needs a description/);
    expect(bad({ ACME_HOST: { description: 'x' } })).to.match(/^E_PLUGIN: .*needs \{ properties/);
  });

  it('may not redefine a built-in setting; an invalid default is a config error naming the plugin', () => {
    const clash = { owner: 'acme', fragment: { properties: { TRAFFICGEN_DURATION: { description: 'mine', type: 'string' } } } };
    expect(() => new Config({ pluginSettings: [clash] })).to.throw(
      PluginError,
      /plugin acme: setting TRAFFICGEN_DURATION is already defined \(methodology\.schema\.json\)/,
    );
    const badDefault = { owner: 'acme', fragment: { properties: { ACME_N: { description: 'n', type: 'integer', default: 'two' } } } };
    expect(() => new Config({ pluginSettings: [badDefault] })).to.throw(ConfigError, /ACME_N: must be integer \(from plugin acme \(default\)\)/);
    const ok = new Config({ pluginSettings: [{ owner: 'acme', fragment: { properties: { ACME_N: { description: 'n', type: 'integer', default: 3 } } } }] });
    expect(ok.base.get('ACME_N')).to.equal(3);
    expect(ok.schema.docs.find((d) => d.key === 'ACME_N')).to.deep.equal({ key: 'ACME_N', description: 'n', type: 'integer', file: 'plugin acme' });
  });
});
