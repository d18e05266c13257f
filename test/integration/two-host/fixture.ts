/**
 * The two-host sandbox as the integration tests use it: a cleanup stack and journal of their own, the
 * sandbox, its hosts connected over SSH, and a release that checks nothing was left (no cleanup error,
 * an empty journal).
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Host } from '../../../framework/host/host.js';
import { Journal } from '../../../framework/host/journal.js';
import { RemoteHost } from '../../../framework/host/remote-host.js';
import { CleanupStack } from '../../../framework/runner/cleanup-stack.js';
import { createTwoHostSandbox, type TwoHostSandbox } from '../../../deployments/testbed/two-host.js';

export const STATE = '/tmp/vsperf-two-host-test';

export interface TwoHostFixture {
  readonly tag: string;
  readonly cleanup: CleanupStack;
  readonly journal: Journal;
  readonly host: Host;
  readonly sb: TwoHostSandbox;
  /** hostA, hostB, gen, each connected (its ssh master up). */
  readonly remotes: readonly [RemoteHost, RemoteHost, RemoteHost];
  /** Unwind everything; fails the test on a cleanup error or a journal entry left. */
  release(): Promise<void>;
}

/** Build the sandbox; `run` gets the fixture and is followed by its release whatever happens. */
export async function withTwoHosts(prefix: string, run: (f: TwoHostFixture) => Promise<void>, journalDir = join(STATE, 'journal')): Promise<void> {
  const f = await twoHostFixture(prefix, journalDir);
  try {
    await run(f);
  } finally {
    await f.release();
  }
}

export async function twoHostFixture(prefix: string, journalDir = join(STATE, 'journal')): Promise<TwoHostFixture> {
  const tag = randomBytes(2).toString('hex');
  const cleanup = new CleanupStack();
  const journal = new Journal(`${prefix}-${tag}`, journalDir);
  const host = new Host(cleanup, journal);
  const release = async (): Promise<void> => {
    const errors = await cleanup.unwind();
    expect(errors.map((e) => e.message)).to.deep.equal([]);
    expect(Journal.read(journal.path), 'every journal entry released').to.deep.equal([]);
    journal.close();
  };
  try {
    const sb = await createTwoHostSandbox(host, tag);
    const remotes = sb.hosts.map((t) => new RemoteHost(t, host, sb.dir)) as unknown as [RemoteHost, RemoteHost, RemoteHost];
    for (const r of remotes) await r.connect();
    return { tag, cleanup, journal, host, sb, remotes, release };
  } catch (e) {
    await cleanup.unwind();
    throw e;
  }
}
