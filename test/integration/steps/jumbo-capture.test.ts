/**
 * VSPERF's jumbo-frame and in-guest capture testcases, as VSPERF ships them, on the sandbox with a private
 * OVS-DPDK: a physical port's MTU changes as mtu_request asks (ports that may go jumbo are net_pcap
 * vdevs), the vhost-user MTU testcases stop before deploying with one line naming what they need,
 * capture_pvp_modify_vid counts the re-tagged frames with tcpdump inside the guest, and
 * ovsdpdk_jumbo_p2p_upper_bound forwards 9018 B frames and loses every 9702 B one: a copy of it with a
 * capture on the switch's end of the wire shows the 9702 B frames arrive, and OVS's counters show the
 * switch dropping them (not the kernel's veth).
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestcaseResult } from '../../../framework/results/types.js';
import { leftovers, mergeScopes, NOTHING, runCatalogue, scopeOf } from '../deployments/helpers.js';
import { pcapRecords } from '../software/pcap.js';

// increase_mtu_phy_port_ovsdb reads the MTU right after setting it: it passes only because the switch
// waits for OVS-DPDK to apply an mtu_request (measured: the old MTU at once, the new one ~100 ms later).
const PHY = ['ovsdpdk_jumbo_reduce_mtu_phy_port_ovsdb', 'ovsdpdk_jumbo_increase_mtu_phy_port_datapath', 'ovsdpdk_jumbo_increase_mtu_phy_port_ovsdb'];
const VPORT = 'ovsdpdk_jumbo_increase_mtu_vport_ovsdb';
const CAPTURE = 'capture_pvp_modify_vid';
const UPPER = 'ovsdpdk_jumbo_p2p_upper_bound';
const OBSERVED = 'jumbo_upper_bound_observed';

interface PortCounters {
  readonly name: string;
  readonly rxPackets: number;
  readonly rxDropped: number;
  readonly txPackets: number;
  readonly txDropped: number;
}

/** VSPERF's ovsdpdk_jumbo_p2p_upper_bound with a tcpdump on the switch's end of dpdk0's wire around the 9702 B trial. */
function observedCopy(pcap: string): object {
  const conf = JSON.parse(readFileSync('conf/integration/01b_dpdk_regression_tests.json', 'utf8')) as {
    INTEGRATION_TESTS: { Name: string; TestSteps: unknown[] }[];
  };
  const tc = conf.INTEGRATION_TESTS.find((t) => t.Name === UPPER)!;
  const at9702 = tc.TestSteps.findIndex((st) => JSON.stringify(st).includes('9702'));
  const steps = [
    ...tc.TestSteps.slice(0, at9702),
    ['#dev', 'tools', 'exec_shell', 'ovs-vsctl get Interface dpdk0 options:dpdk-devargs', 'iface=(\\w+)'],
    // Frames of the wire only: net_pcap's own socket on the same veth does not show in a capture of it.
    ['#cap', 'tools', 'exec_shell_background', `tcpdump -i #STEP[dev][0] -nn -U -B 16384 -s 128 -w ${pcap} greater 9000`],
    ['tools', 'exec_shell', 'sleep 1'],
    ...tc.TestSteps.slice(at9702),
    ['tools', 'exec_shell', 'sleep 1'],
    ['tools', 'exec_shell', 'kill -INT #STEP[cap]'],
    ['tools', 'exec_shell', 'sleep 1'],
  ];
  return { INTEGRATION_TESTS: [{ ...tc, Name: OBSERVED, TestSteps: steps }] };
}

describe('--integration: jumbo MTU and in-guest capture testcases on the sandbox with OVS-DPDK (integration)', function () {
  this.timeout(600_000);
  const resultsRoot = '/tmp/vsd-int-jumbo-results';
  let results: TestcaseResult[] = [];
  const byName = (n: string): TestcaseResult => results.find((r) => r.name === n)!;
  const dir = mkdtempSync(join(tmpdir(), 'vsd-int-jumbo-'));
  const pcap = join(dir, 'wire-9702.pcap');

  before(async () => {
    const conf = join(dir, 'observed.json');
    writeFileSync(conf, JSON.stringify(observedCopy(pcap)));
    results = await runCatalogue([...PHY, VPORT, CAPTURE, UPPER, OBSERVED], { TRAFFICGEN: 'Software', TRAFFICGEN_DURATION: 2 }, resultsRoot, 'jumbo', {
      integration: true,
      validate: true,
      confFiles: [conf],
    });
  });

  after(() => {
    rmSync(resultsRoot, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  for (const name of PHY) {
    it(`${name}: OVS reports the MTU each step asks for on a physical port`, () => {
      const r = byName(name);
      expect(r.status, JSON.stringify(r.error)).to.equal('passed');
      expect(r.rows[0]).to.include({ status: 'OK' });
    });
  }

  it(`${VPORT}: fails before deploying, in one line naming what it needs (a guest on the vhost-user socket)`, () => {
    const r = byName(VPORT);
    expect(r.status).to.equal('failed');
    expect(r.error?.code).to.equal('E_ENV');
    expect(r.error?.message).to.match(/^checks a vhost-user client port's MTU before any guest is on its socket: .*reports MTU 0 until a guest connects$/);
    expect(r.facts.vswitch_run_dir, 'no switch was started').to.equal(undefined);
  });

  it(`${CAPTURE}: tcpdump in the guest counts 5 frames re-tagged to VLAN 4 by the switch`, () => {
    const r = byName(CAPTURE);
    expect(r.status, JSON.stringify(r.error)).to.equal('passed');
    expect(r.facts.guests).to.equal(1);
    expect(Number(r.rows[0]!.throughput_rx_fps)).to.be.greaterThan(0);
  });

  it(`${UPPER}: 9018 B frames pass, every 9702 B frame is lost (above the port MTU 9000)`, () => {
    const r = byName(UPPER);
    expect(r.status, JSON.stringify(r.error)).to.equal('passed');
    const bySize = (n: number) => r.trials.filter((t) => t.frameSize === n).map((t) => t.result);
    expect(bySize(9018).map((x) => x.lostFrames)).to.deep.equal([0]);
    expect(bySize(9702).map((x) => x.rxFrames)).to.deep.equal([0]);
    expect(bySize(9702)[0]!.txFrames).to.be.greaterThan(0);
  });

  it(`${UPPER}: a capture on the wire sees the 9702 B frames arrive at the switch, and OVS counts them dropped`, () => {
    const r = byName(OBSERVED);
    expect(r.status, JSON.stringify(r.error)).to.equal('passed');
    const t = r.trials.find((x) => x.frameSize === 9702)!;
    const tx = t.result.txFrames;
    expect(tx).to.be.greaterThan(0);
    // 9702 B with FCS: 9698 B on the veth, all of our frames, none cut short by the wire.
    const seen = pcapRecords(pcap);
    expect(new Set(seen.map((x) => x.origLen))).to.deep.equal(new Set([9698]));
    expect(seen.length, `captured ${seen.length} of ${tx}`).to.be.within(Math.floor(tx * 0.99), tx);
    // The switch's own counters: every frame reached dpdk0 (received, or missed by net_pcap's buffer)
    // and every one received was dropped when leaving dpdk1 (MTU 9000: OVS's tx_dropped).
    const ports = (t.switchCounters as { ports: PortCounters[] }).ports;
    const p0 = ports.find((p) => p.name === 'dpdk0')!;
    const p1 = ports.find((p) => p.name === 'dpdk1')!;
    expect(p0.rxPackets + p0.rxDropped, JSON.stringify(ports)).to.equal(tx);
    expect(p0.rxPackets).to.be.greaterThan(0);
    expect(p1.txDropped, JSON.stringify(ports)).to.equal(p0.rxPackets);
    expect(p1.txPackets).to.equal(0);
    expect(t.result.rxFrames).to.equal(0);
  });

  it('leaves nothing behind', async () => {
    const scope = mergeScopes(...results.map((r) => scopeOf(r.facts)));
    expect(await leftovers(scope)).to.deep.equal(NOTHING);
  });
});
