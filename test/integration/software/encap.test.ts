/**
 * Encapsulated streams (overlay decapsulation tests send tunnelled frames): the engine sends VXLAN,
 * GENEVE and GRE frames whose inner frame carries the trailer; its receiver on the veth peer counts
 * every one of them (the trailer is the frame's end in plain and tunnelled frames alike), and tcpdump's
 * own protocol decoders, an observer independent of our code, see the outer and inner headers we meant.
 * Needs root, tcpdump and the built engine; a missing piece fails, never skips.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Host } from '../../../framework/host/host.js';
import { exec } from '../../../framework/host/exec.js';
import { sleep } from '../../../framework/host/proc.js';
import { defaultEnginePath } from '../../../trafficgen/software/engine-run.js';
import { encapHeader, encapLength, type TunnelType } from '../../../trafficgen/software/encap.js';
import { makeHost, quietNetns, vethPair } from './helpers.js';
import { pcapFrames } from './pcap.js';

const NS_A = 'vsg-ite-a';
const NS_B = 'vsg-ite-b';
const TX = 'vsge0';
const RX = 'vsge1';
const OUTER_SMAC = '02:00:00:00:00:01';
const N = 400;

function onesSum(d: Buffer): number {
  let s = 0;
  for (let i = 0; i + 1 < d.length; i += 2) s += d.readUInt16BE(i);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

describe('vsg-engine encapsulated streams: VXLAN, GENEVE, GRE (integration)', function () {
  this.timeout(120_000);
  let host: Host;
  let dir: string;

  before(async () => {
    host = makeHost('software-encap');
    for (const ns of [NS_A, NS_B]) {
      await host.createNetns(ns);
      await quietNetns(ns);
    }
    await vethPair(host, TX, NS_A, RX, NS_B);
    dir = mkdtempSync(join(tmpdir(), 'vsg-ite-'));
  });

  after(async () => {
    await host.cleanup.unwind();
    host.journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const cases: Array<[TunnelType, RegExp]> = [
    ['vxlan', /VXLAN, flags \[I\] \(0x08\), vni 99\n?.*02:00:00:00:00:0a > 02:00:00:00:00:0b.*192\.168\.0\.10\.3000 > 192\.168\.240\.9\.3001: UDP/],
    ['geneve', /Geneve, Flags \[none\], vni 0x63.*02:00:00:00:00:0a > 02:00:00:00:00:0b.*192\.168\.0\.10\.3000 > 192\.168\.240\.9\.3001: UDP/],
    ['gre', /GREv0, proto TEB \(0x6558\), length \d+: 02:00:00:00:00:0a > 02:00:00:00:00:0b.*192\.168\.0\.10\.3000 > 192\.168\.240\.9\.3001: UDP/],
  ];
  for (const [type, decoded] of cases) {
    it(`${type}: every frame is received and counted, and tcpdump decodes outer and inner headers`, async () => {
      const file = join(dir, `${type}.pcap`);
      const dump = await host.spawn(
        [
          'ip',
          'netns',
          'exec',
          NS_B,
          'tcpdump',
          '-i',
          RX,
          '-w',
          file,
          '-U',
          '-s',
          '0',
          '-B',
          '16384',
          '--immediate-mode',
          '-c',
          String(N),
          'ether',
          'src',
          OUTER_SMAC,
        ],
        { label: 'stop tcpdump', graceMs: 1000 },
      );
      const t0 = Date.now();
      while (!dump.tail(20).includes('listening on')) {
        if (!dump.running || Date.now() - t0 > 10_000) throw new Error(`tcpdump did not start: ${dump.tail(10)}`);
        await sleep(50);
      }
      const encap = encapHeader({ type, srcMac: OUTER_SMAC, dstMac: '02:00:00:00:00:02', srcIp: '1.1.1.1', dstIp: '192.168.240.1', vni: 99 });
      const size = 128;
      const engine = await host.spawn(
        [
          defaultEnginePath(),
          'gen',
          '--port',
          `${TX}@${NS_A}#af_packet`,
          '--port',
          `${RX}@${NS_B}#af_packet`,
          '--stream',
          `tx=0,rx=1,rate=1000,smac=02:00:00:00:00:0a,dmac=02:00:00:00:00:0b,sip=192.168.0.10,dip=192.168.240.9,sport=3000,dport=3001,sizes=${size},encap=${encap}`,
          '--frames',
          String(N),
          '--progress-ms',
          '0',
          '--drain',
          '0.5',
        ],
        { label: 'stop vsg-engine', graceMs: 1000, stdinPipe: true },
      );
      await Promise.race([engine.waitExit(), sleep(30_000)]);
      await engine.stop(1000);
      const line = engine
        .tail(8)
        .split('\n')
        .find((l) => l.includes('"event":"result"'));
      expect(line, engine.tail(10)).to.be.a('string');
      const r = JSON.parse(line!) as { streams: { tx_frames: number; rx_frames: number }[] };
      expect(r.streams[0]!.tx_frames, 'sent').to.equal(N);
      expect(r.streams[0]!.rx_frames, 'received and matched by the trailer').to.equal(N);
      await Promise.race([dump.waitExit(), sleep(10_000)]);
      await dump.stop(1000);
      const frames = pcapFrames(file);
      expect(frames).to.have.length(N);
      for (const f of frames) {
        expect(f.length).to.equal(size);
        const ip = f.subarray(14, 34);
        expect(ip.readUInt16BE(2), 'outer IPv4 total length').to.equal(size - 14);
        expect(onesSum(ip), 'outer IPv4 checksum').to.equal(0xffff);
        if (type !== 'gre') expect(f.readUInt16BE(38), 'outer UDP length').to.equal(size - 34);
        const inner = f.subarray(encapLength(type));
        expect(inner.readUInt16BE(12), 'inner EtherType').to.equal(0x0800);
        expect(inner.readUInt16BE(16), 'inner IPv4 total length').to.equal(size - encapLength(type) - 14);
      }
      const text = (await exec(['tcpdump', '-nn', '-e', '-r', file, '-c', '3'], { allowFail: true })).stdout;
      expect(text, text).to.match(decoded);
    });
  }

  it('refuses headers that are not Ethernet + IPv4, and sizes that cannot hold the outer headers', async () => {
    const bad = await exec(
      [defaultEnginePath(), 'gen', '--port', `${TX}@${NS_A}#af_packet`, '--stream', `tx=0,rx=-1,sizes=128,encap=${'00'.repeat(50)}`, '--frames', '1'],
      { allowFail: true },
    );
    expect(bad.code).to.not.equal(0);
    expect(bad.stdout + bad.stderr).to.match(/E_USAGE.*encap= must start with an Ethernet header/);
    const small = await exec(
      [
        defaultEnginePath(),
        'gen',
        '--port',
        `${TX}@${NS_A}#af_packet`,
        '--stream',
        `tx=0,rx=-1,sizes=64,encap=${encapHeader({ type: 'vxlan', srcMac: OUTER_SMAC, dstMac: OUTER_SMAC, srcIp: '1.1.1.1', dstIp: '2.2.2.2' })}`,
        '--frames',
        '1',
      ],
      { allowFail: true },
    );
    expect(small.stdout + small.stderr).to.match(/E_SIZE/);
  });
});
