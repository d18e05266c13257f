// The vsperf-ts conformance kit on TemplateGen, over a veth pair between two network namespaces
// (needs root, ip and socat).
import { conformanceHost, describeTrafficGenerator } from 'vsperf-ts/conformance';
import { TemplateGen } from '../template-gen.js';

const NS = ['tplc-a', 'tplc-b'];

describeTrafficGenerator(
  'TemplateGen',
  async () => {
    const { host, release } = conformanceHost('template');
    for (const ns of NS) await host.createNetns(ns);
    await host.createVethPair('tplc0', 'tplc1', { aNetns: NS[0], bNetns: NS[1] });
    return {
      generator: new TemplateGen(host, { maxFps: 20_000, drainS: 0.3 }),
      ports: [
        { name: 'tplc0', netns: NS[0], speedMbps: 10_000 },
        { name: 'tplc1', netns: NS[1], speedMbps: 10_000 },
      ],
      close: release,
    };
  },
  { lossFreeRateFps: 1000, durationS: 1 },
);
