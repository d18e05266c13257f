/**
 * InfluxDB export against a real InfluxDB 1.x (`influxd`) started here on loopback with its own config
 * and directories, and stopped afterwards; what was written is queried back.
 */
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterRun, PostRunError } from '../../../framework/results/post-run.js';
import { influxQuery, exportRun, ExportError } from '../../../framework/export/influx.js';
import { commandExists } from '../../../framework/host/exec.js';
import { waitUntil } from '../../../framework/host/proc.js';
import { makeRunResults, writeResultsDir } from '../../fixtures/results/make.js';
import { freePort, leftovers, makeCtx, settingsWith, type TestCtx } from './helpers.js';
import { silentLogger } from '../../../framework/log/logger.js';

interface InfluxSeries {
  results: { series?: { name: string; columns: string[]; values: unknown[][] }[]; error?: string }[];
}

describe('InfluxDB export (real influxd 1.x on loopback)', function () {
  this.timeout(120_000);
  let t: TestCtx;
  let dir: string;
  let url: string;
  let pgid = 0;

  before(async () => {
    expect(await commandExists('influxd'), 'influxd missing: npm run setup installs Debian influxdb').to.equal(true);
    dir = mkdtempSync('/tmp/vsr-influx-');
    const [http, rpc] = [await freePort(), await freePort()];
    url = `http://127.0.0.1:${http}`;
    const conf = join(dir, 'influxdb.conf');
    writeFileSync(
      conf,
      [
        'reporting-disabled = true',
        `bind-address = "127.0.0.1:${rpc}"`,
        '[meta]',
        `  dir = "${dir}/meta"`,
        '[data]',
        `  dir = "${dir}/data"`,
        `  wal-dir = "${dir}/wal"`,
        '  query-log-enabled = false',
        '[retention]',
        '  enabled = false',
        '[shard-precreation]',
        '  enabled = false',
        '[monitor]',
        '  store-enabled = false',
        '[http]',
        '  enabled = true',
        `  bind-address = "127.0.0.1:${http}"`,
        '  log-enabled = false',
        '[continuous_queries]',
        '  enabled = false',
        '',
      ].join('\n'),
    );
    t = makeCtx();
    const child = await t.ctx.host.spawn(['influxd', '-config', conf], { label: 'stop influxd', logFile: join(dir, 'influxd.log') });
    pgid = child.pid;
    const up = await waitUntil(
      async () => {
        try {
          return (await fetch(`${url}/ping`)).status === 204;
        } catch {
          return false;
        }
      },
      30_000,
      200,
    );
    expect(up, `influxd did not answer /ping: ${child.tail(5)}`).to.equal(true);
  });

  after(async () => {
    const errors = t ? await t.dispose() : [];
    expect(errors).to.deep.equal([]);
    rmSync(dir, { recursive: true, force: true });
    expect(leftovers({ pgids: pgid ? [pgid] : [], markers: [dir] })).to.deep.equal([]);
  });

  const q = async (query: string, db: string): Promise<InfluxSeries> => (await influxQuery({ url, db }, query, db)) as InfluxSeries;

  it('afterRun writes result rows, trials and the run, and they read back identical', async () => {
    const results = makeRunResults({ runId: 'influx-1' });
    const resultsDir = writeResultsDir(join(dir, 'results_1'), results);
    const settings = settingsWith({
      INFLUXDB_URL: url,
      INFLUXDB_DB: 'vsr_test',
      INFLUXDB_FILE: 'influx.lp',
      RESULTS_ARCHIVE: '',
      REPORT_HTML: false,
      REPORT_MARKDOWN: false,
    });
    await afterRun(resultsDir, settings, silentLogger);

    const rows = await q(`SELECT throughput_rx_fps, avg_latency_ns FROM vsperf_result WHERE testcase = 'phy2phy_tput' AND run_id = 'influx-1'`, 'vsr_test');
    const vals = rows.results[0]!.series![0]!.values;
    expect(vals.map((v) => v[1])).to.deep.equal(results.testcases[0]!.rows.map((r) => r.throughput_rx_fps));
    expect(vals.map((v) => v[2])).to.deep.equal(results.testcases[0]!.rows.map((r) => r.avg_latency_ns));
    expect(vals[0]![0]).to.equal(results.testcases[0]!.stopTime.replace('.000Z', 'Z'));

    const mig = await q(`SELECT migration_downtime_ms, dataplane_outage_ms FROM vsperf_result WHERE testcase = 'pvp_live_migration'`, 'vsr_test');
    expect(mig.results[0]!.series![0]!.values[0]![1]).to.equal(results.testcases[4]!.rows[0]!.migration_downtime_ms);

    const trials = await q(`SELECT count(offered_fps) FROM vsperf_trial WHERE run_id = 'influx-1'`, 'vsr_test');
    expect(trials.results[0]!.series![0]!.values[0]![1]).to.equal(results.testcases.reduce((a, tc) => a + tc.trials.length, 0));

    const run = await q(`SELECT passed, failed FROM vsperf_run WHERE run_id = 'influx-1'`, 'vsr_test');
    expect(run.results[0]!.series![0]!.values[0]!.slice(1)).to.deep.equal([5, 0]);

    // The same line protocol went to the file inside the results directory.
    const file = readFileSync(join(resultsDir, 'influx.lp'), 'utf8');
    expect(file.split('\n').filter(Boolean).length).to.be.greaterThan(60);
    expect(file).to.match(/^vsperf_run,host=fixture-host,run_id=influx-1,status=passed /);
  });

  it('a second night is a separate series; tags make per-testcase dashboards possible', async () => {
    await exportRun(makeRunResults({ runId: 'influx-2', startTime: '2026-11-21T02:00:00.000Z', dropPct: 10 }), { target: { url, db: 'vsr_test' } });
    const r = await q(`SELECT mean(throughput_rx_fps) FROM vsperf_result WHERE testcase = 'phy2phy_tput' AND packet_size = '64' GROUP BY run_id`, 'vsr_test');
    const byRun = Object.fromEntries(r.results[0]!.series!.map((s) => [(s as unknown as { tags: { run_id: string } }).tags.run_id, s.values[0]![1] as number]));
    expect(Object.keys(byRun).sort()).to.deep.equal(['influx-1', 'influx-2']);
    expect(byRun['influx-2']!).to.be.below(byRun['influx-1']! * 0.95);
  });

  it('an unreachable endpoint is one clear error; the report and archive are still written', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    await exportRun(makeRunResults(), { target: { url: dead, db: 'x', timeoutMs: 2000 } }).then(
      () => expect.fail('should fail'),
      (e) => {
        expect(e).to.be.instanceOf(ExportError);
        expect((e as ExportError).brief()).to.match(/InfluxDB export to http:\/\/127\.0\.0\.1:\d+\/query: request failed \(ECONNREFUSED\).*hint/);
      },
    );
    const resultsDir = writeResultsDir(join(dir, 'results_dead'), makeRunResults({ runId: 'dead' }));
    const settings = settingsWith({ INFLUXDB_URL: dead, INFLUXDB_TIMEOUT_S: 2, RESULTS_ARCHIVE: join(dir, 'archive.sqlite') });
    const err = await afterRun(resultsDir, settings, silentLogger).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(PostRunError);
    expect((err as PostRunError).failures.map((f) => f.step)).to.deep.equal(['influxdb export']);
    expect(existsSync(join(resultsDir, 'report.html'))).to.equal(true);
    expect(existsSync(join(dir, 'archive.sqlite'))).to.equal(true);
  });
});
