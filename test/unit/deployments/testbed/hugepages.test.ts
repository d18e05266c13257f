import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvironmentError, UsageError } from '../../../../framework/errors.js';
import { Host } from '../../../../framework/host/host.js';
import { Journal } from '../../../../framework/host/journal.js';
import { silentLogger } from '../../../../framework/log/logger.js';
import { CleanupStack } from '../../../../framework/runner/cleanup-stack.js';
import { ensureHugepages, readHugepages } from '../../../../deployments/testbed/hugepages.js';
import { sandboxNames } from '../../../../deployments/testbed/sandbox.js';

const meminfo = (total: number, free: number) =>
  `MemTotal: 1000 kB\nHugePages_Total:     ${total}\nHugePages_Free:      ${free}\nHugePages_Rsvd:        0\nHugepagesize:       2048 kB\n`;

describe('deployments/testbed', () => {
  let dir: string;
  let host: Host;
  let cleanup: CleanupStack;
  let journal: Journal;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vsd-hp-'));
    cleanup = new CleanupStack();
    journal = new Journal('hp', join(dir, 'journal'));
    host = new Host(cleanup, journal);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads /proc/meminfo hugepage lines', () => {
    writeFileSync(join(dir, 'meminfo'), meminfo(512, 7));
    expect(readHugepages(join(dir, 'meminfo'))).to.deep.equal({ total: 512, free: 7, sizeKb: 2048 });
  });

  it('does nothing when enough pages are free', () => {
    writeFileSync(join(dir, 'meminfo'), meminfo(512, 300));
    writeFileSync(join(dir, 'nr'), '512\n');
    expect(ensureHugepages(host, 256 * 1024, silentLogger, { meminfo: join(dir, 'meminfo'), nrHugepages: join(dir, 'nr') })).to.equal(128);
    expect(cleanup.size).to.equal(0);
  });

  it('raises nr_hugepages by the deficit (journalled) and restores it only if unchanged since', async () => {
    const paths = { meminfo: join(dir, 'meminfo'), nrHugepages: join(dir, 'nr') };
    writeFileSync(paths.meminfo, meminfo(100, 28));
    writeFileSync(paths.nrHugepages, '100\n');
    // The fake meminfo never gains pages: the raise is attempted, reported, and still undone.
    expect(() => ensureHugepages(host, 256 * 1024, silentLogger, paths)).to.throw(EnvironmentError, /only 28 of 128/);
    expect(readFileSync(paths.nrHugepages, 'utf8')).to.equal('200');
    expect(Journal.read(journal.path)[0]).to.deep.include({ kind: 'sysctl', path: paths.nrHugepages, restore: '100' });
    await cleanup.unwind();
    expect(readFileSync(paths.nrHugepages, 'utf8')).to.equal('100');

    // Someone else changed the count after us: leave theirs alone.
    writeFileSync(paths.meminfo, meminfo(100, 28));
    expect(() => ensureHugepages(host, 256 * 1024, silentLogger, paths)).to.throw(EnvironmentError);
    writeFileSync(paths.nrHugepages, '1024');
    await cleanup.unwind();
    expect(readFileSync(paths.nrHugepages, 'utf8')).to.equal('1024');
  });

  it('sandbox names fit IFNAMSIZ and carry the vsd prefix', () => {
    const n = sandboxNames('ab12', 1);
    expect(n).to.deep.equal({ netns: 'vsd-ab12', switchNetns: 'vsd-ab12-sw', gen: 'vsdab12g1', sw: 'vsdab12s1' });
    expect(() => sandboxNames('x;rm', 0)).to.throw(UsageError);
  });
});
