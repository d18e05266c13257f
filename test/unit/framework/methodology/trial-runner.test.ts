import { expect } from 'chai';
import { TrialRunner, invalidReason } from '../../../../framework/methodology/trial-runner.js';
import { getMethodology } from '../../../../framework/methodology/index.js';
import { AbortedError } from '../../../../framework/errors.js';
import { simContext, outcome, LINE_64 } from './helpers.js';
import type { TrialHooks, TrialSpec } from '../../../../framework/api/trafficgen.js';

describe('TrialRunner', () => {
  it('builds the TrialSpec from TRAFFIC and the request, passes per-trial learning, calls topology hooks and emits events', async () => {
    const { ctx, gen } = await simContext(
      { capacityFps: 1e6 },
      { TRAFFICGEN_TRIAL_LEARNING_DURATION: 2, TRAFFIC: { bidir: 'False', multistream: 16, stream_type: 'L3' } },
    );
    const specs: TrialSpec[] = [];
    const run = gen.runTrial.bind(gen);
    gen.runTrial = async (s, sig) => {
      specs.push(s);
      return run(s, sig);
    };
    const calls: string[] = [];
    const events: string[] = [];
    ctx.events.on('trial:start', () => events.push('start'));
    ctx.events.on('trial:end', () => events.push('end'));
    const c = {
      ...ctx,
      topology: {
        generatorPorts: [],
        beforeTrial: async () => void calls.push('before'),
        afterTrial: async () => (calls.push('after'), { rx_packets: 1 }),
      } as never,
    };
    const r = new TrialRunner(c, 64);
    const o = await r.measure({ rateFps: 5e5, durationS: 3, purpose: 'x', goal: 'NDR' });
    expect(o.valid).to.equal(true);
    expect(specs[0]).to.include({ bidir: false, durationS: 3, learningS: 2, latency: true });
    expect(specs[0]!.rate).to.deep.equal({ unit: 'fps', value: 5e5 });
    expect(specs[0]!.stream).to.include({ multistream: 16, streamType: 'L3', frameSize: 64 });
    expect(calls).to.deep.equal(['before', 'after']);
    expect(events).to.deep.equal(['start', 'end']);
    expect(r.trials[0]).to.include({ index: 0, purpose: 'x', goal: 'NDR', rateFps: 5e5, durationS: 3, valid: true });
    expect(r.trials[0]!.switchCounters).to.deep.equal({ rx_packets: 1 });
    expect(r.trials[0]!.wallS).to.be.a('number');
    expect(r.lineRateFps).to.be.closeTo(LINE_64, 1e-6);
    // Request overrides of the stream (RFC 2889 probes).
    await r.measure({ rateFps: 1000, frames: 10, multistream: 10, streamType: 'L2', l2: { srcMac: '02:00:00:00:00:00', dstMac: '06:00:00:00:00:00' } });
    expect(specs[1]!.stream).to.include({ multistream: 10, streamType: 'L2' });
    expect(specs[1]!.stream.l2.srcMac).to.equal('02:00:00:00:00:00');
    expect(specs[1]!.frames).to.equal(10);
    expect(specs[1]!.durationS).to.equal(undefined);
  });

  it("reads the switch's counters through the generator's beforeRelease hook, while the generator holds its ports; after the trial when it does not call it", async () => {
    const { ctx, gen } = await simContext({ capacityFps: 1e6 });
    let holding = false;
    let callHook = true;
    // A generator that holds its ports until the hook returned (as the Software engine with --hold).
    const holder = Object.assign(Object.create(gen) as typeof gen, {
      runTrial: async (s: TrialSpec, sig?: AbortSignal, _p?: unknown, hooks?: TrialHooks) => {
        const r = await gen.runTrial(s, sig);
        holding = true;
        if (callHook) await hooks?.beforeRelease?.();
        holding = false;
        return r;
      },
    });
    const seen: boolean[] = [];
    const c = { ...ctx, generator: holder, topology: { generatorPorts: [], afterTrial: async () => (seen.push(holding), { held: holding }) } as never };
    const r = new TrialRunner(c, 64);
    await r.measure({ rateFps: 1000, durationS: 1 });
    expect(seen).to.deep.equal([true]);
    expect(r.trials[0]!.switchCounters).to.deep.equal({ held: true });
    // A generator that ignores the hook: the counters are read once, after the trial.
    callHook = false;
    await r.measure({ rateFps: 1000, durationS: 1 });
    expect(seen).to.deep.equal([true, false]);
    expect(r.trials[1]!.switchCounters).to.deep.equal({ held: false });
  });

  it('reads the counters once per trial however often a generator calls the hook, and a swallowed hook error still fails the trial', async () => {
    const { ctx, gen } = await simContext({ capacityFps: 1e6 });
    let mode: 'twice' | 'swallow' = 'twice';
    const late: Promise<void>[] = [];
    const sloppy = Object.assign(Object.create(gen) as typeof gen, {
      runTrial: async (s: TrialSpec, sig?: AbortSignal, _p?: unknown, hooks?: TrialHooks) => {
        const r = await gen.runTrial(s, sig);
        if (mode === 'twice') {
          await Promise.all([hooks?.beforeRelease?.(), hooks?.beforeRelease?.()]);
          // ...and once more after the trial returned
          late.push(new Promise<void>((res) => setTimeout(() => void Promise.resolve(hooks?.beforeRelease?.()).finally(() => res()), 10)));
        } else await hooks?.beforeRelease?.().catch(() => undefined);
        return r;
      },
    });
    let reads = 0;
    let fail = false;
    const topology = {
      generatorPorts: [],
      afterTrial: async () => {
        reads++;
        await new Promise((r) => setTimeout(r, 20));
        if (fail) throw new Error('ovs-ofctl dump-ports: connection refused');
        return { read: reads };
      },
    };
    const r = new TrialRunner({ ...ctx, generator: sloppy, topology: topology as never }, 64);
    await r.measure({ rateFps: 1000, durationS: 1 });
    await Promise.all(late);
    expect(reads).to.equal(1);
    expect(r.trials[0]!.switchCounters).to.deep.equal({ read: 1 });
    mode = 'swallow';
    fail = true;
    const err = await r.measure({ rateFps: 1000, durationS: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String(err)).to.match(/connection refused/);
    expect(reads).to.equal(2);
  });

  it('an aborted trial returns only after the read its generator started has ended (none runs on into teardown)', async () => {
    const { ctx, gen } = await simContext({ capacityFps: 1e6 });
    const ac = new AbortController();
    const quitter = Object.assign(Object.create(gen) as typeof gen, {
      runTrial: async (s: TrialSpec, sig?: AbortSignal, _p?: unknown, hooks?: TrialHooks) => {
        await gen.runTrial(s, sig);
        void hooks?.beforeRelease?.().catch(() => undefined);
        ac.abort();
        throw new AbortedError('aborted while the counters were read');
      },
    });
    let readEnded = false;
    const topology = {
      generatorPorts: [],
      afterTrial: async () => {
        await new Promise((r) => setTimeout(r, 100));
        readEnded = true;
        return {};
      },
    };
    const r = new TrialRunner({ ...ctx, signal: ac.signal, generator: quitter, topology: topology as never }, 64);
    const err = await r.measure({ rateFps: 1000, durationS: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(AbortedError);
    expect(readEnded, 'the read had ended when the trial failed').to.equal(true);
  });

  it('stops with AbortedError when the run is aborted', async () => {
    const { ctx } = await simContext({ capacityFps: 1e6 });
    const ac = new AbortController();
    ac.abort();
    let err: unknown;
    try {
      await new TrialRunner({ ...ctx, signal: ac.signal }, 64).measure({ rateFps: 1e5 });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(AbortedError);
  });

  it('classifies validity: generator-limited, nothing sent, tx shortfall', () => {
    const req = { rateFps: 1e6, durationS: 1 };
    expect(invalidReason(req, outcome(req, 0).result)).to.equal(undefined);
    expect(invalidReason(req, outcome(req, 0, { limitedAt: 5e5 }).result)).to.match(/generator-limited/);
    expect(invalidReason(req, { ...outcome(req, 0).result, txFrames: 0 })).to.match(/no frames/);
    expect(invalidReason(req, { ...outcome(req, 0).result, achievedTxFps: 0.95e6 })).to.match(/below the 1000000 fps offered/);
  });

  it('uses the IMIX average frame size for line rate and adds VSPERF imix columns', async () => {
    const { ctx } = await simContext(
      { capacityFps: 1e5 },
      { TRAFFIC: { imix: { enabled: true, genome: 'aaaaaaaddddg' } }, TRAFFICGEN_TREX_LEARNING_MODE: false },
    );
    const r = new TrialRunner(ctx, 64);
    expect(r.l2FrameSize).to.be.closeTo((7 * 64 + 4 * 512 + 1518) / 12, 1e-9);
    const out = await (await getMethodology('rfc2544_continuous'))(ctx);
    expect(out.rows[0]).to.include({ imix_genome: 'aaaaaaaddddg', imix_avg_framesize: 334.5 });
  });
});
