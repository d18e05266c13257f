/**
 * CI: the Software generator on the two-host sandbox's generator host, reached over SSH as a real one
 * is (SANDBOX_GENERATOR=ssh): vsperf starts vsperf-tgshim there, forwards its loopback port through the
 * SSH connection and runs a pvp continuous testcase through it.
 * Independent observer: the fabric's veth counters on this machine's side (the bridge ports facing the
 * generator host's fab0 and fab1), read by the test while vsperf runs: what the generator says it sent
 * and received must be what the fabric saw leave and reach the generator host.
 * Then a run is killed with SIGKILL in the middle of its trial: the janitor must leave nothing on the
 * generator host (no process in its network namespace, the shim's directory gone).
 * Last, pvp_live_migration_peer with that remote generator: the receiver timeline and the mark cross the
 * shim (tgshim.v1.3), so every migration row has rx_gap_ms; its independent check is the loss counted
 * from sequence numbers (lost / rate), which the silence must agree with.
 */
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runJanitor } from '../../../framework/host/janitor.js';
import { API_MINOR } from '../../../trafficgen/grpc/convert.js';
import { expectFigures } from '../vsperf-run.js';

const ROOT = process.cwd();
const BASE = '/tmp/vsperf-two-host-test/remote-gen';
const STATE = join(BASE, 'state');
const ENV = { ...process.env, VSPERF_STATE_DIR: STATE };

function conf(durationS: number): string {
  const path = join(BASE, `conf-${durationS}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      TESTCASES: {
        pvp_peer_cont: {
          Deployment: 'pvp_peer',
          Description: 'pvp on the two-host sandbox, its generator on the generator host over SSH',
          Parameters: {
            SANDBOX_GENERATOR: 'ssh',
            TRAFFICGEN_DURATION: durationS,
            // No calibration traffic: every frame on the fabric is the trial's (this reaches the remote
            // generator only through the settings vsperf hands the shim).
            TRAFFICGEN_SOFTWARE_CALIBRATE_S: 0,
            TRAFFIC: {
              traffic_type: 'rfc2544_continuous',
              frame_rate: 0.1,
              bidir: 'False',
              learning_frames: false,
              l2: { framesize: 64, srcmac: '02:00:00:00:00:01', dstmac: '52:54:00:00:00:00' },
            },
          },
        },
      },
    }),
  );
  return path;
}

function counter(iface: string, which: 'rx_packets' | 'tx_packets'): number | undefined {
  try {
    return Number(readFileSync(`/sys/class/net/${iface}/statistics/${which}`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Network-namespace inode of a process, or undefined when it is gone. */
function netnsOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

/** Processes (not zombies) whose network namespace is `ns` (`net:[inode]`). */
function processesIn(ns: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue;
      if (readlinkSync(`/proc/${d}/ns/net`) === ns) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

interface Watch {
  readonly child: ChildProcess;
  out: string;
  tag?: string;
  /** The generator host's namespace (`net:[inode]`) and the shim's pid, read while it runs. */
  genNs?: string;
  shimPid?: number;
  shimNs?: string;
  /** Fabric counters: first and last readings of the generator host's two bridge ports. */
  first?: { tx: number; rx: number };
  last?: { tx: number; rx: number };
}

/** Start vsperf and watch it: the sandbox tag, the shim's pid and namespace, the fabric counters every 100 ms. */
function start(confFile: string, results: string): Watch {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'vsperf.js'), '--conf-file', confFile, 'pvp_peer_cont', '--results-dir', results], {
    cwd: ROOT,
    env: ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const w: Watch = { child, out: '' };
  const onData = (d: Buffer): void => {
    w.out += d.toString();
    w.tag ??= /fabric bridge vs2([0-9a-f]+)f/.exec(w.out)?.[1];
    const m = /vsperf-tgshim on gen \(pid (\d+)\) listens/.exec(w.out);
    if (m && w.shimPid === undefined) {
      w.shimPid = Number(m[1]);
      w.shimNs = netnsOf(w.shimPid);
    }
    if (w.tag && !w.genNs) {
      try {
        w.genNs = `net:[${statSync(`/run/netns/vs2-${w.tag}-g`).ino}]`;
      } catch {
        /* not yet */
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const poll = setInterval(() => {
    if (!w.tag) return;
    // This machine's side of the generator host's fab0 (it sends) and fab1 (it receives).
    const rx = counter(`vs2${w.tag}fg`, 'rx_packets');
    const tx = counter(`vs2${w.tag}fg1`, 'tx_packets');
    if (rx === undefined || tx === undefined) return;
    w.first ??= { tx, rx };
    w.last = { tx, rx };
  }, 100);
  child.once('exit', () => clearInterval(poll));
  return w;
}

describe('the Software generator on the generator host, over SSH (two-host sandbox, integration)', function () {
  this.timeout(12 * 60_000);

  before(() => {
    rmSync(BASE, { recursive: true, force: true });
    mkdirSync(BASE, { recursive: true });
  });

  it('pvp_peer continuous: the shim runs in the generator host, and its counts are what the fabric saw', async () => {
    const results = join(BASE, 'pass');
    mkdirSync(results, { recursive: true });
    const w = start(conf(5), results);
    const code = await new Promise<number | null>((r) => w.child.once('exit', r));
    expect(code, w.out.slice(-3000)).to.equal(0);
    // It ran on the generator host: the shim's network namespace is that host's, not this one's.
    expect(w.genNs, 'generator host namespace').to.match(/^net:\[\d+\]$/);
    expect(w.shimNs, w.out.slice(-2000)).to.equal(w.genNs);
    expect(w.out).to.match(/Software: shim unix:\/tmp\/vsg-[0-9a-f]+\/shim\.sock: tgshim\.v1/);

    const dir = readdirSync(results).find((d) => d.startsWith('results_'))!;
    const tc = (
      JSON.parse(readFileSync(join(results, dir, 'results.json'), 'utf8')) as {
        testcases: { status: string; trials: { result: { txFrames: number; rxFrames: number } }[] }[];
      }
    ).testcases[0]!;
    expect(tc.status).to.equal('passed');
    const { txFrames, rxFrames } = tc.trials[0]!.result;
    expect(txFrames).to.be.greaterThan(5000); // 1488 fps for 5 s
    expect(rxFrames).to.be.greaterThan(0);
    // The observer: frames the fabric took from the generator host's fab0, and gave its fab1.
    const sent = w.last!.rx - w.first!.rx;
    const got = w.last!.tx - w.first!.tx;
    // fab0 sends nothing but the trial (no address, IPv6 off, no learning or calibration frames).
    expect(sent, `fabric saw ${sent} frames from fab0, generator says it sent ${txFrames}`).to.equal(txFrames);
    // fab1 also gets the fabric's floods (the guest's RARPs after its announce-self): a few more, never fewer.
    expect(got, `fabric gave fab1 ${got} frames, generator says it received ${rxFrames}`).to.be.within(rxFrames, rxFrames + 50);
    // Nothing left on the generator host or here.
    expect(processesIn(w.genNs!), 'processes left in the generator host').to.deep.equal([]);
    expect(readdirSync('/tmp').filter((d) => d.startsWith('vsperf-gen-') || /^vsg-[0-9a-f]{6}$/.test(d))).to.deep.equal([]);
  });

  it('SIGKILL of vsperf mid-trial: the janitor leaves nothing on the generator host', async () => {
    const results = join(BASE, 'killed');
    mkdirSync(results, { recursive: true });
    const w = start(conf(60), results);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no trial within 400 s:\n${w.out.slice(-2000)}`)), 400_000);
      const check = setInterval(() => {
        if (/rfc2544_continuous on Software/.test(w.out)) {
          clearInterval(check);
          clearTimeout(timer);
          setTimeout(resolve, 3000);
        }
      }, 100);
      w.child.once(
        'exit',
        (c) => (clearInterval(check), clearTimeout(timer), reject(new Error(`vsperf exited (${c}) before the kill:\n${w.out.slice(-2000)}`))),
      );
    });
    w.child.removeAllListeners('exit');
    const exited = new Promise((r) => w.child.once('exit', r));
    w.child.kill('SIGKILL');
    await exited;
    expect(w.shimNs).to.equal(w.genNs);
    // Left behind by the kill: the shim (and its engine) in the generator host.
    expect(netnsOf(w.shimPid!), 'the shim outlived vsperf').to.equal(w.genNs);
    expect(processesIn(w.genNs!).length).to.be.greaterThan(1);

    process.env.VSPERF_STATE_DIR = STATE;
    try {
      expect(await runJanitor()).to.be.greaterThan(0);
    } finally {
      delete process.env.VSPERF_STATE_DIR;
    }
    expect(netnsOf(w.shimPid!), 'the shim after the janitor').to.equal(undefined);
    expect(processesIn(w.genNs!), 'processes left in the generator host').to.deep.equal([]);
    expect(existsSync(`/run/netns/vs2-${w.tag}-g`)).to.equal(false);
    expect(readdirSync('/tmp').filter((d) => d.startsWith('vsperf-gen-') || /^vsg-[0-9a-f]{6}$/.test(d))).to.deep.equal([]);
    expect(readdirSync(join(STATE, 'journal')).filter((f) => f.endsWith('.jsonl'))).to.deep.equal([]);
  });

  it('pvp_live_migration_peer through the remote generator: rx_gap_ms per migration, agreeing with the loss', async () => {
    const results = join(BASE, 'migration');
    mkdirSync(results, { recursive: true });
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'bin', 'vsperf.js'), 'pvp_live_migration_peer', '--results-dir', results, '--test-params', "SANDBOX_GENERATOR='ssh';MIGRATION_REPEAT=2"],
      { cwd: ROOT, env: ENV, encoding: 'utf8', timeout: 10 * 60_000 },
    );
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.status, out.slice(-3000)).to.equal(0);
    // The generator was the shim on the generator host, and it speaks the receiver timeline.
    expect(out).to.match(/vsperf-tgshim on gen \(pid \d+\) listens/);
    expect(out).to.match(new RegExp(`Software: shim unix:/tmp/vsg-[0-9a-f]+/shim\\.sock: tgshim\\.v1\\.${API_MINOR}\\b`));
    const dir = readdirSync(results).find((d) => d.startsWith('results_'));
    expect(dir, out.slice(-3000)).to.be.a('string');
    const tc = (
      JSON.parse(readFileSync(join(results, dir!, 'results.json'), 'utf8')) as {
        testcases: {
          status: string;
          error?: { message: string };
          rows: Record<string, unknown>[];
          details: {
            migration: {
              rateFps: number;
              records: Record<string, number | string>[];
              receivers: {
                rxGaps?: { startMs: number; endMs: number }[];
                rxTimeline?: { startMs: number; binMs: number; rxFrames: number[]; maxLatencyMs: number[] };
              }[];
            };
          };
        }[];
      }
    ).testcases[0]!;
    expect(tc.status, `${tc.error?.message}\n${out.slice(-3000)}`).to.equal('passed');
    const { rateFps, records, receivers } = tc.details.migration;
    expect(records.map((x) => x.hostPair)).to.deep.equal(['hostA→hostB', 'hostB→hostA']);
    const frameMs = 1000 / rateFps;
    for (const [i, x] of records.entries()) {
      const what = `migration ${i + 1}: ${JSON.stringify(x)}`;
      // From the remote receiver: the silence, the late frames counted after the mark, the largest latency.
      expectFigures(x, ['rxGapMs', 'delayedFrames', 'migrationMaxLatencyMs', 'lostFrames', 'outageFromLossMs', 'fabricRelearnMs']);
      const gap = x.rxGapMs as number;
      const fromLoss = x.outageFromLossMs as number;
      // The fabric delivers to the stopped source until hostB's RARP: frames are lost.
      expect(x.lostFrames as number, what).to.be.greaterThan(0);
      // Tolerance, lower side: the frames are lost from the moment hostA's rings stop (after its vCPU
      // paused, which starts the silence) until the fabric relearns from hostB's RARP (sent when hostB's
      // switch first polls the new device, before the guest there forwards again, which ends the silence):
      // the loss lies inside the silence, up to 10 frame times of jitter.
      expect(gap, what).to.be.at.least(fromLoss - 10 * frameMs);
      // Upper side: between the two frames around a silence the sender sent only frames that were lost,
      // so the silence exceeds the loss by at most a frame time plus the latency of the frames that ended
      // it (their own trailer timestamps, in the 1 ms bin where the silence ends) and a frame for rounding.
      const rv = receivers[i]!;
      const tl = rv.rxTimeline!;
      const k = Math.floor((rv.rxGaps![0]!.endMs - tl.startMs) / tl.binMs);
      const endLatencyMs = Math.max(...tl.maxLatencyMs.slice(Math.max(0, k - 1), k + 2));
      expect(gap, `${what}; latency at the silence's end ${endLatencyMs} ms`).to.be.at.most(fromLoss + endLatencyMs + 2 * frameMs);
      // The relearn seen by tcpdump on hostB's uplink lies inside that silence.
      expect(x.fabricRelearnMs as number, what).to.be.at.most(gap);
      expect(x.dataplaneOutageMs as number, what).to.be.at.least(gap);
      // The 1 ms bins crossed the shim too.
      expect(receivers[i]?.rxTimeline?.rxFrames.length ?? 0, what).to.be.greaterThan(100);
    }
    // The rows (CSV and results.json) carry it.
    for (const x of records) {
      const row = tc.rows.find((w) => Object.values(w).includes(`migration_${x.index}`));
      expect(row?.rx_gap_ms, JSON.stringify(row)).to.equal(x.rxGapMs);
    }
  });
});
