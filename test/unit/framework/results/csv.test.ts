import { expect } from 'chai';
import { parse } from 'node:path';
import { toCsv, csvFileName, vsperfDuration } from '../../../../framework/results/csv-writer.js';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../../framework/config/load.js';
import { VSPERF_COLUMNS, columnsFor } from '../../../../framework/results/columns.js';

describe('CSV results', () => {
  it('keeps VSPERF column names and order, then ours, then unknown keys', () => {
    const rows = [{ throughput_rx_fps: 1000, packet_size: 64, type: 'rfc2544_throughput', simulated: true, zz_custom: 1, frame_loss_percent: 0 }];
    expect(columnsFor(rows)).to.deep.equal(['type', 'packet_size', 'throughput_rx_fps', 'frame_loss_percent', 'simulated', 'zz_custom']);
  });
  it('writes Unknown for missing values, as VSPERF does', () => {
    const csv = toCsv([
      { packet_size: 64, throughput_rx_fps: 10 },
      { packet_size: 128, b2b_frames: 5 },
    ]);
    const lines = csv.trim().split('\n');
    expect(lines[0]).to.equal('packet_size,throughput_rx_fps,b2b_frames');
    expect(lines[1]).to.equal('64,10,Unknown');
    expect(lines[2]).to.equal('128,Unknown,5');
  });
  it('quotes values with commas', () => {
    expect(
      toCsv([{ id: 'a,b' }])
        .trim()
        .split('\n')[1],
    ).to.equal('"a,b"');
  });
  it('names files result_<i>_<testcase>_<deployment>.csv', () => {
    expect(csvFileName(0, 'phy2phy_tput', 'p2p')).to.equal('result_0_phy2phy_tput_p2p.csv');
    expect(parse(csvFileName(3, 'a/b', 'p v p')).base).to.equal('result_3_a_b_p_v_p.csv');
  });
  it('the VSPERF vocabulary is complete for the keys DESIGN.md lists', () => {
    for (const k of [
      'type',
      'packet_size',
      'throughput_rx_fps',
      'throughput_rx_mbps',
      'throughput_rx_percent',
      'tx_rate_fps',
      'min_latency_ns',
      'avg_latency_ns',
      'max_latency_ns',
      'frame_loss_percent',
      'b2b_frames',
      'deployment',
      'vswitch',
      'traffic_type',
      'guest_loopback_app',
    ]) {
      expect(VSPERF_COLUMNS as readonly string[]).to.include(k);
    }
  });
});

describe("CSV results against VSPERF's own definitions", () => {
  it("VSPERF's columns come first in the order of core/results/results_constants.py (read by python3)", () => {
    const src = join(PROJECT_ROOT, 'test', 'fixtures', 'vsperf', 'results_constants.py');
    const py = `import ast,json,sys\nt=ast.parse(open(sys.argv[1]).read())\ncls=[n for n in t.body if isinstance(n,ast.ClassDef)][0]\nprint(json.dumps([a.value.value for a in cls.body if isinstance(a,ast.Assign) and isinstance(a.value,ast.Constant) and a.targets[0].id!='UNKNOWN_VALUE']))`;
    const columns = JSON.parse(execFileSync('python3', ['-c', py, src], { encoding: 'utf8' })) as string[];
    expect(columns.length).to.be.greaterThan(40);
    expect([...VSPERF_COLUMNS]).to.deep.equal(columns);
    // tools/report reads these from every row.
    for (const k of ['id', 'deployment', 'type', 'packet_size', 'tunnel_type']) expect(columns).to.include(k);
  });

  it('writes test_execution_time as HH:MM:SS and start/stop as local YYYY-MM-DD HH:MM:SS; csv_format iso keeps ours', () => {
    const start = new Date(2026, 0, 2, 3, 4, 5).toISOString();
    const row = { id: 't', test_execution_time: 3725.6, start_time: start, stop_time: start };
    const [, line] = toCsv([row]).trim().split('\n');
    expect(line).to.equal('t,01:02:05,2026-01-02 03:04:05,2026-01-02 03:04:05');
    expect(vsperfDuration(86400 + 61)).to.equal('00:01:01');
    expect(toCsv([row], 'iso').trim().split('\n')[1]).to.equal(`t,3725.6,${start},${start}`);
  });
});
