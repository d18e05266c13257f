/**
 * The engine's frames as a receiver sees them, byte by byte (tcpdump on the veth peer, prefix vsg-itw).
 * The TX path reuses ring slots and UMEM frames: a slot that comes round again with the same flow and
 * size gets only its sequence number and timestamp rewritten. A small ring and an IMIX/flow pattern
 * whose period does not divide the ring make slots alternate between rebuilt and restamped frames; every
 * captured frame must still be exactly the frame its sequence number calls for.
 * Needs root, tcpdump and the built engine; a missing piece fails, never skips.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Host } from '../../../framework/host/host.js';
import { sleep } from '../../../framework/host/proc.js';
import { defaultEnginePath } from '../../../trafficgen/software/engine-run.js';
import { enginePids, linksList, makeHost, netnsList, quietNetns, vethPair } from './helpers.js';
import { pcapRecords } from './pcap.js';

const NS_A = 'vsg-itw-a';
const NS_B = 'vsg-itw-b';
const TX = 'vsgw0';
const RX = 'vsgw1';
const SMAC = '02:00:00:00:00:01';
const DMAC = '02:00:00:00:00:02';
const TAG = 77;

/** Frames of a pcap file, each captured whole. */
function readPcap(file: string): Buffer[] {
  return pcapRecords(file).map((r) => {
    expect(r.frame.length, 'frame captured whole').to.equal(r.origLen);
    return r.frame;
  });
}

/** Internet checksum of `data` folded to 16 bits (0xffff over a region that includes a valid checksum). */
function onesSum(data: Buffer, start = 0): number {
  let s = start;
  for (let i = 0; i + 1 < data.length; i += 2) s += data.readUInt16BE(i);
  if (data.length % 2) s += data[data.length - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

interface Pattern {
  readonly sizes: number[]; // without FCS, as the engine's sizes=
  readonly flows: number;
  readonly ipv6: boolean;
}

/** Assert that frame i is exactly what the engine should send for sequence number i. */
function checkFrame(f: Buffer, i: number, p: Pattern): void {
  const len = p.sizes[i % p.sizes.length]!;
  const flow = i % p.flows;
  const at = `frame ${i}`;
  expect(f.length, `${at}: length`).to.equal(len);
  expect(f.subarray(0, 6).toString('hex'), `${at}: dst MAC`).to.equal(DMAC.replaceAll(':', ''));
  expect(f.subarray(6, 12).toString('hex'), `${at}: src MAC`).to.equal(SMAC.replaceAll(':', ''));
  let l4: number;
  if (!p.ipv6) {
    expect(f.readUInt16BE(12), `${at}: ethertype`).to.equal(0x0800);
    const ip = f.subarray(14, 34);
    expect(ip[0], `${at}: IPv4 version/IHL`).to.equal(0x45);
    expect(ip.readUInt16BE(2), `${at}: IPv4 total length`).to.equal(len - 14);
    expect(ip[9], `${at}: protocol`).to.equal(17);
    expect(onesSum(ip), `${at}: IPv4 header checksum`).to.equal(0xffff);
    expect([...ip.subarray(12, 16)].join('.'), `${at}: src IP`).to.equal('1.1.1.1');
    expect(ip.readUInt32BE(16), `${at}: dst IP (flow ${flow})`).to.equal(((90 << 24) | (90 << 16) | (90 << 8) | 90) + flow);
    l4 = 34;
  } else {
    expect(f.readUInt16BE(12), `${at}: ethertype`).to.equal(0x86dd);
    const ip = f.subarray(14, 54);
    expect(ip[0]! >> 4, `${at}: IPv6 version`).to.equal(6);
    expect(ip.readUInt16BE(4), `${at}: IPv6 payload length`).to.equal(len - 54);
    expect(ip[6], `${at}: next header`).to.equal(17);
    expect(ip.readUInt32BE(36), `${at}: dst IP low 32 bits (flow ${flow})`).to.equal(1 + flow);
    // UDP checksum over the pseudo header (addresses, length, protocol) and the whole UDP datagram
    const pseudo = onesSum(ip.subarray(8, 40), len - 54 + 17);
    expect(onesSum(f.subarray(54), pseudo), `${at}: UDP checksum`).to.equal(0xffff);
    l4 = 54;
  }
  expect(f.readUInt16BE(l4), `${at}: src port`).to.equal(3000);
  expect(f.readUInt16BE(l4 + 2), `${at}: dst port`).to.equal(3001);
  expect(f.readUInt16BE(l4 + 4), `${at}: UDP length`).to.equal(len - l4);
  if (!p.ipv6) expect(f.readUInt16BE(l4 + 6), `${at}: IPv4 UDP checksum (unused)`).to.equal(0);
  const tr = len - 14;
  expect(
    f.subarray(l4 + 8, tr).every((x) => x === 0),
    `${at}: zero payload`,
  ).to.equal(true);
  expect(f[tr], `${at}: magic`).to.equal(0x56);
  expect(f[tr + 1], `${at}: run tag`).to.equal(TAG);
  expect(f.readUInt16BE(tr + 2), `${at}: stream id`).to.equal(0);
  expect(f.readUInt32BE(tr + 4), `${at}: sequence`).to.equal(i);
}

describe('vsg-engine frames on the wire (integration)', function () {
  this.timeout(60_000);
  let host: Host;
  let dir: string;

  before(async () => {
    expect(process.getuid?.(), 'integration tests run as root').to.equal(0);
    host = makeHost('software-frames');
    for (const ns of [NS_A, NS_B]) {
      await host.createNetns(ns);
      await quietNetns(ns);
    }
    await vethPair(host, TX, NS_A, RX, NS_B);
    dir = mkdtempSync(join(tmpdir(), 'vsg-itw-'));
  });

  after(async () => {
    const errors = await host.cleanup.unwind();
    host.journal.close();
    rmSync(dir, { recursive: true, force: true });
    expect(errors.map((e) => e.message)).to.deep.equal([]);
    expect(await netnsList('vsg-itw')).to.deep.equal([]);
    expect(await linksList('vsgw')).to.deep.equal([]);
    expect(enginePids()).to.deep.equal([]);
  });

  /** Capture `n` frames from our MAC on the peer while the engine sends them; returns the frames. */
  async function sendAndCapture(backend: string, p: Pattern, n: number): Promise<Buffer[]> {
    const file = join(dir, `${backend}-${p.ipv6 ? 6 : 4}.pcap`);
    const dump = await host.spawn(
      ['ip', 'netns', 'exec', NS_B, 'tcpdump', '-i', RX, '-w', file, '-U', '-s', '0', '-B', '16384', '--immediate-mode', '-c', String(n), 'ether', 'src', SMAC],
      { label: 'stop tcpdump', graceMs: 1000 },
    );
    try {
      const t0 = Date.now();
      while (!dump.tail(20).includes('listening on')) {
        if (!dump.running) throw new Error(`tcpdump exited: ${dump.tail(10)}`);
        if (Date.now() - t0 > 10_000) throw new Error(`tcpdump did not start: ${dump.tail(10)}`);
        await sleep(50);
      }
      const ip = p.ipv6 ? 'sip=2001:db8::2,dip=2001:db8::1' : 'sip=1.1.1.1,dip=90.90.90.90';
      // stdin stays open: EOF on stdin would tell the engine its driver is gone
      const engine = await host.spawn(
        [
          defaultEnginePath(),
          'gen',
          '--port',
          `${backend === 'dpdk' ? `net_af_packet0,iface=${TX}` : TX}@${NS_A}#${backend}`,
          '--stream',
          `tx=0,rx=-1,rate=10000,smac=${SMAC},dmac=${DMAC},${ip},sport=3000,dport=3001,flows=${p.flows},vary=l3,sizes=${p.sizes.join(':')}`,
          '--frames',
          String(n),
          '--ring',
          '64',
          '--batch',
          '32',
          '--tag',
          String(TAG),
          '--progress-ms',
          '0',
        ],
        { label: 'stop vsg-engine', graceMs: 1000, stdinPipe: true },
      );
      const exit = await Promise.race([engine.waitExit(), sleep(20_000).then(() => undefined)]);
      await engine.stop(1000);
      expect(exit, `engine exit: ${engine.tail(5)}`).to.deep.equal({ code: 0, signal: null });
      const line = engine
        .tail(5)
        .split('\n')
        .find((l) => l.includes('"event":"result"'));
      expect(line, `result line in ${engine.tail(5)}`).to.be.a('string');
      const result = JSON.parse(line!) as { backend: string; streams: { tx_frames: number }[] };
      expect(result.backend).to.equal(backend);
      expect(result.streams[0]!.tx_frames).to.equal(n);
      const status = await Promise.race([dump.waitExit(), sleep(10_000).then(() => undefined)]);
      expect(status, `tcpdump captured all ${n} frames: ${dump.tail(5)}`).to.deep.equal({ code: 0, signal: null });
    } finally {
      await dump.stop(1000);
    }
    return readPcap(file);
  }

  // 7 sizes × 3 flows repeat every 21 frames; the rings (60 slots for AF_PACKET, 64 for AF_XDP) are not
  // multiples of that, so a slot holds a different frame on most laps and the same one on some.
  const imix: Pattern = { sizes: [60, 124, 60, 1000, 77, 60, 333], flows: 3, ipv6: false };
  // dpdk (net_af_packet on the veth): the TX "ring" is the mbuf pool, 2047 mbufs at --ring 64.
  for (const backend of ['af_packet', 'af_xdp', 'dpdk']) {
    it(`${backend}: every frame is exact after the TX ring wrapped many times (IMIX, 3 flows, IPv4)`, async () => {
      const n = backend === 'dpdk' ? 7000 : 3000;
      const frames = await sendAndCapture(backend, imix, n);
      expect(frames.length).to.equal(n);
      frames.forEach((f, i) => checkFrame(f, i, imix));
    });
  }

  it('af_packet: IPv6 UDP checksums stay right when only sequence and timestamp are rewritten', async () => {
    // one flow, one size: from the second lap on every frame is a restamped slot
    const p: Pattern = { sizes: [100], flows: 1, ipv6: true };
    const n = 2000;
    const frames = await sendAndCapture('af_packet', p, n);
    expect(frames.length).to.equal(n);
    frames.forEach((f, i) => checkFrame(f, i, p));
  });
});
