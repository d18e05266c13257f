import { expect } from 'chai';
import { ConfigError } from '../../../../framework/errors.js';
import { expandParam } from '../../../../framework/steps/macros.js';
import { runTestSteps } from '../../../../framework/steps/run-steps.js';
import { filterOutput, parseTestSteps } from '../../../../framework/steps/steps.js';
import { silentLogger } from '../../../../framework/log/logger.js';
import type { PyValue } from '../../../../framework/steps/pyvalue.js';
import type { StepObjects, StepTarget } from '../../../../framework/steps/types.js';
import { toolsTarget, settingsTarget, commandArgv } from '../../../../framework/steps/builtin-objects.js';

describe('TestSteps parsing and validation', () => {
  it('splits alias, ! and |filter, and checks #STEP references', () => {
    const [a, b] = parseTestSteps(
      [
        ['#ports', 'vswitch', 'add_phy_port', 'br0'],
        ['!tools', 'exec_shell', 'echo #STEP[ports][0]', '|(\\d+)'],
      ],
      'testcase t',
    );
    expect(a).to.include({ alias: 'ports', object: 'vswitch', method: 'add_phy_port', noCheck: false });
    expect(b).to.include({ object: 'tools', noCheck: true, filter: '(\\d+)' });
  });

  it('rejects what VSPERF rejects, with the step named', () => {
    const bad: Array<[PyValue, RegExp]> = [
      [[['#1', 'vswitch', 'add_switch', 'a']], /alias can't be an integer/],
      [
        [
          ['#x', 'log', 'info', 'a'],
          ['#x', 'log', 'info', 'b'],
        ],
        /alias x has been used already/,
      ],
      [[['vswitch', 'add_bridge', 'a']], /no method "add_bridge"/],
      [[['pdb']], /pdb/],
      [[['vswitch', 'del_port', 'br', '#STEP[0][0]']], /not run yet/],
      [
        [
          ['log', 'info', 'x'],
          ['tools', 'assert', '#STEP[-1] =='],
        ],
        /SyntaxError/,
      ],
      [[['sleep', 'x']], /whole number/],
      [[['teapot', 'brew']], /unknown step object/],
    ];
    for (const [steps, re] of bad) expect(() => parseTestSteps(steps, 'testcase t'), JSON.stringify(steps)).to.throw(ConfigError, re);
  });

  it('expands #STEP and $SETTING macros as VSPERF does (str() of the value)', () => {
    const ctx = {
      results: [['dpdk0', 1], null, { x: [7] }],
      aliases: new Map([['p', 0]]),
      setting: (n: string) => (({ NICS: [{ device: 'eth1' }], BR: 'br0' }) as Record<string, PyValue>)[n],
    };
    expect(expandParam({ in_port: '#STEP[0][1]', actions: ['output:#STEP[p][1]'] }, ctx)).to.deep.equal({ in_port: '1', actions: ['output:1'] });
    expect(expandParam('#STEP[-1]["x"][0] on $BR $NICS[0]["device"] $UNKNOWN', ctx)).to.equal('7 on br0 eth1 $UNKNOWN');
    expect(expandParam('#STEP[0]', ctx)).to.equal("['dpdk0', 1]");
  });

  it('filters output line by line like re.findall', () => {
    expect(filterOutput('available: 2 nodes\nnode 0 cpus: 0 1 2 3', 'available: ([0-9]+)')).to.deep.equal(['2']);
    expect(filterOutput('node 0 cpus: 0 1 2 3', 'node 0 cpus:.*\\s+(\\d+) (\\d+)$')).to.deep.equal([['2', '3']]);
    expect(filterOutput('Version: v18.01', '(?P<v>v\\d+)')).to.deep.equal(['v18']);
  });

  it('runs steps, validates each in integration mode, and stops at the first failure', async () => {
    const calls: string[] = [];
    const fake: StepTarget = {
      async call(m, args) {
        calls.push(`${m} ${JSON.stringify(args)}`);
        return m === 'add_phy_port' ? ['dpdk0', 1] : null;
      },
      canValidate: (m) => m !== 'dump_flows',
      async validate(m) {
        return m !== 'del_switch';
      },
    };
    const objects = {
      target: (o: string) =>
        o === 'vswitch'
          ? fake
          : o === 'tools'
            ? toolsTarget({ log: silentLogger, host: undefined as never, cwd: '/', timeoutS: 5, signal: new AbortController().signal })
            : 'no',
    };
    const steps = parseTestSteps(
      [
        ['vswitch', 'add_phy_port', 'br0'],
        ['tools', 'assert', '#STEP[-1][1] == 1'],
        ['!vswitch', 'dump_flows', 'br0'],
        ['vswitch', 'del_switch', 'br0'],
        ['vswitch', 'add_switch', 'never'],
      ],
      't',
    );
    const r = await runTestSteps({ steps, objects, check: true, log: silentLogger, signal: new AbortController().signal, setting: () => undefined });
    expect(r.ok).to.equal(false);
    expect(r.failedStep).to.equal(3);
    expect(r.details).to.match(/del_switch.*validation failed/);
    expect(calls).to.have.length(3);
    const r2 = await runTestSteps({
      steps: parseTestSteps([['vswitch', 'dump_flows', 'br0']], 't'),
      objects,
      check: true,
      log: silentLogger,
      signal: new AbortController().signal,
      setting: () => undefined,
    });
    expect(r2.ok, 'a checked step without a validation fails, as in VSPERF').to.equal(false);
    const r3 = await runTestSteps({
      steps: parseTestSteps([['tools', 'assert', '1 == 2']], 't'),
      objects,
      check: false,
      log: silentLogger,
      signal: new AbortController().signal,
      setting: () => undefined,
    });
    expect(r3.ok, 'a failing assert fails even unchecked').to.equal(false);
  });

  it('exec_shell runs an argv without a shell unless the command uses shell syntax', async () => {
    expect(commandArgv("echo 'a b' c")).to.deep.equal(['echo', 'a b', 'c']);
    expect(commandArgv('echo a | wc -l')).to.equal(undefined);
    expect(commandArgv('echo $HOME')).to.equal(undefined);
    const tools = toolsTarget({ log: silentLogger, host: undefined as never, cwd: '/', timeoutS: 5, signal: new AbortController().signal });
    expect(await tools.call('exec_shell', ['echo $((1+2)) | tr 3 x'])).to.equal('x\n');
    expect(await tools.call('exec_shell', ['echo a; echo b', '(b)'])).to.deep.equal(['b']);
    expect(await tools.call('exec_shell', ['printf "%s\\n" 12 34', '^(\\d)'])).to.deep.equal(['1', '3']);
    expect(await tools.call('exec_shell', ['no-such-binary-vsperf'])).to.equal(null);
  });

  it('as root, a leading sudo is dropped (logged once); the tool environment reaches the command; a $TOOLS key we lack is one line naming it', async () => {
    const lines: string[] = [];
    const log = { ...silentLogger, info: (m: string) => void lines.push(m) };
    const o = { log, host: undefined as never, cwd: '/', timeoutS: 5, signal: new AbortController().signal, env: { VSPERF_T: 'x1' } };
    const root = toolsTarget({ ...o, asRoot: true });
    expect(await root.call('exec_shell', ['sudo -E printenv VSPERF_T'])).to.equal('x1\n');
    expect(await root.call('exec_shell', ['sudo echo $VSPERF_T'])).to.equal('x1\n');
    expect(lines.filter((l) => /sudo/.test(l))).to.have.length(1);
    // Not root: the command is left as written (sudo runs, or is missing and says so).
    const user = toolsTarget({ ...o, asRoot: false });
    const r = await user.call('exec_shell', ['sudo-no-such-vsperf printenv VSPERF_T']);
    expect(r).to.equal(null);
    const err = await root.call('exec_shell', ['sudo $TOOLS["bind-tool"] --bind igb_uio 0000:01:00.0']).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.equal(
      "TOOLS['bind-tool'] is not available here: VSPERF's dpdk-devbind (binds a physical NIC to a DPDK driver): the sandbox has no physical NIC to bind",
    );
    const ovs = await root.call('exec_shell', ["$TOOLS['ovs-vsctl'] show"]).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(ovs).to.match(/TOOLS\['ovs-vsctl'\] is not available here: OVS is not running/);
  });

  it('an assert on a pasted command output (with its newline) fails with one line', async () => {
    const tools = toolsTarget({ log: silentLogger, host: undefined as never, cwd: '/', timeoutS: 5, signal: new AbortController().signal });
    const err = await tools.call('assert', ['int(1500\n)==9000']).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(err).to.equal('AssertionError: condition int(1500\\n)==9000 is not True');
  });

  it('a failing step with a long parameter (a Python snippet) keeps its one line short', async () => {
    const objects: StepObjects = {
      target: () => toolsTarget({ log: silentLogger, host: undefined as never, cwd: '/', timeoutS: 5, signal: new AbortController().signal }),
    };
    const code = 'import netaddr;' + 'x=1;'.repeat(100);
    const r = await runTestSteps({
      steps: parseTestSteps([['tools', 'exec_python', code]], 't'),
      objects,
      check: true,
      log: silentLogger,
      signal: new AbortController().signal,
      setting: () => undefined,
    });
    expect(r.ok).to.equal(false);
    expect(r.details).to.match(
      /^tools exec_python \['import netaddr;x=1;.{60,}…: E_STEP_UNSUPPORTED: tools exec_python: vsperf-ts runs no Python, only VSPERF.s netaddr flow-file generator .*: 101 statement\(s\) where the generator has 4$/,
    );
    expect(r.details.length).to.be.lessThan(300);
  });

  it('settings setValue/getValue/resetValue work on an overlay', async () => {
    const base: Record<string, PyValue> = { A: 1 };
    const over = new Map<string, PyValue>();
    const t = settingsTarget({ get: (n) => (over.has(n) ? over.get(n) : base[n]), set: (n, v) => void over.set(n, v), reset: (n) => void over.delete(n) });
    await t.call('setValue', ['A', [['1', '2']]]);
    expect(await t.call('getValue', ['A'])).to.deep.equal([['1', '2']]);
    expect(await t.validate!('setValue', null, ['A', [['1', '2']]])).to.equal(true);
    await t.call('resetValue', ['A']);
    expect(await t.call('getValue', ['A'])).to.equal(1);
  });
});
