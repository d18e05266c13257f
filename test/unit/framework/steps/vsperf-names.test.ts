/**
 * What a TestSteps macro `$NAME[...]` sees, compared with VSPERF's `step_eval_param` and `S.getValue`:
 * the private `_NAMES` of VSPERF's conf files and a testcase's Parameters (not settings here, so
 * kept out of the checked settings), run-time values (TOOLS, NICS) and TEST_PARAMS reset by a step.
 */
import { expect } from 'chai';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config } from '../../../../framework/config/load.js';
import { Settings, type JsonObject } from '../../../../framework/config/settings.js';
import { expandParam, type MacroContext } from '../../../../framework/steps/macros.js';
import type { PyValue } from '../../../../framework/steps/pyvalue.js';
import { runtimeSettings, stepSetting } from '../../../../framework/runner/steps-testcase.js';
import { nicEntry } from '../../../../deployments/testbed/vsperf-nics.js';
import type { VSwitch } from '../../../../framework/api/deployment.js';

function ctx(values: Record<string, PyValue>): MacroContext {
  return { results: [], aliases: new Map(), setting: (n) => (Object.hasOwn(values, n) ? values[n] : undefined) };
}

describe('TestSteps macros as VSPERF expands them', () => {
  it('names side by side, inside quotes, with subscripts', () => {
    const c = ctx({ P: 'dpdk', N: '0', NICS: [{ device: 'vsd1s0', mac: '02:00:00:00:00:01' }] });
    expect(expandParam('set Interface $P$N rate=1', c)).to.equal('set Interface dpdk0 rate=1');
    expect(expandParam('str("$NICS[0]["device"]") != "None"', c)).to.equal('str("vsd1s0") != "None"');
    expect(expandParam("iface=$NICS[0]['device'],x", c)).to.equal('iface=vsd1s0,x');
  });

  it('each text found is replaced everywhere, in the order found (Python str.replace): $A also rewrites the start of $AB', () => {
    expect(expandParam('$A and $AB', ctx({ A: 'x' }))).to.equal('x and xB');
    expect(expandParam('$AB and $A', ctx({ A: 'x' }))).to.equal('xB and x');
    expect(expandParam('$A $A', ctx({ A: 'x' }))).to.equal('x x');
  });

  it('a name that is no setting, a missing key or index stays as written; a type error fails the step', () => {
    const c = ctx({ NICS: [], TOOLS: { 'ovs-vsctl': 'ovs-vsctl' }, S: 'abc' });
    expect(expandParam('$NOPE $NICS[0]["device"] $TOOLS["bind-tool"] $((1+2))', c)).to.equal('$NOPE $NICS[0]["device"] $TOOLS["bind-tool"] $((1+2))');
    expect(() => expandParam('$S["k"]', c)).to.throw(/TypeError/);
  });
});

describe('TestSteps: the value of a name (VSPERF S.getValue)', () => {
  const withView = (values: JsonObject, withoutEffect: JsonObject, testParams: [string, PyValue | undefined][] = []) =>
    new Settings(values, new Map(), { withoutEffect, testParams: new Map(testParams as [string, null][]) });

  it('VSPERF names without effect here are visible; a step setValue wins', () => {
    const s = withView({ VSWITCH_BRIDGE_NAME: 'br0' }, { _OVSDPDK_RATE_PORT: 'dpdk' });
    const overlay = new Map<string, PyValue>();
    expect(stepSetting('_OVSDPDK_RATE_PORT', overlay, {}, s)).to.equal('dpdk');
    expect(stepSetting('VSWITCH_BRIDGE_NAME', overlay, {}, s)).to.equal('br0');
    expect(stepSetting('_NOPE', overlay, {}, s)).to.equal(undefined);
    overlay.set('_OVSDPDK_RATE_PORT', 'x');
    expect(stepSetting('_OVSDPDK_RATE_PORT', overlay, {}, s)).to.equal('x');
  });

  it("a testcase's Parameters win over run-time values until a step resets TEST_PARAMS; then the run-time NICS show", () => {
    const nics = [{ device: 'vsd1s0' }];
    const s = withView({ WHITELIST_NICS: [] }, { NICS: [] }, [
      ['NICS', undefined],
      ['WHITELIST_NICS', ['0000:01:00.0']],
    ]);
    const overlay = new Map<string, PyValue>();
    expect(stepSetting('NICS', overlay, { NICS: nics }, s)).to.deep.equal([]);
    overlay.set('TEST_PARAMS', '');
    expect(stepSetting('NICS', overlay, { NICS: nics }, s)).to.deep.equal(nics);
    expect(stepSetting('WHITELIST_NICS', overlay, {}, s)).to.deep.equal(['0000:01:00.0']);
    overlay.set('TEST_PARAMS', { NICS: ['mine'] });
    expect(stepSetting('NICS', overlay, { NICS: nics }, s)).to.deep.equal(['mine']);
  });

  it('settings resetValue takes one name out of TEST_PARAMS (capture_p2p2p_strip_vlan_ovs); a value a step set stays', () => {
    const nics = [{ device: 'vsd1s0' }];
    const s = withView({}, { NICS: [] }, [['NICS', undefined]]);
    const overlay = new Map<string, PyValue>();
    expect(stepSetting('NICS', overlay, { NICS: nics }, s, new Set())).to.deep.equal([]);
    expect(stepSetting('NICS', overlay, { NICS: nics }, s, new Set(['NICS']))).to.deep.equal(nics);
    overlay.set('NICS', 'set');
    expect(stepSetting('NICS', overlay, { NICS: nics }, s, new Set(['NICS']))).to.equal('set');
  });

  it('TOOLS are the bare tools (the environment points them at the private instance); NICS from the deployment', () => {
    const vs = { runDir: '/tmp/vsd-ovs-x', toolArgv: (t: string) => [t], logFile: () => '/tmp/vsd-ovs-x/ovs-vswitchd.log' } as unknown as VSwitch;
    const nic = nicEntry({ kind: 'veth', iface: 'vsd1s0', io: 'af_xdp' }, { mac: '02:00:00:00:00:01' });
    const r = runtimeSettings(vs, [nic]);
    expect(r.TOOLS).to.deep.equal({ 'ovs-vsctl': 'ovs-vsctl', 'ovs-ofctl': 'ovs-ofctl', 'ovs-appctl': 'ovs-appctl', ovs_var_tmp: '/tmp/vsd-ovs-x' });
    expect(r.NICS).to.deep.equal([{ pci: '', type: 'veth', mac: '02:00:00:00:00:01', driver: 'veth', device: 'vsd1s0' }]);
    expect(expandParam('sudo $TOOLS["ovs-appctl"] -t ovs-vswitchd qos/show x', ctx(r))).to.equal('sudo ovs-appctl -t ovs-vswitchd qos/show x');
    expect(nicEntry({ kind: 'pci', pci: '0000:05:00.1', vf: 0 }, { driver: 'vfio-pci' })).to.deep.equal({
      pci: '0000:05:00.1',
      type: 'vf',
      mac: '',
      driver: 'vfio-pci',
      device: '',
    });
  });
});

describe("Config: VSPERF's private names reach the steps, not the checked settings", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vsperf-names-'));
    mkdirSync(join(dir, 'schema'));
    writeFileSync(
      join(dir, 'schema', 'a.schema.json'),
      JSON.stringify({
        properties: {
          NAME: { description: 'a name', type: 'string' },
          TEST_PARAMS: { description: 'common params', type: 'object' },
          TESTCASES: { description: 'catalogue', type: 'object' },
        },
      }),
    );
    writeFileSync(join(dir, '00_common.json'), JSON.stringify({ NAME: 'base', TEST_PARAMS: {}, _RATE_PORT: 'conf', _RATE_NICID: '0' }));
    writeFileSync(
      join(dir, '01_testcases.json'),
      JSON.stringify({ TESTCASES: { t1: { Deployment: 'clean', Parameters: { _RATE_PORT: 'tc', NAME: 'tcname' } } } }),
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("module-level names and the testcase's Parameters (which win) are in the view; the settings do not hold them", () => {
    const c = new Config({ confDir: dir });
    const s = c.forTestcase(c.testcases()[0]!, 0);
    expect(s.has('_RATE_PORT')).to.equal(false);
    expect(s.vsperf.withoutEffect).to.include({ _RATE_PORT: 'tc', _RATE_NICID: '0' });
    expect([...s.vsperf.testParams]).to.deep.equal([
      ['_RATE_PORT', 'conf'],
      ['NAME', 'base'],
    ]);
    const overlay = new Map<string, PyValue>();
    expect(stepSetting('_RATE_PORT', overlay, {}, s)).to.equal('tc');
    expect(stepSetting('NAME', overlay, {}, s)).to.equal('tcname');
    overlay.set('TEST_PARAMS', '');
    expect(stepSetting('_RATE_PORT', overlay, {}, s)).to.equal('conf');
    expect(stepSetting('NAME', overlay, {}, s)).to.equal('base');
    // A later setValue keeps the view (the traffic steps read settings through with()).
    expect(s.with({ NAME: 'x' }, 'step').vsperf.withoutEffect).to.include({ _RATE_PORT: 'tc' });
  });
});
