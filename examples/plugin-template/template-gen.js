// TemplateGen: a small but real traffic generator. Each port gets an agent (agent.js) inside the port's
// network namespace that sends and receives raw Ethernet frames through socat; this class runs trials
// on them and turns the agents' counts into a TrialResult. Latency, IMIX, VLAN and IPv6 are not
// supported, and say so in capabilities(): checkTrialSpec then refuses them with E_CAPABILITY.
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AbortedError, DriverError, checkTrialSpec, errorCode, rateToFps } from 'vsperf-ts';
import { MIN_FRAME } from './frames.js';

const AGENT = fileURLToPath(new URL('./agent.js', import.meta.url));
const NAME = 'TemplateGen';

/** One agent process: JSON commands in, JSON replies out, matched by op and trial. */
class Agent {
  static async start(host, port, index) {
    const argv = [process.execPath, AGENT, port.name, String(index)];
    const child = await host.spawn(port.netns ? ['ip', 'netns', 'exec', port.netns, ...argv] : argv, {
      stdinPipe: true,
      label: `stop ${NAME} agent on ${port.name}`,
    });
    const agent = new Agent(child, port.name);
    await agent.reply('ready', undefined, 15_000);
    return agent;
  }

  constructor(child, iface) {
    this.child = child;
    this.iface = iface;
    this.waiting = new Map();
    createInterface({ input: child.proc.stdout }).on('line', (line) => this.onLine(line));
    child.on('unexpected-exit', () => this.failAll(new DriverError(NAME, 'agent', `the agent on ${iface} exited: ${child.tail(3)}`)));
  }

  onLine(line) {
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      return; // not a reply (a stray diagnostic)
    }
    if (msg.op === 'error') return this.failAll(new DriverError(NAME, 'agent', `${this.iface}: ${msg.message}`));
    const w = this.waiting.get(`${msg.op}:${msg.trial}`);
    if (w) {
      this.waiting.delete(`${msg.op}:${msg.trial}`);
      w.resolve(msg);
    }
  }

  failAll(err) {
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }

  send(cmd) {
    if (this.child.running) this.child.proc.stdin.write(JSON.stringify(cmd) + '\n');
  }

  /** The reply `op` for `trial`; a DriverError when it does not come within timeoutMs. */
  reply(op, trial, timeoutMs) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(`${op}:${trial}`);
        reject(new DriverError(NAME, 'agent', `${this.iface}: no '${op}' reply within ${timeoutMs} ms: ${this.child.tail(3)}`));
      }, timeoutMs);
      const done = (f) => (v) => {
        clearTimeout(timer);
        f(v);
      };
      this.waiting.set(`${op}:${trial}`, { resolve: done(resolve), reject: done(reject) });
    });
  }

  request(cmd, op, timeoutMs) {
    const r = this.reply(op, cmd.trial, timeoutMs);
    this.send(cmd);
    return r;
  }

  async stop() {
    this.send({ op: 'quit' });
    await this.child.stop(1000);
  }
}

/** The abort reason when it carries a vsperf-ts error code, else an AbortedError. */
function abortError(signal) {
  return errorCode(signal.reason) ? signal.reason : new AbortedError(`${NAME}: trial aborted`);
}

function untilAborted(signal) {
  return new Promise((_, reject) => {
    if (!signal) return;
    if (signal.aborted) reject(abortError(signal));
    signal.addEventListener('abort', () => reject(abortError(signal)), { once: true });
  });
}

export class TemplateGen {
  name = NAME;

  /** @param host the DriverContext's Host (tracks the agents); @param opts { maxFps, drainS } */
  constructor(host, opts) {
    this.host = host;
    this.opts = opts;
    this.agents = undefined;
    this.ports = [];
    this.trial = 0;
  }

  capabilities() {
    return { continuous: false, latency: false, bidir: true, imix: false, vlan: false, ipv6: false, maxFrameSize: 1518, maxRateFps: this.opts.maxFps };
  }

  async connect(ports) {
    if (ports.length !== 2) throw new DriverError(NAME, 'connect', `needs 2 ports, got ${ports.length}`, { kind: 'usage' });
    this.ports = ports;
    this.agents = await Promise.all(ports.map((p, i) => Agent.start(this.host, p, i)));
  }

  async runTrial(spec, signal) {
    checkTrialSpec(NAME, this.capabilities(), spec);
    if (spec.stream.frameSize < MIN_FRAME) throw new DriverError(NAME, 'runTrial', `frames of at least ${MIN_FRAME} bytes`, { kind: 'usage' });
    if (!this.agents) throw new DriverError(NAME, 'runTrial', 'connect() first', { kind: 'usage' });
    if (signal?.aborted) throw abortError(signal);
    const trial = ++this.trial;
    const offeredFps = rateToFps(spec.rate, this.ports[0].speedMbps, spec.stream.frameSize);
    const directions = spec.bidir
      ? [
          [0, 1],
          [1, 0],
        ]
      : [[0, 1]];
    const started = performance.now();
    // Every receiver counts for this trial before any sender starts.
    await Promise.all(this.agents.map((a) => a.request({ op: 'expect', trial }, 'expecting', 5000)));
    const length = spec.frames !== undefined ? { frames: spec.frames } : { durationS: spec.durationS };
    const trafficS = spec.durationS ?? spec.frames / Math.max(offeredFps, 1);
    const sends = directions.map(([from]) =>
      this.agents[from].request(
        { op: 'send', trial, stream: this.streamFrom(spec.stream, from), rateFps: offeredFps, ...length },
        'sent',
        trafficS * 2000 + 10_000,
      ),
    );
    let sent;
    try {
      sent = await Promise.race([Promise.all(sends), untilAborted(signal)]);
    } catch (e) {
      for (const a of this.agents) a.send({ op: 'abort' });
      throw e;
    }
    await new Promise((r) => setTimeout(r, (spec.drainS ?? this.opts.drainS) * 1000));
    const counts = await Promise.all(this.agents.map((a) => a.request({ op: 'counts', trial }, 'counts', 5000)));
    return this.result(spec, offeredFps, directions, sent, counts, (performance.now() - started) / 1000);
  }

  /** The reverse direction swaps addresses and ports, as a reply would. */
  streamFrom(stream, from) {
    if (from === 0) return stream;
    return {
      ...stream,
      l2: { srcMac: stream.l2.dstMac, dstMac: stream.l2.srcMac },
      l3: { ...stream.l3, srcIp: stream.l3.dstIp, dstIp: stream.l3.srcIp },
      l4: { ...stream.l4, srcPort: stream.l4.dstPort, dstPort: stream.l4.srcPort },
    };
  }

  result(spec, offeredFps, directions, sent, counts, wallS) {
    const size = spec.stream.frameSize;
    const dirs = directions.map(([from, to], i) => {
      const s = sent[i];
      // Frames that left the agent but not the interface (a full socket buffer) were never sent.
      const txFrames = Math.min(s.sent, s.wireTx);
      const c = counts[to].from[from] ?? { rx: 0, rxBytes: 0, duplicated: 0, reordered: 0 };
      const foreign = directions.length === 1 || to === 1 ? counts[to].foreign : 0;
      const rxFrames = c.rx + foreign;
      const lostFrames = Math.max(0, txFrames - (c.rx - c.duplicated));
      const planned = spec.frames ?? offeredFps * spec.durationS;
      const durationS = Math.max(s.elapsedS, planned / Math.max(offeredFps, 1e-9));
      return {
        fromPort: from,
        toPort: to,
        txFrames,
        rxFrames,
        lostFrames,
        reordered: c.reordered,
        duplicated: c.duplicated,
        foreign,
        txBytes: txFrames * size,
        rxBytes: c.rxBytes,
        durationS,
      };
    });
    const sum = (k) => dirs.reduce((a, d) => a + d[k], 0);
    const durationS = Math.max(...dirs.map((d) => d.durationS));
    const txFrames = sum('txFrames');
    const achievedTxFps = txFrames / dirs.length / durationS;
    return {
      txFrames,
      rxFrames: sum('rxFrames'),
      lostFrames: sum('lostFrames'),
      reordered: sum('reordered'),
      duplicated: sum('duplicated'),
      foreign: sum('foreign'),
      txBytes: sum('txBytes'),
      rxBytes: sum('rxBytes'),
      offeredFps,
      achievedTxFps,
      rxFps: (sum('rxFrames') - sum('foreign')) / dirs.length / durationS,
      lossPct: txFrames ? (100 * sum('lostFrames')) / txFrames : 0,
      durationS,
      wallS,
      generatorLimited: achievedTxFps < 0.95 * offeredFps,
      directions: dirs.map(({ durationS: _d, ...d }) => d),
      info: { generator: NAME },
    };
  }

  async close() {
    const agents = this.agents ?? [];
    this.agents = undefined;
    await Promise.all(agents.map((a) => a.stop()));
  }
}
