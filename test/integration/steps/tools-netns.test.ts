/**
 * `tools exec_shell` in the switch's namespace (the sandbox runs VSPERF's shell steps there, through
 * `ip netns exec`), on a real namespace: a command that does not exist gives VSPERF's None, not a failed
 * step, as it does when run on this host; a command that ran is handed, as run, to the switch's settle
 * hook (OVS-DPDK applies an mtu_request after ovs-vsctl returns).
 */
import { expect } from 'chai';
import { exec } from '../../../framework/host/exec.js';
import { silentLogger } from '../../../framework/log/logger.js';
import { toolsTarget } from '../../../framework/steps/builtin-objects.js';

const NS = `vstools-${process.pid % 100000}`;

describe('tools exec_shell inside a network namespace (integration)', function () {
  this.timeout(30_000);
  before(async () => {
    await exec(['ip', 'netns', 'add', NS]);
  });
  after(async () => {
    await exec(['ip', 'netns', 'del', NS], { allowFail: true });
  });

  it('gives None for a command that does not exist, runs the others there and hands their argv to settle', async () => {
    const settled: (readonly string[])[] = [];
    const tools = toolsTarget({
      log: silentLogger,
      host: undefined as never,
      cwd: '/',
      timeoutS: 10,
      signal: new AbortController().signal,
      netns: NS,
      settle: async (argv) => {
        settled.push(argv);
      },
    });
    expect(await tools.call('exec_shell', ['no-such-command-vsperf --x'])).to.equal(null);
    // The loopback of a fresh namespace is down: proves the command ran inside it, not here.
    const out = String(await tools.call('exec_shell', ['ip -o link show lo']));
    expect(out).to.match(/\blo:.*state DOWN/);
    expect(settled).to.deep.equal([['ip', 'netns', 'exec', NS, 'ip', '-o', 'link', 'show', 'lo']]);
    // A command that exists and fails still fails the step.
    let err: unknown;
    await tools.call('exec_shell', ['false']).catch((e: unknown) => (err = e));
    expect(String(err)).to.match(/E_PROCESS|exited with 1/);
  });
});
