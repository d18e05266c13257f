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
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { processesMentioning, ROOT_DIR } from './helpers.js';

const ROOT = process.cwd();
// Valid MACs (a guest bridge drops zero source MACs) and a search starting at 0.1 % of 10G line rate
// (~15 kfps) down to ~0.7 kfps steps: a TCG guest forwards 5–30 kfps here depending on the load.
const MACS = "TRAFFIC={'frame_rate':0.1,'bidir':'False','l2':{'srcmac':'02:00:00:00:00:01','dstmac':'02:00:00:00:00:02'}}";

interface Tc {
  status: string;
  error?: { message: string };
  rows: Record<string, unknown>[];
  facts: Record<string, unknown>;
  details?: { migration?: { records: Record<string, number>[]; pass: boolean; targets: Record<string, number> } };
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
  const dir = readdirSync(base).find((d) => d.startsWith('results_'));
  expect(dir, `no results dir; output:\n${out.slice(-3000)}`).to.be.a('string');
  const res = JSON.parse(readFileSync(join(base, dir!, 'results.json'), 'utf8')) as { testcases: Tc[] };
  return { tc: res.testcases[0]!, resultsDir: base, out };
}

function audit(resultsDir: string, tc: Tc): void {
  expect(processesMentioning(resultsDir), 'processes of the run left').to.deep.equal([]);
  const ns = String(tc.facts.testbed_netns ?? '');
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  if (ns) expect(list.split('\n').some((l) => l.split(' ')[0] === ns), `netns ${ns} left`).to.equal(false);
  if (ns) expect(processesMentioning(ns), 'processes in the run netns left').to.deep.equal([]);
}

describe('vnfs CI: pvp through OVS-DPDK and a real guest (vsperf CLI)', function () {
  this.timeout(15 * 60_000);

  it('vsperf pvp_tput forwards real frames through OVS-DPDK and the guest', () => {
    const { tc, resultsDir, out } = vsperf('pvp_tput', `${MACS};TRAFFICGEN_DURATION=2;TRAFFICGEN_LOSSRATE=5;TRAFFICGEN_TREX_RFC2544_TPUT_THRESHOLD=0.005`);
    expect(tc.status, `${tc.error?.message}\n${out.slice(-2000)}`).to.equal('passed');
    const row = tc.rows[0]!;
    expect(Number(row.throughput_rx_fps), JSON.stringify(row)).to.be.above(1000);
    expect(tc.facts.guest0_guest_loopback_app).to.equal('linux_bridge');
    expect(['kvm', 'tcg']).to.include(tc.facts.guest0_guest_accel);
    expect(String(tc.facts.guest0_guest_accel_reason)).to.have.length.above(3);
    audit(resultsDir, tc);
  });

  it('vsperf pvp_live_migration migrates under traffic and reports all figures; outage ≈ lost frames / rate', () => {
    // 250 fps: at 1000 fps the guest TX virtqueue broke on the first migration in 4 of 4 runs here, at
    // 100–250 fps in none of 10 migrations (docs: known QEMU 7.2 TCG + vhost-user defect).
    const rate = 250;
    // Known defect of QEMU 7.2 TCG + OVS-DPDK vhost-user here (README, "Guests, QMP and live migration"): about one migration in
    // three leaves the guest's TX virtqueue corrupted; the tool detects it (E_MIGRATION verify) and
    // reports it. Such a run is repeated (at most 5 runs); any other failure fails at once.
    let run = vsperf('pvp_live_migration', `MIGRATION_REPEAT=2;MIGRATION_TRAFFIC_FPS=${rate}`);
    for (let attempt = 1; attempt < 5 && run.tc.status !== 'passed' && /live migration failed \(verify\)/.test(run.tc.error?.message ?? ''); attempt++) {
      audit(run.resultsDir, run.tc);
      console.warn(`      (known guest corruption after migration, run ${attempt}: ${run.tc.error?.message?.slice(0, 160)}; repeating)`);
      run = vsperf('pvp_live_migration', `MIGRATION_REPEAT=2;MIGRATION_TRAFFIC_FPS=${rate}`);
    }
    const { tc, resultsDir, out } = run;
    expect(tc.status, `${tc.error?.message}\n${out.slice(-2000)}`).to.equal('passed');
    const mig = tc.details!.migration!;
    expect(mig.records).to.have.length(2);
    expect(mig.targets).to.deep.equal({ totalMs: 2000, downtimeMs: 10 });
    for (const r of mig.records) {
      for (const k of ['totalMs', 'setupMs', 'downtimeMs', 'stopResumeMs', 'dataplaneOutageMs', 'lostFrames', 'outageFromLossMs', 'ramTransferredBytes']) {
        expect(r[k], `${k} in ${JSON.stringify(r)}`).to.be.a('number');
      }
      expect(r.totalMs!).to.be.above(r.setupMs!);
      expect(r.downtimeMs!).to.be.above(0).and.below(r.totalMs!);
      expect(r.stopResumeMs!).to.be.above(0);
      expect(r.ramTransferredBytes!).to.be.above(10e6);
      // The longest gap in the received sequence loses at least that many frames at the offered rate,
      // and the lost frames are explained by the gap (not a guest that stopped forwarding).
      expect(r.dataplaneOutageMs!).to.be.above(0);
      expect(r.lostFrames!).to.be.at.least(Math.floor((r.dataplaneOutageMs! * rate) / 1000) - 2);
      expect(r.outageFromLossMs!).to.be.at.most(2 * r.dataplaneOutageMs! + 150);
    }
    // pass/fail against the targets is in every output: rows (CSV) and details.
    const ids = tc.rows.map((x) => x.id);
    expect(ids).to.include.members(['migration_1', 'migration_2', 'min', 'median', 'max']);
    for (const row of tc.rows) {
      expect(row).to.have.property('migration_pass');
      expect(row.migration_target_total_ms).to.equal(2000);
      expect(row.migration_target_downtime_ms).to.equal(10);
    }
    expect(mig.pass).to.be.a('boolean');
    audit(resultsDir, tc);
  });
});
