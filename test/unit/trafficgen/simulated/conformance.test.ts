import { describeTrafficGenerator } from '../../../../framework/conformance/index.js';
import { SimulatedGenerator } from '../../../../trafficgen/simulated/driver.js';
import { SimulatedDut } from '../../../../trafficgen/simulated/dut.js';

describeTrafficGenerator(
  'Simulated',
  async () => ({
    generator: new SimulatedGenerator(new SimulatedDut({ capacityFps: 1e6 }), { generatorMaxFps: 5e6 }),
    ports: [
      { name: 'sim0', speedMbps: 10_000 },
      { name: 'sim1', speedMbps: 10_000 },
    ],
    close: async () => undefined,
  }),
  { lossFreeRateFps: 100_000, computesInstantly: true },
);
