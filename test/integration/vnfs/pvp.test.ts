/**
 * CI: the real stack through the CLI — OVS-DPDK sandbox (deployments), Software generator (af_xdp),
 * a TCG/KVM guest of the built-in image forwarding with linux_bridge:
 *  - `vsperf pvp_tput` forwards real frames through OVS-DPDK and the guest;
 *  - `vsperf pvp_live_migration` migrates the guest under traffic and reports every figure, with the
 *    data-plane outage consistent with the lost frames at the offered rate.
 * Each run ends with a leftover audit (no process, netns of the run).
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { processesMentioning, ROOT_DIR } from './helpers.js';
import { needsTcgPad } from '../../../vnfs/qemu/config.js';
import { framesOfRun, longestSilence, readTrailers } from '../software/pcap.js';
import { expectFigures, readRunResults, vsperfCapturing } from '../vsperf-run.js';

const ROOT = process.cwd();
// Valid MACs (a guest bridge drops zero source MACs) and a search starting at 0.1 % of 10G line rate
// (~15 kfps) down to ~0.7 kfps steps: a TCG guest forwards 5–30 kfps here depending on the load.
const MACS = "TRAFFIC={'frame_rate':0.1,'bidir':'False','l2':{'srcmac':'02:00:00:00:00:01','dstmac':'02:00:00:00:00:02'}}";

interface Tc {
  status: string;
  error?: { message: string };
  rows: Record<string, unknown>[];
  facts: Record<string, unknown>;
  details?: { migration?: { records: Record<string, number>[]; pass: boolean; targets: Record<string, number>; receivers: Record<string, number>[] } };
  trials: { result: { txFrames: number; info?: Record<string, number> } }[];
}

function vsperf(testcase: string, params: string): { tc: Tc; resultsDir: string; out: string } {
  const base = join(ROOT_DIR, `ci-${testcase}-${process.pid}`);
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'vsperf.js'), testcase, '--results-dir', base, '--test-params', params], {
    cwd: ROOT,
    env: { ...process.env, VSPERF_STATE_DIR: join(ROOT_DIR, 'ci-state') },
    encoding: 'utf8',
    timeout: 12 * 60_000,
  });
  const out = `${r.stdout}\n${r.stderr}`;
  const res = readRunResults<{ testcases: Tc[] }>(base);
  expect(res, `no results dir; output:\n${out.slice(-3000)}`).to.not.equal(undefined);
  return { tc: res!.testcases[0]!, resultsDir: base, out };
}

/** vsperf with tcpdump capturing the generator's receiving port from the moment the sandbox exists: the independent observer. */
async function vsperfCaptured(testcase: string, params: string, pcap: string): Promise<{ tc: Tc; resultsDir: string; out: string; tcpdumpErr: string }> {
  const base = join(ROOT_DIR, `ci-${testcase}-${process.pid}`);
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  const run = await vsperfCapturing<{ testcases: Tc[] }>({
    root: ROOT,
    args: [testcase, '--test-params', params],
    resultsDir: base,
    stateDir: join(ROOT_DIR, 'ci-state'),
    pcap,
  });
  expect(run.results, `no results dir; output:\n${run.out.slice(-3000)}`).to.not.equal(undefined);
  return { tc: run.results!.testcases[0]!, resultsDir: base, out: run.out, tcpdumpErr: run.tcpdumpErr };
}

function audit(resultsDir: string, tc: Tc): void {
  expect(processesMentioning(resultsDir), 'processes of the run left').to.deep.equal([]);
  const ns = String(tc.facts.testbed_netns ?? '');
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  if (ns)
    expect(
      list.split('\n').some((l) => l.split(' ')[0] === ns),
      `netns ${ns} left`,
    ).to.equal(false);
  if (ns) expect(processesMentioning(ns), 'processes in the run netns left').to.deep.equal([]);
}

describe('vnfs CI: pvp through OVS-DPDK and a real guest (vsperf CLI)', function () {
  this.timeout(15 * 60_000);

  it('vsperf pvp_tput forwards real frames through OVS-DPDK and the guest', () => {
    const { tc, resultsDir, out } = vsperf('pvp_tput', `${MACS};TRAFFICGEN_DURATION=2;TRAFFICGEN_LOSSRATE=5;TRAFFICGEN_TREX_RFC2544_TPUT_THRESHOLD=0.005`);
    expect(tc.status, `${tc.error?.message}\n${out.slice(-2000)}`).to.equal('passed');
    const row = tc.rows[0]!;
    expect(Number(row.throughput_rx_fps), JSON.stringify(row)).to.be.above(1000);
    expect(tc.facts.guest0_guest_loopback_app).to.equal('testpmd'); // the default, as in VSPERF
    // The TCG RAM pad (256 MiB + 64 KiB) only applies to QEMU < 9.0, which lacks the dirty-tracking fix.
    if (tc.facts.guest0_guest_accel === 'tcg') expect(tc.facts.guest0_guest_ram_size).to.equal(needsTcgPad('qemu-system-x86_64') ? '262208K' : '256M');
    expect(['kvm', 'tcg']).to.include(tc.facts.guest0_guest_accel);
    expect(String(tc.facts.guest0_guest_accel_reason)).to.have.length.above(3);
    audit(resultsDir, tc);
  });

  it('vsperf pvp_live_migration_idle migrates a guest running DPDK testpmd (a polling guest), which forwards on the destination', () => {
    const { tc, resultsDir, out } = vsperf('pvp_live_migration_idle', "MIGRATION_REPEAT=1;GUEST_LOOPBACK=['testpmd']");
    expect(tc.status, `${tc.error?.message}\n${out.slice(-2000)}`).to.equal('passed');
    expect(out).to.match(/VSPERF-READY app=testpmd/);
    const [r] = tc.details!.migration!.records;
    expect(r!.downtimeMs!).to.be.above(0).and.below(r!.totalMs!);
    // The probe runs seconds past the switch-over: a guest that stopped forwarding on the destination
    // would lose all of that, not the few frames of the outage.
    const tx = tc.trials[0]!.result.txFrames;
    expect(tx).to.be.above(2000);
    expect(r!.lostFrames!, `lost of ${tx}`).to.be.below(tx / 4);
    expect(r!.outageFromLossMs!).to.be.at.most(r!.dataplaneOutageMs! + 150);
    audit(resultsDir, tc);
  });

  it('vsperf pvp_live_migration migrates under traffic and reports all figures; receive silence and lost frames agree with tcpdump; the guest clock is read across each migration', async () => {
    // 1000 fps (MIGRATION_TRAFFIC_FPS default). QEMU 7.2 under TCG lost guest writes during migration
    // (the migrated guest broke in ~1 of 4 migrations at this rate: "output.0:id N is not a head!",
    // oopses) until GUEST_TCG_RAM_PAD_KB (default 64) made the RAM size other than a multiple of 256 KiB;
    // docs/migration.md, "Guests, QMP and live migration". A relapse fails here as E_MIGRATION (verify): no retry.
    const rate = 1000;
    const pcap = join(ROOT_DIR, `ci-migration-${process.pid}.pcap`);
    const run = await vsperfCaptured('pvp_live_migration', `MIGRATION_REPEAT=2;MIGRATION_TRAFFIC_FPS=${rate}`, pcap);
    const { tc, resultsDir, out } = run;
    expect(tc.status, `${tc.error?.message}\n${out.slice(-2000)}`).to.equal('passed');
    const mig = tc.details!.migration!;
    expect(mig.records).to.have.length(2);
    expect(mig.targets).to.deep.equal({ totalMs: 2000, downtimeMs: 10 });
    for (const r of mig.records) {
      expectFigures(r, [
        'totalMs',
        'setupMs',
        'downtimeMs',
        'stopResumeMs',
        'dataplaneOutageMs',
        'seqGapMs',
        'rxGapMs',
        'migrationMaxLatencyMs',
        'delayedFrames',
        'lostFrames',
        'outageFromLossMs',
        'ramTransferredBytes',
      ]);
      expect(r.totalMs!).to.be.above(r.setupMs!);
      expect(r.downtimeMs!).to.be.above(0).and.below(r.totalMs!);
      expect(r.stopResumeMs!).to.be.above(0);
      expect(r.ramTransferredBytes!).to.be.above(10e6);
      // The longest gap in the received sequence loses at least that many frames at the offered rate,
      // and the lost frames are explained by the gap (not a guest that stopped forwarding). A gap of 0
      // happens (no frame lost: the frames of the switch-over were delayed, not dropped; README).
      expect(r.seqGapMs!).to.be.at.least(0);
      expect(r.lostFrames!).to.be.at.least(Math.floor((r.seqGapMs! * rate) / 1000) - 2);
      expect(r.outageFromLossMs!).to.be.at.most(2 * r.seqGapMs! + 150);
      // The outage is the longest time the receiver got nothing new: never shorter than either measure.
      expect(r.dataplaneOutageMs!).to.be.at.least(Math.max(r.seqGapMs!, r.rxGapMs!) - 1e-6);
      expect(['loss', 'delay', 'both', 'none']).to.include((r as unknown as Record<string, string>).outageKind);
    }
    // pass/fail against the targets is in every output: rows (CSV) and details.
    const ids = tc.rows.map((x) => x.id);
    expect(ids).to.include.members(['migration_1', 'migration_2', 'min', 'median', 'max']);
    for (const row of tc.rows) {
      expect(row).to.have.property('migration_pass');
      expect(['valid', 'questionable', 'invalid']).to.include(row.validity);
      expect(row).to.have.property('validity_reasons');
      expect(row.migration_target_total_ms).to.equal(2000);
      expect(row.migration_target_downtime_ms).to.equal(10);
    }
    expect(mig.pass).to.be.a('boolean');
    // The guest clock, queried on ttyS1 on the source before and on the destination after each migration.
    mig.records.forEach((r, i) => {
      const row = tc.rows.find((x) => x.id === `migration_${i + 1}`)!;
      expectFigures(r, ['guestClockOffsetBeforeMs', 'guestClockOffsetAfterMs', 'guestClockStepMs', 'guestClockUncertaintyMs']);
      expect(r.guestClockStepMs!).to.be.closeTo(r.guestClockOffsetAfterMs! - r.guestClockOffsetBeforeMs!, 2e-3);
      // The destination's clock is read once the traffic window is over: a query inside it ran the guest's
      // serial driver and clock daemon in the outage being measured.
      expect(r.guestClockAfterAtMs!, 'destination clock read after the traffic stopped').to.be.at.least(mig.receivers[i]!.trafficStopEpochMs!);
      // A real exchange: a round trip longer than 0 and shorter than the 500 ms reply timeout on each side.
      expect(r.guestClockUncertaintyMs!).to.be.above(0).and.below(500);
      // Seeded from the emulated RTC at boot (whole seconds): within a few seconds of the host's clock.
      expect(Math.abs(r.guestClockOffsetBeforeMs!)).to.be.below(5000);
      // Consistent across QEMU instances: the destination of migration i is the source of migration i + 1,
      // seconds apart; its clock drifts (TCG) but does not jump in between.
      const next = mig.records[i + 1];
      if (next)
        expect(Math.abs(next.guestClockOffsetBeforeMs! - r.guestClockOffsetAfterMs!), 'offset after i vs before i+1').to.be.below(
          r.guestClockUncertaintyMs! + next.guestClockUncertaintyMs! + 5,
        );
      expect(row.guest_clock_step_ms).to.equal(r.guestClockStepMs);
      // An independent observer of the step: under TCG the guest's time base (QEMU's virtual clock) stands
      // still while the VM is stopped, so the guest comes back late by at least STOP(src)→RESUME(dst), QEMU's
      // own event timestamps on the host clock (measured: 3–37 ms more, at load 4–17).
      expect(-r.guestClockStepMs!, 'guest clock lag vs STOP→RESUME').to.be.at.least(r.stopResumeMs! - r.guestClockUncertaintyMs! - 1);
      expect(-r.guestClockStepMs!, 'guest clock lag vs STOP→RESUME').to.be.at.most(r.stopResumeMs! + 250);
      // The verdict follows the measured step and uncertainty against guest_clock_ms (1 ms by default).
      const flagged = Math.abs(r.guestClockStepMs!) > 1 || r.guestClockUncertaintyMs! > 1;
      expect(String(row.validity_reasons).split(';').includes('guest-clock'), `${row.validity_reasons}`).to.equal(flagged);
      if (flagged) expect(row.validity).to.not.equal('valid');
    });
    // The independent observer: tcpdump on the receiving port, trailers decoded here. Per migration (one
    // engine run = one trailer tag): the longest silence inside the migration window within 2 ms of
    // rx_gap_ms, and the frames sent minus the distinct sequence numbers seen = migration_lost_frames.
    expect(run.tcpdumpErr, 'tcpdump dropped nothing').to.match(/\b0 packets dropped by kernel/);
    const frames = readTrailers(pcap);
    mig.records.forEach((r, i) => {
      const w = mig.receivers[i]!;
      const after = i > 0 ? mig.receivers[i - 1]!.trafficStopEpochMs! + 1000 : 0;
      const mine = framesOfRun(frames, w.runTag!, after, w.trafficStopEpochMs! + 1000);
      const { gapMs: gap, endMs: gapEnd } = longestSilence(mine, w.startEpochMs!, w.trafficStopEpochMs!);
      const tx = tc.trials[i]!.result.txFrames;
      expect(Math.abs(r.rxGapMs! - gap), `migration ${i + 1}: rx_gap_ms ${r.rxGapMs} vs capture ${gap.toFixed(3)} ms`).to.be.at.most(2);
      // The breakdown's last part, from the capture: the silence's end − the destination's RESUME (QMP, same clock).
      const resumeToTraffic = gapEnd - (w.startEpochMs! + w.resumeMs!);
      expect(Math.abs(r.resumeToTrafficMs! - resumeToTraffic), `migration ${i + 1}: resume_to_traffic_ms vs capture`).to.be.at.most(2);
      expect(r.lostFrames, `migration ${i + 1}: lost frames vs capture`).to.equal(tx - new Set(mine.map((f) => f.seq)).size);
    });
    rmSync(pcap, { force: true });
    audit(resultsDir, tc);
  });
});
