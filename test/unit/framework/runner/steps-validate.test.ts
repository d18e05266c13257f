/**
 * A `trafficgen send_traffic` step is validated as VSPERF validates it (nothing forwarded fails the
 * step); the step's one line then says why, with the row check's own code and words, not only that
 * validation failed. The rows go through the runner's own check (validateRows).
 */
import { expect } from 'chai';
import { Settings } from '../../../../framework/config/settings.js';
import { silentLogger } from '../../../../framework/log/logger.js';
import { validateRows } from '../../../../framework/runner/run.js';
import { runStepsTestcase } from '../../../../framework/runner/steps-testcase.js';
import { parseTestSteps } from '../../../../framework/steps/steps.js';
import type { Host } from '../../../../framework/host/host.js';
import type { ResultRow } from '../../../../framework/methodology/types.js';
import type { PyValue } from '../../../../framework/steps/pyvalue.js';

async function send(step: PyValue[], row: ResultRow) {
  return runStepsTestcase({
    steps: parseTestSteps([step, ['tools', 'assert', 'True']], 'test'),
    integration: true,
    settings: new Settings({}),
    traffic: async () => ({ rows: [row], trials: [] }),
    validateRows,
    log: silentLogger,
    host: {} as Host,
    workDir: '/tmp',
    signal: new AbortController().signal,
  });
}

describe('TestSteps send_traffic validation', () => {
  it('a send that forwarded nothing fails its step with the reason (E_NO_THROUGHPUT), one line', async () => {
    const out = await send(['trafficgen', 'send_traffic', {}], { packet_size: 64, tx_rate_fps: 1000, throughput_rx_fps: 0 });
    expect(out.status).to.deep.include({ ok: false, failedStep: 0 });
    expect(out.status.details).to.match(/E_STEP_VALIDATION: E_NO_THROUGHPUT: 64 B: nothing was forwarded at any rate tried$/);
    expect(out.status.details).to.not.match(/\n/);
  });

  it('a search that never had a valid trial says the generator could not offer a rate (E_GENERATOR_LIMITED)', async () => {
    const out = await send(['trafficgen', 'send_traffic', {}], { packet_size: 128, throughput_rx_fps: 0, search_status: 'no valid trial (generator limited)' });
    expect(out.status).to.deep.include({ ok: false, failedStep: 0 });
    expect(out.status.details).to.match(
      /E_STEP_VALIDATION: E_GENERATOR_LIMITED: 128 B: the generator could not offer any rate tried: no valid trial \(generator limited\)$/,
    );
  });

  it("a send that forwarded frames passes; '!' skips the check as in VSPERF", async () => {
    expect((await send(['trafficgen', 'send_traffic', {}], { packet_size: 64, throughput_rx_fps: 10 })).status).to.deep.include({ ok: true });
    expect((await send(['!trafficgen', 'send_traffic', {}], { packet_size: 64, throughput_rx_fps: 0 })).status).to.deep.include({ ok: true });
  });
});
