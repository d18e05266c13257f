/** The QMP sequence of one migration against two scripted fake QEMUs (testbed-notes §7b order). */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QmpClient } from '../../../../vnfs/qmp/client.js';
import { diffFiles, diffPages, migrateOnce, verifyGuestRam } from '../../../../vnfs/migration/migrate.js';
import { migrationOptions } from '../../../../vnfs/migration/options.js';
import { MigrationError } from '../../../../vnfs/migration/errors.js';
import { Settings } from '../../../../framework/config/settings.js';
import { silentLogger } from '../../../../framework/log/logger.js';
import type { QemuInstanceHandle } from '../../../../vnfs/types.js';
import { FakeQmpServer, type Cmd, type FakeConn } from '../qmp/fake-server.js';

function handle(name: string, qmp: QmpClient, alive = () => true): QemuInstanceHandle {
  return {
    name,
    pid: 1,
    nics: [],
    qmp,
    get alive() {
      return alive();
    },
    logTail: () => 'tail',
    serial: () => '',
    stop: async () => undefined,
  };
}

describe('vnfs/migration migrateOnce against fake QEMUs', () => {
  const servers: FakeQmpServer[] = [];
  const clients: QmpClient[] = [];
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vsv-mig-'))));
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    for (const s of servers.splice(0)) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function pair(
    src: (cmd: Cmd, c: FakeConn) => void,
    dst: (cmd: Cmd, c: FakeConn) => void,
  ): Promise<[QmpClient, QmpClient, FakeQmpServer, FakeQmpServer]> {
    const s = new FakeQmpServer(src);
    const d = new FakeQmpServer(dst);
    servers.push(s, d);
    await s.start();
    await d.start();
    const cs = new QmpClient();
    const cd = new QmpClient();
    clients.push(cs, cd);
    await cs.connect(s.path);
    await cd.connect(d.path);
    return [cs, cd, s, d];
  }

  it('sets capabilities and parameters on both sides, migrate-incoming before migrate, polls, times STOP→RESUME', async () => {
    let polls = 0;
    let dstConn: FakeConn | undefined;
    const [cs, cd, s, d] = await pair(
      (cmd, c) => {
        if (cmd.execute === 'migrate') {
          c.reply(cmd);
          c.event('MIGRATION', { status: 'setup' }, 100, 0);
          c.event('MIGRATION', { status: 'active' }, 100, 15000);
        } else if (cmd.execute === 'query-migrate') {
          polls++;
          if (polls < 3) return c.reply(cmd, { status: 'active', ram: { transferred: 1e6, total: 3e8, remaining: 2e8 } });
          c.event('STOP', {}, 102, 802833);
          dstConn!.event('RESUME', {}, 102, 854867);
          c.reply(cmd, {
            status: 'completed',
            'total-time': 2953,
            'setup-time': 15,
            downtime: 96,
            ram: { transferred: 87490908, total: 286334976, remaining: 0, 'dirty-sync-count': 3, mbps: 238.7 },
          });
        } else c.reply(cmd);
      },
      (cmd, c) => {
        dstConn = c;
        c.reply(cmd);
      },
    );
    const opts = migrationOptions(new Settings({ MIGRATION_POLL_MS: 5 }));
    const f = await migrateOnce(handle('src', cs), handle('dst', cd), opts, dir, silentLogger);
    expect(f).to.include({ status: 'completed', totalMs: 2953, setupMs: 15, downtimeMs: 96, ramTransferredBytes: 87490908, dirtySyncCount: 3 });
    expect(f.stopResumeMs).to.be.closeTo(52.034, 1e-6);
    expect(f.timeline.map((t) => `${t.side}:${t.event}`)).to.deep.equal(['src:MIGRATION', 'src:MIGRATION', 'src:STOP', 'dst:RESUME']);
    const seq = (srv: FakeQmpServer): string[] => srv.received.map((c) => c.execute).filter((x) => x !== 'query-migrate');
    expect(seq(s)).to.deep.equal(['qmp_capabilities', 'migrate-set-capabilities', 'migrate-set-parameters', 'migrate']);
    expect(seq(d)).to.deep.equal(['qmp_capabilities', 'migrate-set-capabilities', 'migrate-set-parameters', 'migrate-incoming']);
    const caps = s.received.find((c) => c.execute === 'migrate-set-capabilities')!.arguments!.capabilities as { capability: string; state: boolean }[];
    expect(caps).to.deep.include({ capability: 'events', state: true });
    expect(caps).to.deep.include({ capability: 'return-path', state: true });
    expect(d.received.find((c) => c.execute === 'migrate-set-parameters')!.arguments).to.deep.equal({ 'downtime-limit': 10 });
    const uri = String(d.received.find((c) => c.execute === 'migrate-incoming')!.arguments!.uri);
    expect(uri).to.match(/^unix:\//);
    expect(s.received.find((c) => c.execute === 'migrate')!.arguments!.uri).to.equal(uri);
    expect(polls).to.equal(3);
  });

  it('a failed migration is a MigrationError with QEMU’s error-desc; a dead destination is named', async () => {
    const [cs, cd] = await pair(
      (cmd, c) => (cmd.execute === 'query-migrate' ? c.reply(cmd, { status: 'failed', 'error-desc': 'Unable to write to socket: Broken pipe' }) : c.reply(cmd)),
      (cmd, c) => c.reply(cmd),
    );
    let dead = false;
    const opts = migrationOptions(new Settings({ MIGRATION_POLL_MS: 5 }));
    const p = migrateOnce(
      handle('src', cs),
      handle('dst', cd, () => !dead),
      opts,
      dir,
      silentLogger,
    );
    dead = true;
    let err: unknown;
    try {
      await p;
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(MigrationError);
    expect((err as MigrationError).phase).to.equal('converge');
    expect((err as Error).message).to.match(/Broken pipe.*destination QEMU dst .* died/);
  });

  it('MIGRATION_VERIFY_RAM: waits for the paused destination, dumps both RAMs, names the differing pages, resumes it, removes the dumps', async () => {
    const size = 64 * 4096;
    const ram = (pokes: number[]): Buffer => {
      const b = Buffer.alloc(size, 0x5a);
      for (const off of pokes) b[off] = 0x00;
      return b;
    };
    let dstStatus = 'inmigrate';
    const qemu =
      (content: Buffer, status: () => string) =>
      (cmd: Cmd, c: FakeConn): void => {
        if (cmd.execute === 'query-status') return c.reply(cmd, { status: status(), running: false });
        if (cmd.execute === 'query-memory-size-summary') return c.reply(cmd, { 'base-memory': size });
        if (cmd.execute === 'pmemsave') {
          expect(cmd.arguments).to.include({ val: 0, size });
          writeFileSync(String(cmd.arguments!.filename), content);
          return c.reply(cmd);
        }
        c.reply(cmd);
      };
    // The destination missed the last writes to pages 3 and 40 (what QEMU 7.2 TCG did without the pad).
    const [cs, cd, , d] = await pair(
      qemu(ram([]), () => 'postmigrate'),
      qemu(ram([3 * 4096 + 17, 40 * 4096, 40 * 4096 + 9]), () => dstStatus),
    );
    setTimeout(() => (dstStatus = 'paused'), 50);
    const r = await verifyGuestRam(handle('src', cs), handle('dst', cd), dir, silentLogger);
    expect(r).to.deep.equal({ pages: 2, first: ['0x3000', '0x28000'], bytes: size });
    expect(d.received.map((c) => c.execute)).to.include('cont');
    expect(d.received.filter((c) => c.execute === 'query-status').length).to.be.above(1);
    expect(readdirSync(dir).filter((f) => f.startsWith('ram-'))).to.deep.equal([]);
    expect(existsSync(dir)).to.equal(true);
  });

  it('diffPages: page granularity, a sample of addresses, a length mismatch counts', () => {
    const a = Buffer.alloc(5 * 4096);
    const b = Buffer.from(a);
    expect(diffPages(a, b)).to.deep.equal({ pages: 0, first: [] });
    b[4096 * 4 + 4095] = 1;
    b[0] = 1;
    expect(diffPages(a, b)).to.deep.equal({ pages: 2, first: ['0x0', '0x4000'] });
    expect(diffPages(a, b, 4096, 1).first).to.deep.equal(['0x0']);
    expect(diffPages(a, a.subarray(0, 4096)).pages).to.equal(1);
  });

  it('diffFiles: chunked (a 2 GiB dump is more than one Buffer holds), addresses across chunks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vnfs-diff-'));
    try {
      const fa = join(dir, 'a');
      const fb = join(dir, 'b');
      const a = Buffer.alloc(6 * 4096);
      const b = Buffer.from(a);
      b[4096 * 5] = 7; // in the third 8 KiB chunk
      b[100] = 1;
      writeFileSync(fa, a);
      writeFileSync(fb, b);
      expect(diffFiles(fa, fb, 4096, 16, 8192)).to.deep.equal({ pages: 2, first: ['0x0', '0x5000'] });
      // A length mismatch counts as one more differing page; equal chunks take the fast path.
      writeFileSync(fb, a.subarray(0, 5 * 4096));
      expect(diffFiles(fa, fb, 4096, 16, 8192)).to.deep.equal({ pages: 1, first: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
