import { expect } from 'chai';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config } from '../../../../framework/config/load.js';
import { ConfigError } from '../../../../framework/errors.js';
import { parseTestParamsOption } from '../../../../framework/config/test-params.js';

function confDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vsperf-conf-'));
  mkdirSync(join(d, 'schema'));
  writeFileSync(
    join(d, 'schema', 'a.schema.json'),
    JSON.stringify({
      properties: {
        DURATION: { description: 'trial duration (s)', type: 'number' },
        NAME: { description: 'a name', type: 'string' },
        TRAFFIC: { description: 'traffic dict', type: 'object', properties: { rate: { type: 'number' }, mode: { type: 'string' } } },
        SIZES: { description: 'sizes', type: 'array', items: { type: 'integer' } },
        TEST_PARAMS: { description: 'common params', type: 'object' },
        TESTCASES: { description: 'catalogue', type: 'object' },
      },
    }),
  );
  writeFileSync(join(d, '00_common.json'), JSON.stringify({ DURATION: 30, NAME: 'base', TRAFFIC: { rate: 100, mode: 'a' }, SIZES: [64], TEST_PARAMS: {} }));
  writeFileSync(
    join(d, '01_testcases.json'),
    JSON.stringify({
      TESTCASES: { t1: { Deployment: 'p2p', Description: 'one', Parameters: { DURATION: 5, TRAFFIC: { mode: 'tc' } } }, t2: { Deployment: 'pvp' } },
    }),
  );
  writeFileSync(join(d, '02_more.json'), JSON.stringify({ NAME: 'layer2' }));
  return d;
}

describe('layered configuration', () => {
  let dir: string;
  beforeEach(() => (dir = confDir()));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('merges conf files in name order; objects merge, arrays and scalars replace', () => {
    const c = new Config({ confDir: dir });
    expect(c.base.get('NAME')).to.equal('layer2');
    expect(c.base.source('NAME')).to.match(/02_more\.json$/);
    expect(c.base.get('TRAFFIC')).to.deep.equal({ rate: 100, mode: 'a' });
  });

  it('applies the priority conf dir < --conf-file < env < testcase < --test-params < CLI flags', () => {
    const f = join(dir, 'custom.conf');
    writeFileSync(f, "NAME = 'conffile'\nDURATION = 7\nSIZES = (128, 256)\n");
    const tc = () => new Config({ confDir: dir }).testcases()[0]!;
    // --conf-file over conf dir
    let c = new Config({ confDir: dir, confFiles: [f] });
    expect(c.base.get('NAME')).to.equal('conffile');
    expect(c.base.get('SIZES')).to.deep.equal([128, 256]);
    // env over --conf-file (only with --load-env, only VSPERF_ + known keys)
    c = new Config({ confDir: dir, confFiles: [f], loadEnv: true, env: { VSPERF_NAME: 'env', VSPERF_UNKNOWN: 'x', NAME: 'ignored', PATH: '/bin' } });
    expect(c.base.get('NAME')).to.equal('env');
    expect(c.base.has('UNKNOWN')).to.equal(false);
    expect(new Config({ confDir: dir, confFiles: [f], env: { VSPERF_NAME: 'env' } }).base.get('NAME')).to.equal('conffile');
    // testcase Parameters over env
    let s = c.forTestcase(tc(), 0);
    expect(s.get('DURATION')).to.equal(5);
    expect(s.source('DURATION')).to.equal('testcase t1');
    expect(s.get('TRAFFIC')).to.deep.equal({ rate: 100, mode: 'tc' });
    // --test-params over testcase
    c = new Config({ confDir: dir, loadEnv: true, env: {}, testParams: parseTestParamsOption("DURATION=2;TRAFFIC={'rate': 50}") });
    s = c.forTestcase(tc(), 0);
    expect(s.get('DURATION')).to.equal(2);
    expect(s.get('TRAFFIC')).to.deep.equal({ rate: 50, mode: 'tc' });
    expect(s.source('TRAFFIC.rate')).to.equal('--test-params');
    expect(s.source('TRAFFIC.mode')).to.equal('testcase t1');
    // CLI flags over everything
    c = new Config({ confDir: dir, testParams: parseTestParamsOption("NAME='tp'"), cliFlags: [{ source: '--name', values: { NAME: 'flag' } }] });
    expect(c.forTestcase(tc(), 0).get('NAME')).to.equal('flag');
    expect(c.forTestcase(tc(), 0).source('NAME')).to.equal('--name');
  });

  it('applies TEST_PARAMS below the testcase parameters', () => {
    writeFileSync(join(dir, '05_tp.json'), JSON.stringify({ TEST_PARAMS: { DURATION: 9, NAME: 'tp' } }));
    const c = new Config({ confDir: dir });
    const s = c.forTestcase(c.testcases()[0]!, 0);
    expect(s.get('NAME')).to.equal('tp');
    expect(s.get('DURATION')).to.equal(5);
  });

  it('a type error names the key, the expected type and the source', () => {
    try {
      new Config({ confDir: dir, testParams: parseTestParamsOption("TRAFFIC={'rate': 'fast'}") });
      expect.fail('should throw');
    } catch (e) {
      expect(e).to.be.instanceOf(ConfigError);
      const ce = e as ConfigError;
      expect(ce.key).to.equal('TRAFFIC.rate');
      expect(ce.source).to.equal('--test-params');
      expect(ce.message).to.match(/TRAFFIC\.rate: must be number \(from --test-params\)/);
    }
  });

  it('an unknown setting is an error with a suggestion and the file it came from', () => {
    writeFileSync(join(dir, '10_custom.json'), JSON.stringify({ DURATOIN: 3 }));
    try {
      new Config({ confDir: dir });
      expect.fail('should throw');
    } catch (e) {
      expect(e).to.be.instanceOf(ConfigError);
      expect((e as ConfigError).key).to.equal('DURATOIN');
      expect((e as Error).message).to.match(/unknown setting; did you mean DURATION\?/);
      expect((e as ConfigError).source).to.match(/10_custom\.json$/);
    }
  });

  it('a broken file is reported with its name', () => {
    writeFileSync(join(dir, '10_custom.json'), '{ "NAME": ');
    expect(() => new Config({ confDir: dir })).to.throw(ConfigError, /10_custom\.json/);
  });

  it('accepts VSPERF PERFORMANCE_TESTS lists and adds them to the catalogue', () => {
    const f = join(dir, 'tests.conf');
    writeFileSync(f, "PERFORMANCE_TESTS = [{'Name': 'my_tput', 'Deployment': 'p2p', 'Description': 'mine', 'Parameters': {'DURATION': 1}}]\n");
    const c = new Config({ confDir: dir, confFiles: [f] });
    expect(c.testcases().map((t) => t.name)).to.deep.equal(['t1', 't2', 'my_tput']);
    expect(c.forTestcase(c.testcases()[2]!, 0).get('DURATION')).to.equal(1);
  });

  it('a bad value in a testcase Parameters names the testcase as source', () => {
    writeFileSync(join(dir, '10_custom.json'), JSON.stringify({ TESTCASES: { bad: { Deployment: 'p2p', Parameters: { DURATION: 'long' } } } }));
    const c = new Config({ confDir: dir });
    const bad = c.testcases().find((t) => t.name === 'bad')!;
    expect(() => c.forTestcase(bad, 0)).to.throw(ConfigError, /DURATION: must be number \(from testcase bad\)/);
  });
});

describe('the shipped configuration', () => {
  it('loads, validates, and has the VSPERF testcases', () => {
    const c = new Config({});
    const names = c.testcases().map((t) => t.name);
    for (const n of [
      'phy2phy_tput',
      'back2back',
      'phy2phy_tput_mod_vlan',
      'phy2phy_cont',
      'pvp_cont',
      'pvvp_cont',
      'pvpv_cont',
      'phy2phy_scalability',
      'pvp_tput',
      'pvp_back2back',
      'pvvp_tput',
      'pvvp_back2back',
      'phy2phy_cpu_load',
      'phy2phy_mem_load',
      'phy2phy_burst',
      'phy2phy_forwarding',
      'phy2phy_learning',
      'phy2phy_caching',
      'pvp_live_migration',
      'pvp_live_migration_idle',
    ]) {
      expect(names, n).to.include(n);
    }
    c.testcases().forEach((t, i) => {
      const s = c.forTestcase(t, i);
      expect(s.get('TRAFFIC.traffic_type'), t.name).to.be.a('string');
    });
  });
  it('every setting has a description', () => {
    const c = new Config({ validate: false });
    for (const d of c.schema.docs) expect(d.description, d.key).to.not.equal('');
  });
});
