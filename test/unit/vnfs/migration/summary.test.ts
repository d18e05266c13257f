import { expect } from 'chai';
import { checkTargets, median, summarize, type MigrationRecord } from '../../../../vnfs/migration/summary.js';
import { migrationOptions } from '../../../../vnfs/migration/options.js';
import { badSourceMac } from '../../../../vnfs/migration/methodology.js';
import { Settings } from '../../../../framework/config/settings.js';
import { ConfigError } from '../../../../framework/errors.js';
import { migrationRows } from '../../../../vnfs/migration/rows.js';

const rec = (i: number, total: number, down: number, outage: number): MigrationRecord => ({
  index: i,
  direction: 'A→B',
  totalMs: total,
  setupMs: 10,
  downtimeMs: down,
  stopResumeMs: down / 2,
  dataplaneOutageMs: outage,
  lostFrames: outage,
  outageFromLossMs: outage,
  ramTransferredBytes: 88e6,
  wallMs: total + 20,
  pass: false,
  failed: [],
});

describe('vnfs/migration summary, targets and options', () => {
  it('min/median/max over the repeats', () => {
    const s = summarize([rec(1, 2953, 96, 73), rec(2, 3218, 128, 134), rec(3, 2710, 148, 160)]);
    expect(s.totalMs).to.deep.equal({ min: 2710, median: 2953, max: 3218 });
    expect(s.dataplaneOutageMs).to.deep.equal({ min: 73, median: 134, max: 160 });
    expect(median([4, 1, 3, 2])).to.equal(2.5);
  });

  it('rows: guest clock columns, each migration its own verdict, min/median/max the worst', () => {
    const recs = [
      { ...rec(1, 900, 30, 40), guestClockOffsetBeforeMs: 22.608, guestClockOffsetAfterMs: -6.197, guestClockStepMs: -28.805, guestClockUncertaintyMs: 1.217 },
      rec(2, 950, 31, 41),
    ];
    const verdicts = [
      { validity: 'questionable' as const, reasons: ['guest-clock'], details: [] },
      { validity: 'valid' as const, reasons: [], details: [] },
    ];
    const rows = migrationRows(recs, summarize(recs), migrationOptions(new Settings({})), 64, verdicts);
    expect(rows[0]).to.include({
      guest_clock_step_ms: -28.805,
      guest_clock_uncertainty_ms: 1.217,
      guest_clock_offset_before_ms: 22.608,
      validity: 'questionable',
    });
    expect(rows[0]!.validity_reasons).to.equal('guest-clock');
    expect(rows[1]).to.include({ validity: 'valid', validity_reasons: '' });
    expect(rows[1]).to.not.have.property('guest_clock_step_ms');
    expect(rows.slice(2).map((r) => [r.id, r.validity, r.validity_reasons])).to.deep.equal([
      ['min', 'questionable', 'guest-clock'],
      ['median', 'questionable', 'guest-clock'],
      ['max', 'questionable', 'guest-clock'],
    ]);
  });

  it('pass/fail against the seed targets (2 s total, 10 ms downtime, also for the data-plane outage)', () => {
    const t = { totalMs: 2000, downtimeMs: 10 };
    expect(checkTargets({ totalMs: 654, downtimeMs: 5, dataplaneOutageMs: 8 }, t)).to.deep.equal([]);
    expect(checkTargets({ totalMs: 2271, downtimeMs: 26 }, t)).to.deep.equal(['total 2271 ms > 2000 ms', 'downtime 26 ms > 10 ms']);
    expect(checkTargets({ totalMs: 1000, downtimeMs: 9, dataplaneOutageMs: 73 }, t)).to.deep.equal(['data-plane outage 73 ms > 10 ms']);
  });

  it('options: defaults, idle mode from MIGRATION_PROBE_FPS, events/return-path always on, bad input named', () => {
    const o = migrationOptions(new Settings({}));
    expect(o.capabilities).to.deep.equal({ events: true, 'return-path': true });
    expect(o.parameters).to.deep.equal({ 'downtime-limit': 10 });
    expect(o).to.include({ mode: 'traffic', rateFps: 1000, repeat: 3, targetTotalMs: 2000, targetDowntimeMs: 10, bidir: false, verifyRam: false });
    expect(migrationOptions(new Settings({ MIGRATION_VERIFY_RAM: true })).verifyRam).to.equal(true);
    const idle = migrationOptions(
      new Settings({ MIGRATION_PROBE_FPS: 500, MIGRATION_MAX_BANDWIDTH: 1e9, MIGRATION_CAPABILITIES: { xbzrle: true, events: false } }),
    );
    expect(idle).to.include({ mode: 'idle', rateFps: 500 });
    expect(idle.parameters).to.deep.equal({ 'downtime-limit': 10, 'max-bandwidth': 1e9 });
    expect(idle.capabilities).to.deep.equal({ events: true, 'return-path': true, xbzrle: true });
    expect(() => migrationOptions(new Settings({ MIGRATION_CAPABILITIES: { 'warp-speed': true } }))).to.throw(
      ConfigError,
      /MIGRATION_CAPABILITIES\.warp-speed/,
    );
    expect(() => migrationOptions(new Settings({ MIGRATION_TRANSPORT: 'rdma' }))).to.throw(ConfigError, /MIGRATION_TRANSPORT/);
  });

  it('MACs a guest bridge drops as source', () => {
    expect(badSourceMac('00:00:00:00:00:00')).to.equal(true);
    expect(badSourceMac('01:00:5e:00:00:01')).to.equal(true);
    expect(badSourceMac('02:00:00:00:00:01')).to.equal(false);
  });
});
