import { expect } from 'chai';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bestReading, clockStep, hostNowMs, parseClockReply, queryGuestClock } from '../../../../vnfs/qemu/guest-clock.js';
import { DriverError } from '../../../../framework/errors.js';
import { clockAcrossMigration } from '../../../../vnfs/migration/guest-clock.js';

describe('vnfs/qemu guest clock (query on ttyS1)', () => {
  it('parses the responder reply for its own query id only, nanoseconds kept', () => {
    expect(parseClockReply('T q7 1796606397.026906029 1\r', 'q7')).to.deep.equal({ guestMs: 1796606397000 + 26.906029, resolutionNs: 1 });
    expect(parseClockReply('T q6 1796606397.026906029 1', 'q7')).to.equal(undefined); // a late reply to an earlier query
    expect(parseClockReply('T q7 1796606397.0269 1', 'q7')).to.equal(undefined); // not 9 digits
    expect(parseClockReply('[  12.3] serial8250: too much work', 'q7')).to.equal(undefined);
  });

  it('offset = guest − midpoint of the sample with the smallest round trip; uncertainty = half of it + resolution', () => {
    const samples = [
      { t0Ms: 1000, t1Ms: 1010, guestMs: 1505, resolutionNs: 1 }, // rtt 10
      { t0Ms: 2000, t1Ms: 2001.4, guestMs: 2500.9, resolutionNs: 1_000_000 }, // rtt 1.4: kept
      { t0Ms: 3000, t1Ms: 3003, guestMs: 3501, resolutionNs: 1 },
    ];
    const r = bestReading(samples, 4)!;
    expect(r.rttMs).to.be.closeTo(1.4, 1e-9);
    expect(r.offsetMs).to.be.closeTo(2500.9 - 2000.7, 1e-9);
    expect(r.uncertaintyMs).to.be.closeTo(0.7 + 1, 1e-9);
    expect(r).to.include({ samples: 3, sent: 4 });
    expect(bestReading([])).to.equal(undefined);
  });

  it('the step across a migration is after − before, its uncertainty the sum; a missing reading is evidence, not a failure', () => {
    const before = bestReading([{ t0Ms: 0, t1Ms: 1, guestMs: 400.5, resolutionNs: 1 }])!; // offset 400, ±0.5
    const after = bestReading([{ t0Ms: 5000, t1Ms: 5002, guestMs: 5366, resolutionNs: 1 }])!; // offset 365, ±1
    const s = clockStep(before, after);
    expect(s.stepMs).to.be.closeTo(-35, 1e-9);
    expect(s.uncertaintyMs).to.be.closeTo(1.5, 1e-5);
    const c = clockAcrossMigration(before, after);
    expect(c.fields).to.deep.include({ guestClockOffsetBeforeMs: before.offsetMs, guestClockOffsetAfterMs: after.offsetMs });
    expect(c.fields.guestClockStepMs).to.be.closeTo(-35, 1e-9);
    expect(c.evidence).to.deep.equal(s);
    const miss = clockAcrossMigration(before, { error: 'no answer' });
    expect(miss.fields).to.deep.equal({ guestClockOffsetBeforeMs: before.offsetMs });
    expect(miss.evidence).to.deep.equal({ error: 'after the migration: no answer' });
  });

  it('host clock: CLOCK_REALTIME-based epoch ms with sub-millisecond resolution', () => {
    const a = hostNowMs();
    expect(Math.abs(a - Date.now())).to.be.below(50);
    expect(hostNowMs()).to.be.at.least(a);
  });
});

describe('vnfs/qemu guest clock: the query over a Unix socket', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'gclock-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A peer on the socket: `answer` maps each query id to the lines it sends back. */
  function peer(path: string, answer: (id: string) => string[]): Promise<Server> {
    const srv = createServer((sock) => {
      let buf = '';
      sock.on('data', (d) => {
        buf += d.toString();
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const id = buf.slice(0, i);
          buf = buf.slice(i + 1);
          for (const l of answer(id)) sock.write(`${l}\n`);
        }
      });
    });
    return new Promise((resolve) => srv.listen(path, () => resolve(srv)));
  }

  it('skips noise and late replies to earlier queries; keeps the fastest exchange', async () => {
    const path = join(dir, 'ok.sock');
    let prev = '';
    const srv = await peer(path, (id) => {
      const now = (performance.timeOrigin + performance.now() + 250) / 1000; // a guest 250 ms ahead
      const out = [
        ...(prev ? [`T ${prev} 1.000000000 1`] : []),
        'line noise',
        `T ${id} ${Math.floor(now)}.${String(Math.round((now % 1) * 1e9)).padStart(9, '0')} 1`,
      ];
      prev = id;
      return out;
    });
    try {
      const r = await queryGuestClock(path, { samples: 4 });
      expect(r).to.include({ samples: 4, sent: 4 });
      expect(r.offsetMs).to.be.closeTo(250, r.uncertaintyMs + 1);
    } finally {
      srv.close();
    }
  });

  it('a guest that answers nothing (image without vsperf-clockd) or no socket is a one-line DriverError', async () => {
    const path = join(dir, 'mute.sock');
    const srv = await peer(path, () => []);
    try {
      const e = await queryGuestClock(path, { samples: 8, replyTimeoutMs: 50 }).catch((x: unknown) => x);
      expect(e).to.be.instanceOf(DriverError);
      expect((e as Error).message, 'two unanswered queries end the reading').to.match(/answered none of 2 time queries/);
    } finally {
      srv.close();
    }
    // A port that chatters without ever answering: each query still gives up after its reply timeout.
    const noisy = join(dir, 'noisy.sock');
    const chatter = createServer((sock) => {
      const t = setInterval(() => sock.write('line noise\n'), 5);
      sock.on('close', () => clearInterval(t));
      sock.on('error', () => clearInterval(t));
    });
    await new Promise<void>((resolve) => chatter.listen(noisy, resolve));
    try {
      const n = await queryGuestClock(noisy, { samples: 8, replyTimeoutMs: 50 }).catch((x: unknown) => x);
      expect((n as Error).message).to.match(/answered none of 2 time queries/);
    } finally {
      chatter.close();
    }
    const e = await queryGuestClock(join(dir, 'absent.sock')).catch((x: unknown) => x);
    expect((e as Error).message).to.match(/^QemuDpdkVhostUser clock: guest clock port: .*ENOENT/);
  });
});
