import { expect } from 'chai';
import { GuestConsole } from '../../../../deployments/steps/guest-console.js';
import { VsperfError } from '../../../../framework/errors.js';
import { silentLogger } from '../../../../framework/log/logger.js';
import type { Vnf } from '../../../../framework/api/vnf.js';
import { rejection } from '../../../helpers/rejection.js';

describe('deployments/steps guest console: step parameters', () => {
  // Parameter checks come before anything is sent: the VNF counts what reaches its command channel.
  let sent = 0;
  const vnf = {
    name: 'NoGuest',
    execute: () => {
      sent++;
      return Promise.reject(new Error('the guest was reached'));
    },
  } as unknown as Vnf;
  const con = new GuestConsole({
    object: 'VNF0',
    vnf: () => vnf,
    log: silentLogger,
    signal: new AbortController().signal,
    shellPrompt: 'root.*#',
    executeTimeoutS: 5,
  });

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
      expect(sent, 'commands sent').to.equal(0);
    });
  }
});
