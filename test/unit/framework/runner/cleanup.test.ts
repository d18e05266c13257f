import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CleanupStack } from '../../../../framework/runner/cleanup-stack.js';
import { runJanitor } from '../../../../framework/host/janitor.js';
import { isAlive, waitUntil } from '../../../../framework/host/proc.js';
import { PROJECT_ROOT } from '../../../../framework/config/load.js';

describe('cleanup stack', () => {
  it('unwinds in reverse order, runs every step and collects failures', async () => {
    const order: string[] = [];
    const c = new CleanupStack();
    c.defer('a', () => void order.push('a'));
    c.defer('b', () => {
      order.push('b');
      throw new Error('b failed');
    });
    const drop = c.defer('c', () => void order.push('c'));
    c.defer('d', async () => void order.push('d'));
    drop();
    const errs = await c.unwind();
    expect(order).to.deep.equal(['d', 'b', 'a']);
    expect(errs.map((e) => e.message)).to.deep.equal(['b failed']);
    expect(c.size).to.equal(0);
  });
  it('concurrent unwinds share one pass', async () => {
    let n = 0;
    const c = new CleanupStack();
    c.defer('x', async () => {
      n++;
      await new Promise((r) => setTimeout(r, 20));
    });
    await Promise.all([c.unwind(), c.unwind()]);
    expect(n).to.equal(1);
  });
});

function startFixture(stateDir: string, dir: string): Promise<{ proc: ReturnType<typeof spawn>; pids: number[]; journal: string }> {
  const proc = spawn(process.execPath, [join(PROJECT_ROOT, 'test', 'fixtures', 'cleanup-child.mjs'), dir], {
    env: { ...process.env, VSPERF_STATE_DIR: stateDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve({ proc, ...(JSON.parse(buf.split('\n')[0]!) as { pids: number[]; journal: string }) });
    });
    proc.on('exit', (code) => reject(new Error(`fixture exited early (${code})`)));
  });
}

describe('cleanup on signals (children spawned, none left after)', function () {
  this.timeout(30_000);
  let stateDir: string;
  beforeEach(() => (stateDir = mkdtempSync(join(tmpdir(), 'vsperf-state-'))));
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  it('SIGINT unwinds: children killed, directory removed, journal gone', async () => {
    const dir = join(stateDir, 'work');
    const { proc, pids, journal } = await startFixture(stateDir, dir);
    expect(pids.every(isAlive)).to.equal(true);
    expect(existsSync(dir)).to.equal(true);
    const exited = new Promise<number | null>((r) => proc.on('exit', r));
    proc.kill('SIGINT');
    expect(await exited).to.equal(0);
    expect(await waitUntil(() => pids.every((p) => !isAlive(p)), 5000)).to.equal(true);
    expect(existsSync(dir)).to.equal(false);
    expect(existsSync(journal)).to.equal(false);
  });

  it('after SIGKILL the janitor of the next run removes what was left', async () => {
    const dir = join(stateDir, 'work');
    const { proc, pids, journal } = await startFixture(stateDir, dir);
    const exited = new Promise((r) => proc.on('exit', r));
    proc.kill('SIGKILL');
    await exited;
    // The children live in their own process groups: SIGKILL of the parent leaves them running.
    expect(pids.every(isAlive)).to.equal(true);
    expect(existsSync(journal)).to.equal(true);
    const n = await runJanitor({ dir: join(stateDir, 'journal') });
    expect(n).to.equal(4);
    expect(await waitUntil(() => pids.every((p) => !isAlive(p)), 5000)).to.equal(true);
    expect(existsSync(dir)).to.equal(false);
    expect(existsSync(journal)).to.equal(false);
  });
});
