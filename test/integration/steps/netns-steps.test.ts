/**
 * VSPERF's `namespace` and `veth` step objects on the real kernel: two namespaces joined by a veth
 * pair made by steps, addresses added by steps, and a ping between them (run by a `tools exec_shell`
 * step) proves the plumbing is what the steps said. Every step is validated (integration mode) against
 * what `ip` reports. What the steps created is gone after the testcase's cleanup, and after a crash
 * the janitor removes it from the journal. Bad parameters and an existing namespace fail with one line.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Settings } from '../../../framework/config/settings.js';
import { exec } from '../../../framework/host/exec.js';
import { Host } from '../../../framework/host/host.js';
import { runJanitor } from '../../../framework/host/janitor.js';
import { Journal } from '../../../framework/host/journal.js';
import { silentLogger } from '../../../framework/log/logger.js';
import { CleanupStack } from '../../../framework/runner/cleanup-stack.js';
import { runStepsTestcase } from '../../../framework/runner/steps-testcase.js';
import { systemNamespaces } from '../../../framework/steps/netns-objects.js';
import type { PyValue } from '../../../framework/steps/pyvalue.js';
import { parseTestSteps } from '../../../framework/steps/steps.js';

const tag = `t${process.pid % 100000}`;
const NS_A = `vsns-a-${tag}`;
const NS_B = `vsns-b-${tag}`;
const VA = `vsva${tag}`;
const VB = `vsvb${tag}`;

async function linkExists(name: string, netns?: string): Promise<boolean> {
  const r = await exec([...(netns ? ['ip', '-n', netns] : ['ip']), 'link', 'show', 'dev', name], { allowFail: true });
  return r.code === 0;
}

describe('TestSteps namespace and veth objects on the kernel (integration)', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'vsns-'));
  const journalDir = join(dir, 'journal');

  async function run(steps: PyValue[][], opts: { unwind?: boolean } = {}) {
    const cleanup = new CleanupStack(silentLogger);
    const journal = new Journal(`steps-${Math.random().toString(36).slice(2)}`, journalDir);
    const host = new Host(cleanup, journal, silentLogger);
    const out = await runStepsTestcase({
      steps: parseTestSteps(steps as PyValue, 'netns_test'),
      integration: true,
      settings: new Settings({ TEST_STEP_SHELL_TIMEOUT_S: 20 }),
      validateRows: () => undefined,
      log: silentLogger,
      host,
      workDir: dir,
      signal: new AbortController().signal,
    });
    if (opts.unwind !== false) {
      expect(await cleanup.unwind()).to.deep.equal([]);
      journal.close();
    }
    return { out, journal };
  }

  after(async () => {
    for (const ns of [NS_A, NS_B]) await exec(['ip', 'netns', 'del', ns], { allowFail: true });
    await exec(['ip', 'link', 'del', VA], { allowFail: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds two namespaces joined by a veth pair; a ping crosses it; every step validates; cleanup removes all', async () => {
    const { out } = await run([
      ['namespace', 'create_namespace', NS_A],
      ['namespace', 'create_namespace', NS_B],
      ['veth', 'add_veth_port', VA, VB],
      ['namespace', 'assign_port_to_namespace', VA, NS_A],
      ['namespace', 'assign_port_to_namespace', VB, NS_B, 'True'],
      ['namespace', 'add_ip_to_namespace_eth', VA, NS_A, '10.231.0.1', '24'],
      ['namespace', 'add_ip_to_namespace_eth', VB, NS_B, '10.231.0.2', 24],
      ['veth', 'bring_up_eth_port', VA, NS_A],
      ['tools', 'exec_shell', `ip netns exec ${NS_A} busybox ping -c 1 -W 5 10.231.0.2`, '|(\\d+) packets received'],
      ['tools', 'assert', '#STEP[-1][0] == 1'],
      ['namespace', 'reset_port_to_root', VA, NS_A],
    ]);
    expect(out.status, out.status.details).to.include({ ok: true });
    // The port came back to our namespace before the teardown ran.
    const ns = await systemNamespaces();
    expect(ns).to.not.include(NS_A);
    expect(ns).to.not.include(NS_B);
    expect(await linkExists(VA)).to.equal(false);
  });

  it('deletes what it made with delete_namespace and del_veth_port (validated as gone)', async () => {
    const { out } = await run([
      ['namespace', 'create_namespace', NS_A],
      ['veth', 'add_veth_port', VA, VB],
      ['veth', 'bring_up_eth_port', VA],
      ['veth', 'del_veth_port', VA, VB],
      ['namespace', 'delete_namespace', NS_A],
    ]);
    expect(out.status, out.status.details).to.include({ ok: true });
    expect(await systemNamespaces()).to.not.include(NS_A);
  });

  it('after a crash (no cleanup), the janitor removes the namespace and the veth (also one moved into a namespace)', async () => {
    const { out, journal } = await run(
      [
        ['namespace', 'create_namespace', NS_A],
        ['veth', 'add_veth_port', VA, VB],
        ['namespace', 'assign_port_to_namespace', VB, NS_A],
        ['veth', 'add_veth_port', `${VA}x`, `${VB}x`],
        ['namespace', 'assign_port_to_namespace', `${VA}x`, NS_A],
      ],
      { unwind: false },
    );
    expect(out.status, out.status.details).to.include({ ok: true });
    expect(await linkExists(VA)).to.equal(true);
    expect(existsSync(journal.path)).to.equal(true);
    expect(await runJanitor({ dir: journalDir })).to.equal(3);
    expect(await systemNamespaces()).to.not.include(NS_A);
    expect(await linkExists(VA)).to.equal(false);
  });

  it('an existing namespace, a bad name and an impossible address each fail the step with one line', async () => {
    await exec(['ip', 'netns', 'add', NS_B]);
    try {
      const { out } = await run([['namespace', 'create_namespace', NS_B]]);
      expect(out.status.details).to.equal(
        `namespace create_namespace ['${NS_B}']: E_STEP_NETNS: create_namespace: namespace ${NS_B} already exists on this host`,
      );
      // Not ours: the failed step must not have taken it over (the cleanup left it).
      expect(await systemNamespaces()).to.include(NS_B);
    } finally {
      await exec(['ip', 'netns', 'del', NS_B]);
    }
    const bad = await run([['veth', 'add_veth_port', 'a/b', 'this-name-is-too-long']]);
    expect(bad.out.status.details).to.match(/E_STEP_PARAM: add_veth_port: interface name "a\/b" is not valid/);
    const ip = await run([
      ['namespace', 'create_namespace', NS_A],
      ['veth', 'add_veth_port', VA, VB],
      ['namespace', 'assign_port_to_namespace', VA, NS_A],
      ['namespace', 'add_ip_to_namespace_eth', VA, NS_A, '10.0.0.300', '24'],
    ]);
    expect(ip.out.status).to.include({ ok: false, failedStep: 3 });
    expect(ip.out.status.details).to.match(/E_STEP_PARAM: add_ip_to_namespace_eth: "10\.0\.0\.300" is not an IPv4 or IPv6 address$/);
    const missing = await run([['veth', 'bring_up_eth_port', 'nosuchdev0']]);
    expect(missing.out.status.details).to.match(/^veth bring_up_eth_port \['nosuchdev0'\]: E_PROCESS: ip link set … exited with 1: /);
    for (const o of [bad, ip, missing]) expect(o.out.status.details).to.not.include('\n');
    expect(await systemNamespaces()).to.not.include(NS_A);
  });
});
