/**
 * ixnetwork_trial_overhead_ms for `npm run bench -- grpc`: what the IxNetwork backend adds around the
 * traffic of a trial, against the strict fake IxNetwork in this process (no chassis here). Per trial:
 * whole-trial wall time (runTrial) minus the traffic time (frames ÷ rate); median over 50 trials.
 * It is the REST procedure (traffic item, endpoint sets, stacks and fields, generate, apply, clearstats,
 * start, state polls, Flow Statistics) on loopback; a real API server adds its own operation times.
 * Run alone: node dist/bench/_ixnetwork-overhead.js
 */
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { IxNetworkGenerator } from '../trafficgen/grpc/backends/ixnetwork/backend.js';
import { basicTrialSpec } from '../framework/api/example-spec.js';
import { FakeIxNetwork } from '../test/fixtures/ixnetwork-fake/server.js';

export async function ixnetworkOverhead(n = 50): Promise<Record<string, number | string>> {
  const fake = new FakeIxNetwork({ opDelayMs: 0, links: 'absolute' });
  const url = await fake.start();
  const pollMs = 10;
  const gen = new IxNetworkGenerator({ baseUrl: url, platform: 'linux', user: 'admin', password: 'admin', pollMs });
  try {
    await gen.connect([
      { name: '10.0.0.5;1;1', speedMbps: 10_000 },
      { name: '10.0.0.5;1;2', speedMbps: 10_000 },
    ]);
    const fps = 100_000;
    const frames = 1000;
    const spec = {
      ...basicTrialSpec({ rate: { unit: 'fps', value: fps }, bidir: true, latency: true, drainS: 0 }, { multistream: 100, streamType: 'L3' }),
      durationS: undefined,
      frames,
    };
    const over: number[] = [];
    const requests: number[] = [];
    for (let i = 0; i < n + 3; i++) {
      const before = fake.requests.length;
      const t0 = process.hrtime.bigint();
      await gen.runTrial(spec);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (i >= 3) {
        over.push(ms - (frames / fps) * 1000);
        requests.push(fake.requests.length - before);
      }
    }
    const s = [...over].sort((a, b) => a - b);
    const med = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
    return {
      ixnetwork_trial_overhead_ms: Math.round(med * 100) / 100,
      ixnetwork_trial_overhead_ms_min: Math.round(s[0]! * 100) / 100,
      ixnetwork_trials: n,
      ixnetwork_rest_requests_per_trial: requests[0]!,
      ixnetwork_conditions: `strict fake IxNetwork in-process (absolute links, operations done at once, 202 then one poll), poll interval ${pollMs} ms, bidirectional ${frames}-frame trials at ${fps} fps with an L3 multistream of 100, drain 0`,
    };
  } finally {
    await gen.close();
    await fake.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await ixnetworkOverhead();
  console.log(JSON.stringify({ ...r, load_average_1m: Math.round(loadavg()[0]! * 100) / 100 }));
}
