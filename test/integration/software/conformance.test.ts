/** The framework's TrafficGenerator conformance kit, run on the Software generator over a veth pair. */
import { describeTrafficGenerator } from '../../../framework/conformance/index.js';
import { SoftwareGenerator } from '../../../trafficgen/software/driver.js';
import { makeHost, quietNetns } from './helpers.js';

describeTrafficGenerator(
  'Software',
  async () => {
    const host = makeHost('software-conformance');
    for (const ns of ['vsg-cf-a', 'vsg-cf-b']) {
      await host.createNetns(ns);
      await quietNetns(ns);
    }
    await host.createVethPair('vsgc0', 'vsgc1', { aNetns: 'vsg-cf-a', bNetns: 'vsg-cf-b' });
    return {
      generator: new SoftwareGenerator(host, { calibrateS: 0, drainS: 3 }),
      ports: [
        { name: 'vsgc0', netns: 'vsg-cf-a', speedMbps: 10_000 },
        { name: 'vsgc1', netns: 'vsg-cf-b', speedMbps: 10_000 },
      ],
      close: async () => {
        await host.cleanup.unwind();
        host.journal.close();
      },
    };
  },
  { lossFreeRateFps: 10_000, durationS: 1 },
);
