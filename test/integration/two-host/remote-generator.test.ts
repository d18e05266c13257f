/**
 * CI: the Software generator on the two-host sandbox's generator host, reached over SSH as a real one
 * is (SANDBOX_GENERATOR=ssh): vsperf starts vsperf-tgshim there, forwards its loopback port through the
 * SSH connection and runs a pvp continuous testcase through it.
 * Independent observer: the fabric's veth counters on this machine's side (the bridge ports facing the
 * generator host's fab0 and fab1), read by the test while vsperf runs: what the generator says it sent
 * and received must be what the fabric saw leave and reach the generator host.
 * Then a run is killed with SIGKILL in the middle of its trial: the janitor must leave nothing on the
 * generator host (no process in its network namespace, the shim's directory gone).
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runJanitor } from '../../../framework/host/janitor.js';

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
});
