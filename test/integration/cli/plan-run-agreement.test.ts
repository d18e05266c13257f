/**
 * "Whatever --dry-run accepts, the run accepts": every catalogue testcase under a set of parameter
 * mutations goes through validatePlan (the dry run's and the run's one validation); each one it
 * accepts is then really run with the Simulated generator, and none of those may fail with an error
 * of the usage class (exit 2: E_CONFIG, E_USAGE, E_CAPABILITY…), i.e. one the dry run should have
 * reported. Errors of other classes (E_NO_THROUGHPUT for a DUT that drops everything) are outcomes.
 * Every row of every run has the verdict columns validity and validity_reasons.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config, type TestcaseDef } from '../../../framework/config/load.js';
import { parseTestParamsOption } from '../../../framework/config/test-params.js';
import { VsperfError } from '../../../framework/errors.js';
import { createLogger } from '../../../framework/log/logger.js';
import { Registry } from '../../../framework/registry/registry.js';
import { RunEvents } from '../../../framework/runner/events.js';
import { validatePlan } from '../../../framework/runner/plan.js';
import { runTestcases } from '../../../framework/runner/run.js';
import { registerBuiltins } from '../../../drivers.js';

/** Error codes the CLI exits 2 with (VsperfError kind 'usage'): the dry run must catch these. */
const USAGE_CODES = new Set(['E_USAGE', 'E_CONFIG', 'E_PARSE', 'E_PLUGIN', 'E_CAPABILITY', 'E_PATH', 'E_ENCODING']);

/** Fast, quiet runs: 1 s trials (computed, not waited for), no reports, archive or collectors. */
const BASE =
  "TRAFFICGEN_DURATION=1;TRAFFICGEN_LATENCY_DURATION=1;TRAFFICGEN_TREX_LEARNING_MODE=False;REPORT_HTML=False;REPORT_MARKDOWN=False;RESULTS_ARCHIVE='';COLLECTOR='none'";

/** Parameter mutations a user might write; each is applied to every catalogue testcase. */
const MUTATIONS = [
  '',
  'TRAFFICGEN_PKT_SIZES=(64,1518,9018)',
  'TRAFFICGEN_PKT_SIZES=(9000,)',
  "TRAFFIC={'bidir':'False','multistream':65536,'stream_type':'L3'}",
  "TRAFFIC={'frame_rate':0}",
  "TRAFFIC={'frame_rate':0.001,'burst_size':1}",
  "TRAFFIC={'imix':{'enabled':True,'genome':'aaaddg'}}",
  "TRAFFIC={'vlan':{'enabled':True,'id':4095,'priority':7,'cfi':1},'l3':{'enabled':False},'l4':{'enabled':False}}",
  'TRAFFICGEN_LOSSRATE=100',
  "SIMULATED_DUT={'curve':'soft','noise':0.05,'spike_probability':1,'overload_collapse':1}",
  "SIMULATED_DUT={'curve':'points','points':[[0,0],[5e5,0.5]],'generator_max_fps':1}",
  'TRAFFICGEN_RFC2544_TESTS=2;TRAFFICGEN_TREX_VERIFICATION_MODE=True;TRAFFICGEN_TREX_VERIFICATION_DURATION=1',
  'TRAFFICGEN_DURATION=0.000001',
  'TRAFFICGEN_PORT_SPEED_MBPS=1',
  'TRAFFICGEN_LATENCY_LOAD_PCT=50;TRAFFICGEN_LATENCY_TRIALS=2',
  "TRAFFICGEN_NDR_PDR={'preset':'rfc2544','max_trials':5}",
  "TRAFFICGEN_NDR_PDR={'goals':[{'name':'X','loss_ratio':0.5}],'min_load_fps':1000,'max_load_fps':100}",
  'TRAFFICGEN_RFC2889_MIN_ADDRS=70000;TRAFFICGEN_RFC2889_MAX_ADDRS=10;TRAFFICGEN_RFC2889_MIN_LR=20000',
  "MODE='trafficgen';TRAFFICGEN_PORTS=[{'name':'a'}]",
  "VSWITCH='none';FRAME_MOD='vlan'",
];

const silent = createLogger(() => undefined, 'critical');

describe('plan and run agree: whatever --dry-run accepts, the run accepts (every catalogue testcase × mutations, Simulated)', function () {
  this.timeout(300_000);
  let dir: string;
  let registry: Registry;
  const savedState = process.env.VSPERF_STATE_DIR;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vsperf-agree-'));
    process.env.VSPERF_STATE_DIR = join(dir, 'state');
    registry = new Registry();
    registerBuiltins(registry);
  });
  after(() => {
    if (savedState === undefined) delete process.env.VSPERF_STATE_DIR;
    else process.env.VSPERF_STATE_DIR = savedState;
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs every testcase the plan accepts, and none fails with a usage-class error', async () => {
    const tally = { accepted: 0, rejected: 0 };
    let rowsChecked = 0;
    for (const [m, mutation] of MUTATIONS.entries()) {
      let config: Config;
      try {
        config = new Config({
          testParams: parseTestParamsOption(`${BASE};${mutation}`),
          cliFlags: [
            { source: '--trafficgen', values: { TRAFFICGEN: 'Simulated' } },
            { source: '--results-dir', values: { RESULTS_PATH: join(dir, `m${m}`) } },
          ],
        });
      } catch (e) {
        // Rejected for every testcase at once (the settings themselves are wrong).
        expect((e as VsperfError).exitCode, `${mutation}: ${(e as Error).message}`).to.equal(2);
        tally.rejected++;
        continue;
      }
      const accepted: TestcaseDef[] = [];
      for (const tc of config.testcases()) {
        try {
          await validatePlan(config, registry, [tc]);
          accepted.push(tc);
        } catch (e) {
          expect(e, `${tc.name} with ${mutation}: a rejection must be a usage-class VsperfError`).to.be.instanceOf(VsperfError);
          expect((e as VsperfError).exitCode, `${tc.name} with ${mutation}: ${(e as Error).message}`).to.equal(2);
          tally.rejected++;
        }
      }
      tally.accepted += accepted.length;
      if (!accepted.length) continue;
      const run = await runTestcases({
        config,
        registry,
        testcases: accepted,
        log: silent,
        events: new RunEvents(),
        argv: [],
        signal: new AbortController().signal,
      });
      for (const r of run.testcases) {
        const why = `${r.name} with "${mutation}": ${r.error?.code}: ${r.error?.message}`;
        expect(USAGE_CODES.has(r.error?.code ?? ''), `the dry run accepted what the run rejected: ${why}`).to.equal(false);
        expect(r.error?.code, why).to.not.equal('E_BUG');
        // Every CSV row of every testcase carries its verdict (framework/fidelity), simulated or not.
        for (const row of r.rows) expect(row, `${r.name} with "${mutation}"`).to.include.keys('validity', 'validity_reasons');
        if (r.rows.length) rowsChecked++;
      }
    }
    // The mutations must exercise both sides, or the property holds vacuously.
    expect(tally.accepted).to.be.greaterThan(MUTATIONS.length * 10);
    expect(tally.rejected).to.be.greaterThan(MUTATIONS.length);
    expect(rowsChecked, 'testcases with rows whose verdict columns were checked').to.be.greaterThan(MUTATIONS.length * 5);
  });
});
