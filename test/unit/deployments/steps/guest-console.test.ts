import { expect } from 'chai';
import { GuestConsole, commandOutcome } from '../../../../deployments/steps/guest-console.js';
import { DriverError, VsperfError } from '../../../../framework/errors.js';
import { silentLogger } from '../../../../framework/log/logger.js';
import type { GuestCommandResult, Vnf } from '../../../../framework/api/vnf.js';
import { rejection } from '../../../helpers/rejection.js';

/**
 * The step semantics over Vnf.execute, with a VNF whose commands are scripted (the channel itself is
 * tested against a real guest in test/integration/vnfs/guest-command.test.ts): ordering, when a wait
 * ends, what a failure to reach the guest does.
 */
type Script = (cmd: string, onOutput: (t: string) => void) => Promise<GuestCommandResult>;
const done = (output: string, exitCode = 0): GuestCommandResult => ({ output, exitCode, timedOut: false, truncated: false, elapsedMs: 1 });
const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function consoleFor(vnf: Vnf, object = 'VNF0'): GuestConsole {
  return new GuestConsole({ object, vnf: () => vnf, log: silentLogger, signal: new AbortController().signal, shellPrompt: 'root.*#', executeTimeoutS: 5 });
}

function consoleOf(script: Script, calls: string[] = []): GuestConsole {
  const vnf = {
    name: 'fake',
    execute: (cmd: string, o: { onOutput?: (t: string) => void }) => {
      calls.push(cmd);
      return script(cmd, o.onOutput ?? (() => undefined));
    },
  } as unknown as Vnf;
  return consoleFor(vnf);
}

describe('deployments/steps guest console: step parameters', () => {
  // Parameter checks come before anything is sent: the VNF counts what reaches its command channel.
  const calls: string[] = [];
  const con = consoleOf(() => Promise.reject(new Error('the guest was reached')), calls);

  for (const [method, args] of [
    ['wait', [null, 'soon']],
    ['execute_and_wait', ['true', -1]],
    ['execute_and_wait', ['true', 0]],
    ['execute', ['true', 'x']],
  ] as const) {
    it(`${method} ${JSON.stringify(args)}: E_STEP_PARAM naming the parameter, in one line`, async () => {
      const e = await rejection(con.call(method, args));
      expect(e).to.be.instanceOf(VsperfError);
      expect((e as VsperfError).code).to.equal('E_STEP_PARAM');
      expect(e.message).to.match(new RegExp(`^VNF0 ${method}: (timeout|delay) must be a number of seconds \\((> 0|≥ 0)\\), got `));
      expect(e.message).to.not.include('\n');
      expect(calls, 'commands sent').to.deep.equal([]);
    });
  }
});

describe('deployments/steps guest console: step semantics over Vnf.execute', () => {
  it('commands run one after the other; wait returns their output once they ended', async () => {
    const calls: string[] = [];
    let running = 0;
    const c = consoleOf(async (cmd, out) => {
      expect(++running).to.equal(1);
      await tick(20);
      out(`${cmd}\n`);
      running--;
      return done(`${cmd}\n`);
    }, calls);
    await c.call('execute', ['a']);
    await c.call('execute', ['b']);
    // `a` was still running when `b` was sent: its output comes after the flush, as on a console.
    expect(await c.call('wait', ['root.*#', 5])).to.equal('a\nb\n');
    expect(calls).to.deep.equal(['a', 'b']);
    expect(c.validate()).to.equal(true);
  });

  it('a wait that runs out of time fails with E_STEP_TIMEOUT; a prompt regex cuts the output at its match', async () => {
    const c = consoleOf(async (_cmd, out) => {
      out('x\nREADY 1\ny\n');
      await tick(200);
      return done('');
    });
    await c.call('execute', ['slow']);
    const err = await c.call('wait', [null, 0.05]).catch((e: unknown) => e);
    expect((err as VsperfError).code).to.equal('E_STEP_TIMEOUT');
    expect(await c.call('wait', ['READY \\d', 1])).to.equal('x\n');
    const missing = await c.call('wait', ['NEVER', 0.05]).catch((e: unknown) => e);
    expect((missing as Error).message).to.match(/"NEVER" did not appear/);
  });

  it('a command that could not reach the guest fails the wait after it; execute_and_wait fails at once', async () => {
    const c = consoleOf(async () => {
      throw new DriverError('fake', 'execute', 'guest command port /x: ENOENT');
    });
    await c.call('execute', ['a']);
    const err = await c.call('wait', [null, 1]).catch((e: unknown) => e);
    expect((err as VsperfError).code).to.equal('E_STEP_VNF');
    expect((err as Error).message).to.match(/"a": .*ENOENT/);
    expect(await c.call('execute_and_wait', ['b']).catch((e: unknown) => e)).to.be.instanceOf(DriverError);
  });

  it('validation is the exit status; a VNF without a command channel is named', async () => {
    const c = consoleOf(async () => done('sh: ethtool: not found\n', 127));
    expect(await c.call('execute_and_wait', ['ethtool -l eth0'])).to.equal('sh: ethtool: not found\n');
    expect(() => c.validate()).to.throw(VsperfError, /exit status 127: sh: ethtool: not found/);
    expect(commandOutcome({ ...done(''), exitCode: undefined, timedOut: true })).to.equal('timed out (killed)');
    const bare = consoleFor({ name: 'Plain' } as Vnf, 'vnf');
    expect(await bare.call('execute_and_wait', ['ls']).catch((e: unknown) => (e as Error).message)).to.match(/Plain has no command channel/);
  });
});
