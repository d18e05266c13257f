// One agent per generator port, run inside the port's network namespace (`ip netns exec NS node agent.js
// IFACE PORT`). socat moves raw frames between the interface and two UDP sockets on the namespace's
// loopback, one datagram per frame; the agent paces what it sends and counts what it receives. It takes
// JSON commands on stdin and answers on stdout, one line each.
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { buildFrame, readTag, stamp } from './frames.js';

const [iface, portArg] = process.argv.slice(2);
const me = Number(portArg);
const children = [];
let counts = { trial: -1, from: {}, foreign: 0 };
let sending;

const reply = (msg) => process.stdout.write(JSON.stringify(msg) + '\n');

function fail(message) {
  reply({ op: 'error', message });
  quit(1);
}

function quit(code = 0) {
  for (const c of children) c.kill('SIGTERM');
  process.exit(code);
}

function bound(socket) {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve(socket.address().port));
  });
}

function wireTxPackets() {
  return Number(readFileSync(`/sys/class/net/${iface}/statistics/tx_packets`, 'utf8'));
}

function socat(args) {
  const c = spawn('socat', ['-u', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  c.stderr.on('data', (d) => (err += d));
  c.on('error', (e) => fail(`socat: ${e.message}`));
  c.on('exit', (code) => fail(`socat ${args.join(' ')} exited (${code}): ${err.trim().split('\n').pop() ?? ''}`));
  children.push(c);
}

function count(frame) {
  const tag = readTag(frame);
  if (tag && tag.port === me) return; // our own frame, seen leaving
  if (!tag || tag.trial !== counts.trial) {
    counts.foreign++;
    return;
  }
  const c = (counts.from[tag.port] ??= { rx: 0, rxBytes: 0, duplicated: 0, reordered: 0, maxSeq: -1, seen: new Set() });
  c.rx++;
  c.rxBytes += frame.length + 4;
  if (c.seen.has(tag.seq)) c.duplicated++;
  else c.seen.add(tag.seq);
  if (tag.seq < c.maxSeq) c.reordered++;
  c.maxSeq = Math.max(c.maxSeq, tag.seq);
}

/** Send at `rateFps` until `frames` are out or `durationS` is over; frames due while we were late go out in bursts. */
function send(cmd, socket, txPort) {
  const template = buildFrame(cmd.stream);
  const total = cmd.frames ?? Math.round(cmd.rateFps * cmd.durationS);
  const endMs = cmd.durationS !== undefined ? cmd.durationS * 1000 : Infinity;
  const wire0 = wireTxPackets();
  const t0 = performance.now();
  let sent = 0;
  let inFlight = 0;
  const state = { stopped: false };
  sending = state;
  const elapsedS = () => (performance.now() - t0) / 1000;
  let doneS;
  // socat writes to the interface a little after we hand it a frame: wait (at most 1 s) until the
  // interface counted them all, so the frames still queued are not mistaken for frames never sent.
  const finish = () => {
    doneS ??= elapsedS();
    const wireTx = wireTxPackets() - wire0;
    if (inFlight > 0 || (wireTx < sent && elapsedS() - doneS < 1)) return setTimeout(finish, 5);
    reply({ op: 'sent', trial: cmd.trial, sent, wireTx, elapsedS: doneS });
  };
  const tick = () => {
    const now = performance.now() - t0;
    if (state.stopped || sent >= total || now >= endMs) return finish();
    const due = Math.min(total, Math.floor((now / 1000) * cmd.rateFps) + 1);
    for (let burst = 0; sent < due && burst < 256; burst++) {
      const frame = Buffer.from(template);
      stamp(frame, cmd.trial, me, sent++);
      inFlight++;
      socket.send(frame, txPort, '127.0.0.1', () => inFlight--);
    }
    if (sent < due) setImmediate(tick);
    else setTimeout(tick, 1);
  };
  tick();
}

async function main() {
  const lo = spawnSync('ip', ['link', 'set', 'lo', 'up'], { encoding: 'utf8' });
  if (lo.status !== 0) return fail(`ip link set lo up: ${lo.stderr.trim()}`);
  try {
    wireTxPackets();
  } catch {
    return fail(`no interface ${iface} here`);
  }
  const rx = dgram.createSocket('udp4');
  rx.on('message', count);
  const rxPort = await bound(rx);
  const tx = dgram.createSocket('udp4');
  await bound(tx);
  const probe = dgram.createSocket('udp4');
  const txPort = await bound(probe);
  probe.close();
  socat([`INTERFACE:${iface}`, `UDP4-SENDTO:127.0.0.1:${rxPort}`]);
  socat([`UDP4-RECV:${txPort},bind=127.0.0.1`, `INTERFACE:${iface}`]);
  await new Promise((r) => setTimeout(r, 300)); // socat binds its sockets
  const commands = createInterface({ input: process.stdin });
  commands.on('close', () => quit(0));
  commands.on('line', (line) => {
    const cmd = JSON.parse(line);
    if (cmd.op === 'expect') {
      counts = { trial: cmd.trial, from: {}, foreign: 0 };
      reply({ op: 'expecting', trial: cmd.trial });
    } else if (cmd.op === 'send') send(cmd, tx, txPort);
    else if (cmd.op === 'abort' && sending) sending.stopped = true;
    else if (cmd.op === 'counts') {
      const from = Object.fromEntries(
        Object.entries(counts.from).map(([p, c]) => [p, { rx: c.rx, rxBytes: c.rxBytes, duplicated: c.duplicated, reordered: c.reordered }]),
      );
      reply({ op: 'counts', trial: cmd.trial, from, foreign: counts.foreign });
    } else if (cmd.op === 'quit') quit(0);
  });
  reply({ op: 'ready' });
}

main().catch((e) => fail(e.message));
