/**
 * `trafficgen get_results` in TestSteps: VSPERF's is the last send_traffic's rows (its configure()
 * empties the list before each send), so a testcase that sends twice checks the second trial. And a
 * failing check on a trial the sandbox could not carry says so (E_SANDBOX_CAPACITY), one line.
 */
import { expect } from 'chai';
import { Settings } from '../../../../framework/config/settings.js';
import { silentLogger } from '../../../../framework/log/logger.js';
import { runStepsTestcase } from '../../../../framework/runner/steps-testcase.js';
import { parseTestSteps } from '../../../../framework/steps/steps.js';
import type { Host } from '../../../../framework/host/host.js';
import type { MethodologyOutput, TrialRecord } from '../../../../framework/methodology/context.js';
import type { ResultRow } from '../../../../framework/methodology/types.js';
import type { PyValue } from '../../../../framework/steps/pyvalue.js';

const mbps = (fps: number): number => (fps * 64 * 8) / 1e6;
function output(txFps: number, rxFps: number, policerDrops: number, requestedFps = 14880952): MethodologyOutput {
  const row: ResultRow = { packet_size: 64, tx_rate_fps: txFps, throughput_rx_fps: rxFps, tx_rate_mbps: mbps(txFps), throughput_rx_mbps: mbps(rxFps) };
  const trial = {
    index: 0,
    frameSize: 64,
    purpose: 'continuous',
    rateFps: txFps,
    requestedFps,
    valid: true,
    startedAt: '',
    result: { txFrames: txFps * 30, achievedTxFps: txFps },
    switchCounters: {
      vswitch: 'OvsDpdkVhost',
      ports: [
        {
          name: 'dpdk0',
          ofport: 1,
          rxPackets: txFps * 30,
          txPackets: 0,
          rxDropped: policerDrops,
          txDropped: 0,
          rxPolicerDropped: policerDrops,
          txPolicerDropped: 0,
        },
        { name: 'dpdk1', ofport: 2, rxPackets: 0, txPackets: rxFps * 30, rxDropped: 0, txDropped: 0, rxPolicerDropped: 0, txPolicerDropped: 0 },
      ],
      generatorPorts: [
        { index: 0, port: 'dpdk0', rxFromGenerator: txFps * 30, txToGenerator: 0 },
        { index: 1, port: 'dpdk1', rxFromGenerator: 0, txToGenerator: rxFps * 30 },
      ],
    },
  } as unknown as TrialRecord;
  return { rows: [row], trials: [trial] };
}

async function run(steps: PyValue, sends: MethodologyOutput[]) {
  let n = 0;
  return runStepsTestcase({
    steps: parseTestSteps(steps, 'test'),
    integration: true,
    settings: new Settings({}),
    traffic: async () => sends[n++]!,
    validateRows: () => undefined,
    log: silentLogger,
    host: {} as Host,
    workDir: '/tmp',
    signal: new AbortController().signal,
  });
}

const RATE = (kbit: number): string => `abs(1-float(#STEP[-1][0]["throughput_rx_mbps"])*1000*(1-18/float(#STEP[-1][0]["packet_size"]))/float(${kbit}))*100 < 5`;

describe('TestSteps trafficgen get_results', () => {
  it('is the last send_traffic’s rows; the report keeps every send’s', async () => {
    // ovsdpdk_rate_p2p: 10000 then 20000 kbit/s; the policer meters 46 of 64 B (27174 and 54348 fps)
    const steps = [
      ['trafficgen', 'send_traffic', {}],
      ['trafficgen', 'get_results'],
      ['tools', 'assert', RATE(10000)],
      ['trafficgen', 'send_traffic', {}],
      ['trafficgen', 'get_results'],
      ['tools', 'assert', RATE(20000)],
    ];
    const out = await run(steps, [output(293500, 27846, 7_000_000), output(293500, 54990, 6_000_000)]);
    expect(out.status.details).to.equal('');
    expect(out.status.ok).to.equal(true);
    expect(out.rows.map((r) => r.throughput_rx_fps)).to.deep.equal([27846, 54990]);
  });

  it('a check the generator could not offer enough for fails with E_SANDBOX_CAPACITY; a policer cutting below it with E_STEP_FAILED', async () => {
    const steps = [
      ['trafficgen', 'send_traffic', {}],
      ['trafficgen', 'get_results'],
      ['tools', 'assert', 'int(#STEP[-1][0]["throughput_rx_mbps"])>500'],
    ];
    const capacity = await run(steps, [output(293500, 279600, 0)]);
    expect(capacity.status).to.deep.include({ ok: false, failedStep: 2, code: 'E_SANDBOX_CAPACITY' });
    expect(capacity.status.details).to.match(/^the sandbox's generator offered at most 293500 fps of 64 B frames .* needs ≥ 978516 fps received/);
    const defect = await run(steps, [output(293500, 27846, 7_000_000)]);
    expect(defect.status).to.deep.include({ ok: false, failedStep: 2 });
    expect(defect.status.code).to.equal(undefined);
    expect(defect.status.details).to.match(/AssertionError/);
  });
});
