import { expect } from 'chai';
import { DriverError } from '../../../../framework/errors.js';
import { engineArgv, LineSplitter, parseEngineLine, portArg, streamArg, type EngineStream } from '../../../../trafficgen/software/protocol.js';

const stream: EngineStream = {
  txPort: 0,
  rxPort: 1,
  srcMac: '02:00:00:00:00:01',
  dstMac: '02:00:00:00:00:02',
  srcIp: '1.1.1.1',
  dstIp: '90.90.90.90',
  srcPort: 3000,
  dstPort: 3001,
  l3: true,
  l4: true,
  flows: 1,
  vary: 'none',
  rateFps: 10000,
  sizes: [60],
};

export const RESULT = {
  event: 'result',
  version: '0.3.0',
  backend: 'af_packet',
  tag: 7,
  wall_s: 2.1,
  stopped_by: 'done',
  ports: [
    { name: 'a', netns: 'n', backend: 'af_packet', mtu: 1500, rx_frames: 0, foreign: 0, learning: 0, tx_errors: 0, rx_ring_drops: 0 },
    { name: 'b', netns: 'n', backend: 'af_packet', mtu: 1500, rx_frames: 1003, foreign: 3, learning: 0, tx_errors: 0, rx_ring_drops: 0 },
  ],
  streams: [
    {
      id: 0,
      tx_port: 0,
      rx_port: 1,
      offered_fps: 1000,
      planned: 1000,
      tx_frames: 1000,
      tx_bytes: 60000,
      tx_s: 1,
      achieved_fps: 1000,
      rx_frames: 1000,
      rx_bytes: 60000,
      duplicated: 10,
      reordered: 5,
      max_gap: 4,
      lat_samples: 1000,
      lat_min_ns: 1000,
      lat_avg_ns: 1500,
      lat_max_ns: 4000,
      hist: [
        [992, 500],
        [1984, 400],
        [3968, 100],
      ],
    },
  ],
};

describe('software/protocol', () => {
  it('builds the engine argv from a plan (argv only, one value per argument)', () => {
    const argv = engineArgv({
      ports: [
        { name: 'vsg0', netns: 'vsd-gen' },
        { name: 'vsg1', netns: 'vsd-gen', backend: 'af_xdp' },
      ],
      streams: [stream, { ...stream, txPort: 1, rxPort: 0, vlan: { id: 10, priority: 2, cfi: 0 }, sizes: [60, 60, 1514] }],
      durationS: 2,
      drainS: 1,
      backend: 'auto',
      progressMs: 250,
      latency: true,
      cpus: [1],
    });
    expect(argv).to.deep.equal([
      'gen',
      '--port',
      'vsg0@vsd-gen',
      '--port',
      'vsg1@vsd-gen#af_xdp',
      '--stream',
      'tx=0,rx=1,smac=02:00:00:00:00:01,dmac=02:00:00:00:00:02,sip=1.1.1.1,dip=90.90.90.90,sport=3000,dport=3001,l3=1,l4=1,flows=1,vary=none,rate=10000,sizes=60',
      '--stream',
      'tx=1,rx=0,smac=02:00:00:00:00:01,dmac=02:00:00:00:00:02,sip=1.1.1.1,dip=90.90.90.90,sport=3000,dport=3001,l3=1,l4=1,flows=1,vary=none,rate=10000,sizes=60:60:1514,vlan=10,prio=2,cfi=0',
      '--duration',
      '2',
      '--drain',
      '1',
      '--backend',
      'auto',
      '--progress-ms',
      '250',
      '--cpus',
      '1',
    ]);
    expect(
      engineArgv({
        ports: [{ name: 'a' }],
        streams: [stream],
        frames: 500,
        drainS: 0,
        backend: 'af_packet',
        progressMs: 0,
        latency: false,
        learningS: 2,
        learningFps: 100,
      }),
    ).to.include.members(['--frames', '500', '--learning', '2', '--learning-rate', '100', '--no-latency']);
    const dpdk = {
      ports: [{ name: 'g0', dev: 'net_virtio_user0,path=/tmp/x.sock,server=1', backend: 'dpdk' as const }],
      streams: [stream],
      frames: 5,
      drainS: 0,
      backend: 'dpdk' as const,
      progressMs: 0,
      latency: true,
    };
    expect(engineArgv({ ...dpdk, txDropFull: true })).to.include('--tx-drop-full');
    expect(engineArgv(dpdk)).to.not.include('--tx-drop-full');
    const held = engineArgv({ ...dpdk, holdS: 30 });
    expect(held.slice(held.indexOf('--hold'), held.indexOf('--hold') + 2)).to.deep.equal(['--hold', '30']);
    expect(engineArgv(dpdk)).to.not.include('--hold');
  });

  it('rejects interface, namespace and stream values that could be misread', () => {
    expect(() => portArg({ name: 'eth0;rm' })).to.throw(DriverError, /not a valid interface name/);
    expect(() => portArg({ name: 'averyveryverylongname' })).to.throw(DriverError);
    expect(() => portArg({ name: 'eth0', netns: 'a b' })).to.throw(DriverError, /network namespace/);
    expect(() => streamArg({ ...stream, srcMac: '02:00:00:00:00:01,rate=1' })).to.throw(DriverError, /comma/);
  });

  it('parses every event kind and checks the result shape', () => {
    expect(parseEngineLine('{"event":"ready","backend":"af_xdp","tag":1,"ports":[]}').event).to.equal('ready');
    expect(parseEngineLine('{"event":"progress","elapsed_s":0.5,"tx":10,"rx":9,"streams":[]}')).to.include({ tx: 10, rx: 9 });
    expect(parseEngineLine('{"event":"error","code":"E_NOIFACE","message":"interface x not found"}')).to.include({ code: 'E_NOIFACE' });
    const r = parseEngineLine(JSON.stringify(RESULT));
    expect(r.event).to.equal('result');
  });

  it('turns malformed engine output into one DriverError that quotes the line', () => {
    expect(() => parseEngineLine('not json')).to.throw(DriverError, /invalid JSON in engine output line "not json"/);
    expect(() => parseEngineLine('{"x":1}')).to.throw(DriverError, /no "event" field/);
    expect(() => parseEngineLine('{"event":"bogus"}')).to.throw(DriverError, /unknown event "bogus"/);
    const bad = structuredClone(RESULT) as { streams: Record<string, unknown>[] };
    bad.streams[0]!.rx_frames = 'many';
    expect(() => parseEngineLine(JSON.stringify(bad))).to.throw(DriverError, /result.streams\[\]\.rx_frames is not a number/);
    const badHist = structuredClone(RESULT) as { streams: Record<string, unknown>[] };
    badHist.streams[0]!.hist = [[1, 2, 3]];
    expect(() => parseEngineLine(JSON.stringify(badHist))).to.throw(DriverError, /hist/);
  });

  it('splits output into whole lines across chunk boundaries', () => {
    const s = new LineSplitter(100);
    expect(s.push('{"a":1}\n{"b"')).to.deep.equal(['{"a":1}']);
    expect(s.push(':2}\n\n')).to.deep.equal(['{"b":2}']);
    expect(() => s.push('x'.repeat(200))).to.throw(DriverError, /longer than 100/);
  });
});
