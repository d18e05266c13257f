import { expect } from 'chai';
import { parse } from 'node:path';
import { toCsv, csvFileName } from '../../../../framework/results/csv-writer.js';
import { VSPERF_COLUMNS, columnsFor } from '../../../../framework/results/columns.js';

describe('CSV results', () => {
  it('keeps VSPERF column names and order, then ours, then unknown keys', () => {
    const rows = [{ throughput_rx_fps: 1000, packet_size: 64, type: 'rfc2544_throughput', simulated: true, zz_custom: 1, frame_loss_percent: 0 }];
    expect(columnsFor(rows)).to.deep.equal(['type', 'packet_size', 'throughput_rx_fps', 'frame_loss_percent', 'simulated', 'zz_custom']);
  });
  it('writes Unknown for missing values, as VSPERF does', () => {
    const csv = toCsv([{ packet_size: 64, throughput_rx_fps: 10 }, { packet_size: 128, b2b_frames: 5 }]);
    const lines = csv.trim().split('\n');
    expect(lines[0]).to.equal('packet_size,throughput_rx_fps,b2b_frames');
    expect(lines[1]).to.equal('64,10,Unknown');
    expect(lines[2]).to.equal('128,Unknown,5');
  });
  it('quotes values with commas', () => {
    expect(toCsv([{ id: 'a,b' }]).trim().split('\n')[1]).to.equal('"a,b"');
  });
  it('names files result_<i>_<testcase>_<deployment>.csv', () => {
    expect(csvFileName(0, 'phy2phy_tput', 'p2p')).to.equal('result_0_phy2phy_tput_p2p.csv');
    expect(parse(csvFileName(3, 'a/b', 'p v p')).base).to.equal('result_3_a_b_p_v_p.csv');
  });
  it('the VSPERF vocabulary is complete for the keys DESIGN.md lists', () => {
    for (const k of ['type', 'packet_size', 'throughput_rx_fps', 'throughput_rx_mbps', 'throughput_rx_percent', 'tx_rate_fps', 'min_latency_ns', 'avg_latency_ns', 'max_latency_ns', 'frame_loss_percent', 'b2b_frames', 'deployment', 'vswitch', 'traffic_type', 'guest_loopback_app']) {
      expect(VSPERF_COLUMNS as readonly string[]).to.include(k);
    }
  });
});
