/**
 * QMP live migration mechanics on real QEMU without NICs (`-nic none`): two instances of one guest,
 * migrate there and back, figures consistent; killing the destination mid-migration gives a clear
 * MigrationError, the source guest keeps running, and teardown leaves nothing.
 */
import { expect } from 'chai';
import { QemuVm } from '../../../vnfs/qemu/qemu-vm.js';
import { migrateOnce, ensureSourceRunning } from '../../../vnfs/migration/migrate.js';
import { migrationOptions } from '../../../vnfs/migration/options.js';
import { MigrationError } from '../../../vnfs/migration/errors.js';
import { makeCtx, releaseCtx, testLog, type TestCtx } from './helpers.js';

describe('vnfs/migration mechanics on real QEMU (no NICs)', function () {
  this.timeout(240_000);
  let ctx: TestCtx | undefined;

  afterEach(async () => {
    if (!ctx) return;
    const done = ctx;
    ctx = undefined;
    await releaseCtx(done);
  });

  it('migrates a running guest there and back with consistent figures', async () => {
    ctx = makeCtx({ GUEST_NICS_NR: [0], MIGRATION_MAX_BANDWIDTH: 4294967296, MIGRATION_DOWNTIME_LIMIT_MS: 10 });
    const vm = new QemuVm(ctx, 'vsv-mig0', false);
    await vm.start();
    await vm.waitReady(120_000);
    const opts = migrationOptions(ctx.settings);
    for (let i = 0; i < 2; i++) {
      const src = vm.current;
      const dst = await vm.startIncoming([]);
      const f = await migrateOnce(src, dst, opts, ctx.workDir, testLog);
      expect(f.status).to.equal('completed');
      expect(f.totalMs).to.be.above(0);
      expect(f.setupMs).to.be.at.least(0).and.below(f.totalMs);
      expect(f.downtimeMs).to.be.above(0).and.at.most(f.totalMs);
      expect(f.stopResumeMs)
        .to.be.above(0)
        .and.below(f.totalMs + 1000);
      expect(f.ramTransferredBytes).to.be.above(1e6);
      expect(f.timeline.map((t) => `${t.side}:${t.event}`)).to.include.members(['src:STOP', 'dst:RESUME']);
      expect((await dst.qmp.queryStatus()).status).to.equal('running');
      expect((await src.qmp.queryStatus()).status).to.equal('postmigrate');
      const old = vm.switchTo(dst);
      expect(old).to.equal(src);
      await old.stop();
      expect(old.alive).to.equal(false);
    }
    expect(vm.alive).to.equal(true);
    expect(vm.health.aborted).to.equal(false);
  });

  it('killing the destination mid-migration: MigrationError, the source keeps running, nothing left', async () => {
    // 8 MB/s for a 256 MiB guest: the migration takes long enough to kill the destination in the middle.
    ctx = makeCtx({ GUEST_NICS_NR: [0], MIGRATION_MAX_BANDWIDTH: 8_000_000, MIGRATION_TIMEOUT_S: 60 });
    const vm = new QemuVm(ctx, 'vsv-mig1', false);
    await vm.start();
    await vm.waitReady(120_000);
    const opts = migrationOptions(ctx.settings);
    const src = vm.current;
    const dst = await vm.startIncoming([]);
    const active = src.qmp.events.waitFor('MIGRATION', { match: { status: 'active' }, timeoutMs: 20_000 });
    const p = migrateOnce(src, dst, opts, ctx.workDir, testLog);
    p.catch(() => undefined);
    await active;
    await new Promise((r) => setTimeout(r, 500));
    process.kill(dst.pid, 'SIGKILL');
    let err: unknown;
    try {
      await p;
    } catch (e) {
      err = e;
    }
    expect(err, String(err)).to.be.instanceOf(MigrationError);
    expect((err as Error).message).to.match(/destination|failed/);
    // Found from the lost destination (or the source's failed status), not by running into MIGRATION_TIMEOUT_S.
    expect((err as MigrationError).phase).to.equal('converge');
    expect((err as Error).message).to.not.match(/not completed within/);
    expect(await ensureSourceRunning(src, testLog)).to.equal('running');
    expect(vm.current).to.equal(src);
    expect(vm.alive).to.equal(true);
    expect(vm.health.aborted, 'the guest did not die: only the destination').to.equal(false);
    expect(dst.alive).to.equal(false);
  });
});
