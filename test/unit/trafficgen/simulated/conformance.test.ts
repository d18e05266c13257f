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

/**
 * A generator whose host stalls now and then: every other trial comes back flagged generatorLimited (its
 * own shortfall, counters intact), as the Software engine's do on a loaded box. The kit runs such a trial
 * again instead of failing the driver.
 */
class StallingGenerator extends SimulatedGenerator {
  private calls = 0;
  override async runTrial(...args: Parameters<SimulatedGenerator['runTrial']>): ReturnType<SimulatedGenerator['runTrial']> {
    const r = await super.runTrial(...args);
    return this.calls++ % 2 === 0 ? { ...r, generatorLimited: true, info: { ...r.info, generatorLimitedBy: 'tx-rate' } } : r;
  }
}

describeTrafficGenerator(
  'Simulated with a stalling host (every other trial flagged generatorLimited)',
  async () => ({
    generator: new StallingGenerator(new SimulatedDut({ capacityFps: 1e6 }), { generatorMaxFps: 5e6 }),
    ports: [
      { name: 'sim0', speedMbps: 10_000 },
      { name: 'sim1', speedMbps: 10_000 },
    ],
    close: async () => undefined,
  }),
  { lossFreeRateFps: 100_000, computesInstantly: true },
);
