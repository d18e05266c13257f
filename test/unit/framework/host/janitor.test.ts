import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runJanitor } from '../../../../framework/host/janitor.js';
import { Journal } from '../../../../framework/host/journal.js';

describe('janitor and journal: what could not be released is not forgotten', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vsperf-janitor-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('the janitor releases what it can and keeps the rest in the journal, with the route to its host', async () => {
    const j = new Journal('crashed', join(dir, 'journal'));
    const leftover = join(dir, 'leftover');
    mkdirSync(leftover);
    // hostB's route points where nothing listens: its process cannot be released now.
    j.add({ kind: 'ssh', id: 'ssh-1', name: 'hostB', address: '127.0.0.1', port: 1, user: 'root', keyFile: '/nonexistent', knownHosts: '/nonexistent' });
    j.add({ kind: 'dir', id: 'dir-1', path: leftover });
    j.add({ kind: 'process', id: 'proc-1', pid: 4242, startTicks: 1, argv0: 'qemu-system-x86_64', host: 'hostB' });
    // A resource on a host the journal has no route to: not releasable either.
    j.add({ kind: 'dir', id: 'dir-2', path: '/tmp/x', host: 'hostC' });
    expect(await runJanitor({ dir: join(dir, 'journal') })).to.equal(2);
    expect(existsSync(leftover)).to.equal(false);
    expect(Journal.read(j.path).map((e) => e.id)).to.deep.equal(['ssh-1', 'proc-1', 'dir-2']);
  });

  it('a journal is removed at the end of a run only when nothing is left in it', () => {
    const j = new Journal('run', join(dir, 'journal'));
    j.add({ kind: 'dir', id: 'dir-1', path: '/tmp/a' });
    j.close();
    expect(existsSync(j.path), 'a failed release stays for the janitor').to.equal(true);
    j.remove('dir-1');
    j.close();
    expect(existsSync(j.path)).to.equal(false);
  });
});
