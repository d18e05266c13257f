/**
 * Fuzzing the gRPC shim (vsperf-tgshim, a real child process wrapping the Simulated generator, on
 * loopback): generated RunTrialRequest messages with hostile field values (NaN, ±Infinity, 1e-9 s,
 * 1e10 fps, huge frame counts, random strings and enum numbers) encoded with the generated codecs, and
 * random bytes sent to every method. Properties: a message the codec cannot decode, or a trial that
 * cannot be run as given, is answered INVALID_ARGUMENT; nothing is answered INTERNAL/UNKNOWN; a trial
 * that is run sent frames (never "0 % loss" of nothing); and the shim keeps serving (a good trial on the
 * same session passes after the fuzzing). Seed printed on failure (replay.ts).
 */
import { expect } from 'chai';
import fc from 'fast-check';
import * as grpc from '@grpc/grpc-js';
import * as pb from '../../../trafficgen/grpc/gen/tgshim/v1/tgshim.js';
import { pidAlive, startShim, type RunningShim } from '../grpc/helpers.js';
import { fuzz } from './replay.js';
import { trialToPb } from '../../../trafficgen/grpc/convert.js';
import { basicTrialSpec } from '../../../framework/api/example-spec.js';

/** Status codes that mean the shim failed rather than judged the request. */
const BROKEN = new Set([grpc.status.INTERNAL, grpc.status.UNKNOWN, grpc.status.UNAVAILABLE, grpc.status.DATA_LOSS]);

const weirdNumber = fc.oneof(
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 0, 1e-9, 1e-7, 1e10, 1e308, -0, 2 ** 53),
  fc.double(),
  fc.double({ min: 0.001, max: 0.05, noNaN: true }),
);
const smallInt = fc.oneof(fc.integer({ min: -5, max: 70_000 }), fc.constantFrom(0, 64, 1518, 9000, 9018, 2 ** 31 - 1));
const text = fc.oneof(
  fc.constantFrom('', '00:00:00:00:00:01', 'zz:zz', '10.0.0.1', '300.1.1.1', '::1', 'udp', 'tcp', 'aaddg', 'x'),
  fc.string({ maxLength: 12 }),
);

/** Mostly a valid value, sometimes a hostile one: each field alone decides, so both outcomes occur. */
const mostly = <T>(valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: hostile, weight: 1 });

/** A RunTrialRequest with every field drawn from plausible and hostile values. */
const trialRequest = (sessionId: string): fc.Arbitrary<pb.RunTrialRequest> =>
  fc
    .record({
      frameSize: mostly(fc.constantFrom(64, 128, 1518), smallInt),
      imix: mostly(fc.constant(''), text),
      srcMac: mostly(fc.constant('00:00:00:00:00:01'), text),
      l3: fc.boolean(),
      srcIp: mostly(fc.constant('10.0.0.1'), text),
      port: mostly(fc.integer({ min: 0, max: 65535 }), smallInt),
      vlan: mostly(fc.constant(false), fc.boolean()),
      vlanId: mostly(fc.integer({ min: 0, max: 4095 }), smallInt),
      multistream: mostly(fc.integer({ min: 0, max: 1000 }), smallInt),
      streamType: mostly(fc.integer({ min: 0, max: 3 }), fc.integer({ min: -1, max: 5 })),
      bidir: fc.boolean(),
      rate: mostly(
        fc.oneof(
          fc.double({ min: 1, max: 1e6, noNaN: true }).map((v) => ({ $case: 'fps' as const, fps: v })),
          fc.double({ min: 0.01, max: 100, noNaN: true }).map((v) => ({ $case: 'pct' as const, pct: v })),
        ),
        fc.oneof(
          weirdNumber.map((v) => ({ $case: 'fps' as const, fps: v })),
          weirdNumber.map((v) => ({ $case: 'pct' as const, pct: v })),
          fc.constant(undefined),
        ),
      ),
      length: mostly(
        fc.oneof(
          fc.double({ min: 0.001, max: 0.05, noNaN: true }).map((v) => ({ $case: 'durationS' as const, durationS: v })),
          fc.bigInt({ min: 1n, max: 2000n }).map((v) => ({ $case: 'frames' as const, frames: v })),
        ),
        fc.oneof(
          weirdNumber.map((v) => ({ $case: 'durationS' as const, durationS: v })),
          fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => ({ $case: 'frames' as const, frames: v })),
          fc.constant(undefined),
        ),
      ),
      learningS: mostly(fc.constant(0), weirdNumber),
    })
    .map((r) => ({
      sessionId,
      progressIntervalMs: 0,
      trial: {
        traffic: {
          stream: {
            frameSize: r.frameSize,
            imixGenome: r.imix,
            l2: { srcMac: r.srcMac, dstMac: '00:00:00:00:00:02' },
            l3: { enabled: r.l3, version: 4, proto: 'udp', srcIp: r.srcIp, dstIp: '10.0.0.2' },
            l4: { enabled: true, srcPort: r.port, dstPort: 3001 },
            vlan: { enabled: r.vlan, id: r.vlanId, priority: 0, cfi: 0 },
            multistream: r.multistream,
            streamType: r.streamType as pb.StreamType,
          },
          bidir: r.bidir,
          ...(r.rate ? { rate: { value: r.rate } } : {}),
          latency: false,
        },
        ...(r.length ? { length: r.length } : {}),
        learningS: r.learningS,
      },
    }));

/** Every method with the codec of its request, for the random-bytes property. */
const METHODS = Object.values(pb.TrafficGenShimServiceService).map((m) => ({
  path: m.path,
  stream: m.responseStream || m.requestStream,
  decode: (b: Buffer) => m.requestDeserialize(b),
}));

describe('fuzz: the gRPC shim answers malformed messages with INVALID_ARGUMENT and keeps serving', function () {
  this.timeout(180_000);
  let shim: RunningShim;
  let raw: pb.TrafficGenShimServiceClient;
  let sessionId: string;

  before(async () => {
    shim = await startShim(['--generator', 'Simulated']);
    raw = new pb.TrafficGenShimServiceClient(shim.address, grpc.credentials.createInsecure());
    const reserved = await new Promise<pb.ReserveResponse>((res, rej) =>
      raw.reserve(
        {
          clientName: 'fuzz',
          ports: [
            { ...pb.Port.create(), name: 'a', speedMbps: 10_000 },
            { ...pb.Port.create(), name: 'b', speedMbps: 10_000 },
          ],
          leaseS: 0,
        },
        (e, r) => (e ? rej(e) : res(r)),
      ),
    );
    sessionId = reserved.sessionId;
  });
  after(async () => {
    raw?.close();
    await shim?.stop();
    if (shim) expect(pidAlive(shim.child.pid), 'the shim process is gone after stop').to.equal(false);
  });

  /** A RunTrial call with an encoded request: the status it ended with and the frames of the result (if one came). */
  function runTrialBytes(bytes: Buffer): Promise<{ code: grpc.status; details: string; txFrames?: bigint }> {
    return new Promise((res) => {
      let txFrames: bigint | undefined;
      const id = (b: Buffer): Buffer => b;
      const c = raw.makeServerStreamRequest('/tgshim.v1.TrafficGenShimService/RunTrial', id, id, bytes, new grpc.Metadata(), { deadline: Date.now() + 20_000 });
      c.on('data', (b: Buffer) => {
        const m = pb.RunTrialResponse.decode(b);
        if (m.event?.$case === 'result') txFrames = m.event.result.total?.txFrames ?? 0n;
      });
      c.on('error', (e: grpc.ServiceError) => res({ code: e.code, details: e.details }));
      c.on('end', () => res({ code: grpc.status.OK, details: '', ...(txFrames !== undefined ? { txFrames } : {}) }));
    });
  }

  /** Encoded with the generated codec; undefined for values the wire type cannot carry (a negative uint32). */
  function encode(req: pb.RunTrialRequest): Buffer | undefined {
    try {
      return Buffer.from(pb.RunTrialRequest.encode(req).finish());
    } catch {
      return undefined;
    }
  }

  const runTrial = (req: pb.RunTrialRequest): ReturnType<typeof runTrialBytes> => runTrialBytes(encode(req)!);

  it('generated RunTrialRequest messages: OK with frames sent, or INVALID_ARGUMENT naming a field (≤ 300 runs, ≤ 30 s)', async () => {
    const seen = { ok: 0, invalid: 0 };
    await fuzz(
      'shim.test.js',
      fc.asyncProperty(trialRequest(sessionId), async (req) => {
        const bytes = encode(req);
        fc.pre(bytes !== undefined);
        const r = await runTrialBytes(bytes!);
        const what = `${JSON.stringify(req, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))} → ${grpc.status[r.code]}: ${r.details}`;
        expect([grpc.status.OK, grpc.status.INVALID_ARGUMENT], what).to.include(r.code);
        if (r.code === grpc.status.INVALID_ARGUMENT) {
          seen.invalid++;
          expect(r.details, what).to.match(/^(trial|session_id)[.:a-z_[\]0-9 ]*: ./);
        } else {
          seen.ok++;
          expect(r.txFrames, `${what}: a trial that ran must have sent frames`).to.be.a('bigint');
          expect(r.txFrames! > 0n, `${what}: a trial that ran must have sent frames`).to.equal(true);
        }
      }),
      300,
      30_000,
    );
    expect(seen.invalid, 'the generator produced malformed trials').to.be.greaterThan(0);
    expect(seen.ok, 'the generator produced trials that ran').to.be.greaterThan(0);
  });

  it('random bytes to every method: undecodable → INVALID_ARGUMENT, never INTERNAL/UNKNOWN (≤ 400 runs, ≤ 20 s)', async () => {
    const input = fc.record({ method: fc.constantFrom(...METHODS), bytes: fc.uint8Array({ maxLength: 64 }) });
    await fuzz(
      'shim.test.js',
      fc.asyncProperty(input, async ({ method, bytes }) => {
        let decodable = true;
        try {
          method.decode(Buffer.from(bytes));
        } catch {
          decodable = false;
        }
        const code = await rawCall(method.path, method.stream, Buffer.from(bytes));
        const what = `${method.path} with ${Buffer.from(bytes).toString('hex')} (${decodable ? 'decodable' : 'not decodable'}) → ${grpc.status[code.code]}: ${code.details}`;
        if (!decodable) expect(code.code, what).to.equal(grpc.status.INVALID_ARGUMENT);
        else expect(BROKEN.has(code.code), what).to.equal(false);
      }),
      400,
      20_000,
    );
  });

  /** A valid 64-byte trial at 1000 fps for 0.1 s, with `over` applied. */
  const goodTrial = (over: Partial<pb.TrialSpec> = {}, rate: NonNullable<pb.Rate['value']> = { $case: 'fps', fps: 1000 }): pb.RunTrialRequest => {
    const t = trialToPb(basicTrialSpec({ latency: false, durationS: 0.1 }));
    return { sessionId, progressIntervalMs: 0, trial: { ...t, traffic: { ...t.traffic!, rate: { value: rate } }, ...over } };
  };

  it("the issue's cases: duration_s = 1e-9 (no frame would be sent) and 1e10 fps on a 10G port are INVALID_ARGUMENT", async () => {
    const short = await runTrial(goodTrial({ length: { $case: 'durationS', durationS: 1e-9 } }));
    expect(short.code, short.details).to.equal(grpc.status.INVALID_ARGUMENT);
    expect(short.details).to.match(/^trial\.duration_s: /);
    const fast = await runTrial(goodTrial({}, { $case: 'fps', fps: 1e10 }));
    expect(fast.code, fast.details).to.equal(grpc.status.INVALID_ARGUMENT);
    expect(fast.details).to.match(/^trial\.traffic\.rate\.fps: /);
  });

  it('keeps serving: the process is alive and a good trial on the fuzzed session passes', async () => {
    expect(pidAlive(shim.child.pid)).to.equal(true);
    const good = await runTrial(goodTrial());
    expect(good.code, good.details).to.equal(grpc.status.OK);
    expect(good.txFrames).to.equal(100n);
  });

  /** One call with raw bytes as the request; resolves with its final status. */
  function rawCall(path: string, stream: boolean, bytes: Buffer): Promise<{ code: grpc.status; details: string }> {
    const id = (b: Buffer): Buffer => b;
    return new Promise((res) => {
      const done = (e: grpc.ServiceError | null): void => res({ code: e ? e.code : grpc.status.OK, details: e?.details ?? '' });
      const opts = { deadline: Date.now() + 10_000 };
      if (!stream) {
        raw.makeUnaryRequest(path, id, id, bytes, new grpc.Metadata(), opts, (e) => done(e));
        return;
      }
      const listen = (c: grpc.ClientReadableStream<Buffer> | grpc.ClientDuplexStream<Buffer, Buffer>): void => {
        c.on('data', () => undefined);
        c.on('error', (e: grpc.ServiceError) => done(e));
        c.on('end', () => done(null));
      };
      if (path.endsWith('/RunTrials')) {
        const c = raw.makeBidiStreamRequest(path, id, id, new grpc.Metadata(), opts);
        listen(c);
        c.write(bytes);
        c.end();
      } else listen(raw.makeServerStreamRequest(path, id, id, bytes, new grpc.Metadata(), opts));
    });
  }
});
