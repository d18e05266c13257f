import { expect } from 'chai';
import fc from 'fast-check';
import {
  InvalidFieldError,
  portsFromPb,
  portToPb,
  receiverFromPb,
  receiverToPb,
  resultFromPb,
  resultToPb,
  trialFromPb,
  trialToPb,
} from '../../../../trafficgen/grpc/convert.js';
import * as pb from '../../../../trafficgen/grpc/gen/tgshim/v1/tgshim.js';
import type { GeneratorCaps, ReceiverTimeline, TrialResult, TrialSpec } from '../../../../framework/api/trafficgen.js';
import { basicStream } from '../../../../framework/api/example-spec.js';

const CAPS: GeneratorCaps = { continuous: true, latency: true, bidir: true, imix: true, vlan: true, ipv6: true, maxFrameSize: 9000 };

function spec(over: Partial<TrialSpec> = {}): TrialSpec {
  return {
    stream: basicStream({ frameSize: 128, vlan: { enabled: true, id: 100, priority: 3, cfi: 0 }, multistream: 1024, streamType: 'L3' }),
    bidir: true,
    rate: { unit: 'pct', value: 42.5 },
    latency: true,
    durationS: 30,
    learningS: 2,
    drainS: 1,
    ...over,
  };
}

/** The spec without keys set to undefined (as a TrialSpec comes back from the wire). */
function clean(s: TrialSpec): TrialSpec {
  return Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as unknown as TrialSpec;
}

/** Encode to bytes and back, as on the wire. */
function wire(t: pb.TrialSpec): pb.TrialSpec {
  return pb.TrialSpec.decode(pb.TrialSpec.encode(t).finish());
}

describe('trafficgen/grpc convert', () => {
  it('round-trips a TrialSpec through the wire format', () => {
    for (const s of [
      spec(),
      clean(spec({ durationS: undefined, frames: 123_456_789, rate: { unit: 'fps', value: 1e6 }, learningS: undefined, drainS: undefined })),
    ]) {
      expect(trialFromPb(wire(trialToPb(s)), 'trial', CAPS)).to.deep.equal(s);
    }
  });

  it('round-trips results with uint64 counters above 2^32 and a latency histogram', () => {
    const d = {
      fromPort: 0,
      toPort: 1,
      txFrames: 2 ** 40,
      rxFrames: 2 ** 40 - 5,
      lostFrames: 5,
      reordered: 1,
      duplicated: 0,
      foreign: 2,
      txBytes: 2 ** 46,
      rxBytes: 2 ** 46 - 320,
      latency: {
        minNs: 1000,
        avgNs: 1500.5,
        maxNs: 9000,
        percentilesNs: { p50: 1400, 'p99.9': 8000 },
        histogram: { lowerNs: [0, 1000, 2000], counts: [0, 2 ** 33, 7] },
        samples: 2 ** 33 + 7,
      },
    };
    const r: TrialResult = {
      ...d,
      offeredFps: 1e6,
      achievedTxFps: 999_999.5,
      rxFps: 999_990,
      lossPct: 1e-9,
      durationS: 30,
      wallS: 33.2,
      generatorLimited: false,
      directions: [d],
      info: { backend: 'af_xdp', cores: 2, ok: true },
    };
    const back = resultFromPb(pb.TrialResult.decode(pb.TrialResult.encode(resultToPb(r)).finish()));
    const { fromPort: _f, toPort: _t, ...total } = d;
    expect(back).to.deep.include({ ...total, offeredFps: 1e6, achievedTxFps: 999_999.5, lossPct: 1e-9, generatorLimited: false });
    expect(back.directions).to.deep.equal([d]);
    expect(back.info).to.deep.equal({ backend: 'af_xdp', cores: 2, ok: true });
  });

  it('keeps every valid frame size, rate and length (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 64, max: 9000 }),
        fc.double({ min: 0.001, max: 100, noNaN: true }),
        fc.integer({ min: 1, max: 2 ** 40 }),
        (size, pct, frames) => {
          const s = clean(spec({ stream: { ...spec().stream, frameSize: size }, rate: { unit: 'pct', value: pct }, durationS: undefined, frames }));
          expect(trialFromPb(wire(trialToPb(s)), 'trial', CAPS)).to.deep.equal(s);
        },
      ),
    );
  });

  it('names the field of a bad value', () => {
    const bad = (mut: (t: pb.TrialSpec) => void, caps = CAPS): string => {
      const t = trialToPb(spec());
      mut(t);
      try {
        trialFromPb(t, 'trial', caps);
      } catch (e) {
        expect(e).to.be.instanceOf(InvalidFieldError);
        return (e as InvalidFieldError).field;
      }
      throw new Error('accepted');
    };
    expect(bad((t) => (t.traffic!.stream!.frameSize = 9001))).to.equal('trial.traffic.stream.frame_size');
    expect(bad((t) => (t.traffic!.stream!.l3!.version = 5))).to.equal('trial.traffic.stream.l3.version');
    expect(bad((t) => (t.traffic!.stream!.l3!.dstIp = '::1'))).to.equal('trial.traffic.stream.l3.dst_ip');
    expect(bad((t) => (t.traffic!.stream!.l3!.proto = 'tcp'))).to.equal('trial.traffic.stream.l3.proto');
    expect(bad((t) => (t.traffic!.stream!.vlan!.priority = 8))).to.equal('trial.traffic.stream.vlan.priority');
    expect(bad((t) => (t.traffic!.stream!.multistream = 2_000_000))).to.equal('trial.traffic.stream.multistream');
    expect(bad((t) => (t.traffic!.stream!.streamType = 99 as pb.StreamType))).to.equal('trial.traffic.stream.stream_type');
    expect(bad((t) => (t.drainS = 61))).to.equal('trial.drain_s');
    expect(bad((t) => (t.length = { $case: 'frames', frames: 2n ** 60n }))).to.equal('trial.frames');
    expect(bad((t) => (t.traffic = undefined))).to.equal('trial.traffic');
    expect(bad(() => undefined, { ...CAPS, vlan: false })).to.equal('trial.traffic.stream.vlan.enabled');
    expect(bad(() => undefined, { ...CAPS, bidir: false })).to.equal('trial.traffic.bidir');
    const ports = (p: pb.Port[]): string => {
      try {
        portsFromPb(p);
      } catch (e) {
        return (e as InvalidFieldError).message;
      }
      throw new Error('accepted');
    };
    const ok = portToPb({ name: 'p', speedMbps: 10_000 });
    expect(ports([ok])).to.match(/^ports: needs at least 2 ports/);
    expect(ports([ok, { ...ok, speedMbps: 0 }])).to.match(/^ports\[1\]\.speed_mbps:/);
    expect(ports([ok, { ...ok, name: '' }])).to.match(/^ports\[1\]\.name:/);
    expect(ports([ok, { ...ok, ioBackend: 'netmap' }])).to.match(/^ports\[1\]\.io_backend:/);
  });

  describe('the receiver timeline (tgshim.v1.3)', () => {
    const T0 = 1_796_600_000_000.125; // epoch ms with a sub-ms part, as the engine's kernel timestamps give
    const timeline: ReceiverTimeline = {
      gapsMs: [
        [T0 + 1040.5, T0 + 1118.25],
        [T0 + 10, T0 + 12.75],
      ],
      firstRxMs: T0 + 0.4,
      lastRxMs: T0 + 3999.9,
      delayedFrames: 37,
      delayThresholdNs: 412_345.5,
      bins: { t0Ms: T0, binMs: 1, rxFrames: [1, 0, 3, 101], maxLatencyUs: [12, 0, 40, 141_000] },
    };
    const wire = (r: pb.ReceiverTimeline): pb.ReceiverTimeline => pb.ReceiverTimeline.decode(pb.ReceiverTimeline.encode(r).finish());

    it('crosses the wire unchanged, inside a result and without the optional parts', () => {
      expect(receiverFromPb(wire(receiverToPb(timeline)), 'r')).to.deep.equal(timeline);
      const bare: ReceiverTimeline = { gapsMs: [] };
      expect(receiverFromPb(wire(receiverToPb(bare)), 'r')).to.deep.equal(bare);
      const d = { fromPort: 0, toPort: 1, txFrames: 4000, rxFrames: 3900, lostFrames: 100, reordered: 0, duplicated: 0, foreign: 0, txBytes: 0, rxBytes: 0 };
      const r: TrialResult = {
        ...d,
        offeredFps: 1000,
        achievedTxFps: 1000,
        rxFps: 975,
        lossPct: 2.5,
        durationS: 4,
        wallS: 4.2,
        generatorLimited: false,
        directions: [{ ...d, receiver: timeline }],
        info: {},
      };
      const back = resultFromPb(pb.TrialResult.decode(pb.TrialResult.encode(resultToPb(r)).finish()));
      expect(back.directions[0]!.receiver).to.deep.equal(timeline);
      // A shim before 1.3 sends none: no receiver, as for a generator without a receiver clock.
      const old = resultToPb(r);
      delete old.directions[0]!.receiver;
      expect(resultFromPb(old).directions[0]).to.not.have.property('receiver');
    });

    it('refuses a malformed timeline with the field path, in one line', () => {
      const bad = (mut: (t: pb.ReceiverTimeline) => void): string => {
        const t = wire(receiverToPb(timeline));
        mut(t);
        const r = resultToPb({
          txFrames: 0,
          rxFrames: 0,
          lostFrames: 0,
          reordered: 0,
          duplicated: 0,
          foreign: 0,
          txBytes: 0,
          rxBytes: 0,
          offeredFps: 1,
          achievedTxFps: 1,
          rxFps: 1,
          lossPct: 0,
          durationS: 1,
          wallS: 1,
          generatorLimited: false,
          directions: [],
        });
        r.directions = [{ fromPort: 0, toPort: 1, receiver: t }];
        try {
          resultFromPb(r);
        } catch (e) {
          expect(e).to.be.instanceOf(InvalidFieldError);
          expect((e as Error).message).to.not.contain('\n');
          return (e as Error).message;
        }
        throw new Error('accepted');
      };
      expect(bad((t) => (t.gaps[1]!.endMs = t.gaps[1]!.startMs - 1))).to.match(/^result\.directions\[0\]\.receiver\.gaps\[1\]\.end_ms: .* is before start_ms/);
      expect(bad((t) => (t.gaps[0]!.startMs = Number.NaN))).to.match(/^result\.directions\[0\]\.receiver\.gaps\[0\]\.start_ms: must be a finite number/);
      expect(bad((t) => (t.gaps = Array.from({ length: 1025 }, () => ({ startMs: T0, endMs: T0 }))))).to.match(/\.gaps: 1025 silences, at most 1024/);
      expect(bad((t) => (t.lastRxMs = T0 - 1))).to.match(/\.last_rx_ms: .* is before first_rx_ms/);
      expect(bad((t) => (t.firstRxMs = -5))).to.match(/\.first_rx_ms: -5 ms is out of range/);
      expect(bad((t) => delete t.delayedFrames)).to.match(/\.delayed_frames: delay_threshold_ns and delayed_frames come together/);
      expect(bad((t) => (t.delayThresholdNs = 0))).to.match(/\.delay_threshold_ns: 0 ns is out of range/);
      expect(bad((t) => (t.delayedFrames = 2n ** 60n))).to.match(/\.delayed_frames: \d+ is out of range/);
      expect(bad((t) => (t.bins!.binMs = 0))).to.match(/\.bins\.bin_ms: 0 ms is out of range/);
      expect(bad((t) => t.bins!.maxLatencyUs.pop())).to.match(/\.bins\.max_latency_us: 3 bins, rx_frames has 4 \(parallel lists\)/);
      expect(bad((t) => (t.bins!.t0Ms = Number.POSITIVE_INFINITY))).to.match(/\.bins\.t0_ms: must be a finite number/);
    });
  });
});
