import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../../framework/config/load.js';
import {
  parseDumpFlows,
  parseDumpPorts,
  parseInterfaceTypes,
  policerDropsOf,
  parsePmdRxq,
  parsePmdStats,
  parseSchedstat,
  parseThreadIds,
  parseVersion,
} from '../../../../deployments/ovs/parse.js';

// Captured from ovs-ofctl 3.1.0 / ovs-vswitchd-dpdk on the sandbox.
const DUMP_PORTS = `OFPST_PORT reply (OF1.3) (xid=0x2): 3 ports
  port LOCAL: rx pkts=0, bytes=0, drop=0, errs=0, frame=0, over=0, crc=0
           tx pkts=0, bytes=0, drop=0, errs=0, coll=0
           duration=4.994s
  port  1: rx pkts=1005, bytes=60426, drop=0, errs=0, frame=?, over=?, crc=?
           tx pkts=0, bytes=0, drop=0, errs=0, coll=?
           duration=5.047s
  port  2: rx pkts=5, bytes=426, drop=3, errs=1, frame=?, over=?, crc=?
           tx pkts=1000, bytes=60000, drop=7, errs=0, coll=?
           duration=4.995s
`;

const PMD = `pmd thread numa_id 0 core_id 1:
  packets received: 1010
  packet recirculations: 0
  avg. datapath passes per packet: 1.00
  emc hits: 0
  megaflow hits: 4
  miss with success upcall: 3
  idle cycles: 12369425020 (99.89%)
  processing cycles: 13207370 (0.11%)
  avg cycles per packet: 12260032.07 (12382632390/1010)
  avg processing cycles per packet: 13076.60 (13207370/1010)
main thread:
  packets received: 0
`;

/** Captured output (test/fixtures/ovs/README.md says how). */
const captured = (name: string): string => readFileSync(join(PROJECT_ROOT, 'test', 'fixtures', 'ovs', name), 'utf8');

describe('deployments/ovs/parse', () => {
  it("dump-ports in OpenFlow 1.4: a vhost-user client port's policer drops live, next to its packet counts (captured)", () => {
    const p = parseDumpPorts(captured('dump-ports-of14-vhost-policed.txt'));
    expect(p.map((x) => x.port)).to.deep.equal([11, 'LOCAL', 1, 2, 12]);
    const pol = p.find((x) => x.port === 11)!;
    // testpmd put 7097408 frames on the ring: all in rx_packets, the policer's in drop and ovs_rx_qos_drops.
    expect(pol).to.include({ rxPackets: 7097408, rxBytes: 454234112, rxDropped: 7092185, txPackets: 0, reported: true });
    expect(pol.custom).to.include({ ovs_rx_qos_drops: 7092185, ovs_tx_qos_drops: 0, rx_q0_good_packets: 7097408, tx_q0_inflight_completed: 0 });
    // the rfc2819 lines before the custom block are not custom statistics
    expect(pol.custom).to.not.have.property('1_to_64_packets');
    expect(policerDropsOf(pol.custom)).to.deep.equal({ rx: 7092185, tx: 0 });
    const ctl = p.find((x) => x.port === 12)!;
    expect(ctl).to.include({ rxPackets: 7097344, rxDropped: 0 });
    expect(policerDropsOf(ctl.custom)).to.deep.equal({ rx: 0, tx: 0 });
    // the sandbox's dpdk ports have their own set (the ethdev's xstats); LOCAL has none
    expect(p.find((x) => x.port === 1)!.custom).to.include({ ovs_rx_qos_drops: 0, rx_missed_errors: 0, tx_q0_bytes: 0 });
    expect(p.find((x) => x.port === 'LOCAL')!.custom).to.deep.equal({});
    expect(policerDropsOf({})).to.equal(undefined);
  });

  it('dump-ports in OpenFlow 1.4: a vhost-user port without its frontend reports only its ovs_* counters (captured)', () => {
    const p = parseDumpPorts(captured('dump-ports-of14-vhost-disconnected.txt'));
    const pol = p.find((x) => x.port === 11)!;
    expect(pol).to.include({ reported: false, rxPackets: 0, rxDropped: 0, txDropped: 0 });
    expect(pol.custom).to.deep.equal({
      ovs_tx_retries: 0,
      ovs_tx_failure_drops: 0,
      ovs_tx_mtu_exceeded_drops: 0,
      ovs_tx_qos_drops: 0,
      ovs_rx_qos_drops: 7092185,
      ovs_tx_invalid_hwol_drops: 0,
    });
    expect(p.find((x) => x.port === 1)).to.include({ reported: true });
  });

  it('dump-ports in OpenFlow 1.4 on af_xdp dpdk ports (captured); an OpenFlow 1.3 reply has no custom statistics', () => {
    const p = parseDumpPorts(captured('dump-ports-of14-af-xdp.txt'));
    expect(p.map((x) => x.port)).to.deep.equal(['LOCAL', 1, 2]);
    expect(Object.keys(p[1]!.custom)).to.have.length(14);
    expect(policerDropsOf(p[2]!.custom)).to.deep.equal({ rx: 0, tx: 0 });
    for (const x of parseDumpPorts(DUMP_PORTS)) expect(x.custom).to.deep.equal({});
  });

  it('interface types from ovs-vsctl --format=json', () => {
    const json = `{"data":[["vsdpol0","dpdkvhostuserclient"],["br0","internal"],["dpdk0","dpdk"]],"headings":["name","type"]}`;
    expect([...parseInterfaceTypes(json)]).to.deep.equal([
      ['vsdpol0', 'dpdkvhostuserclient'],
      ['br0', 'internal'],
      ['dpdk0', 'dpdk'],
    ]);
    expect(parseInterfaceTypes('{"data":[],"headings":["name"]}').size).to.equal(0);
  });

  it('PMD threads of ps -L and their schedstat (captured from ovs-vswitchd-dpdk 3.1 under load 8)', () => {
    const ps = '  14036 ovs-vswitchd-dp\n  14058 pmd-c01/id:8\n  14060 urcu3\n';
    expect(parseThreadIds(ps, 'pmd')).to.deep.equal([{ tid: 14058, comm: 'pmd-c01/id:8' }]);
    // 5.12 s apart: 1.906 s on a CPU, 3.224 s waiting for one
    const a = parseSchedstat('24363638919 35768895018 10889\n')!;
    const b = parseSchedstat('26269374332 38992860961 12229\n')!;
    expect(b.runNs - a.runNs).to.equal(1905735413);
    expect(b.waitNs - a.waitNs).to.equal(3223965943);
    expect(parseSchedstat('')).to.equal(undefined);
  });

  it('dump-ports: per port rx/tx counters, ? as 0', () => {
    const p = parseDumpPorts(DUMP_PORTS);
    expect(p.map((x) => x.port)).to.deep.equal(['LOCAL', 1, 2]);
    expect(p[1]).to.include({ rxPackets: 1005, rxBytes: 60426, txPackets: 0 });
    expect(p[2]).to.include({ rxPackets: 5, rxDropped: 3, rxErrors: 1, txPackets: 1000, txBytes: 60000, txDropped: 7 });
  });

  it('pmd-stats-show: per thread packets and cycle split', () => {
    const s = parsePmdStats(PMD);
    expect(s).to.have.length(2);
    expect(s[0]).to.deep.include({
      thread: 'pmd thread numa_id 0 core_id 1',
      packetsReceived: 1010,
      idlePct: 99.89,
      processingPct: 0.11,
      megaflowHits: 4,
      missWithSuccessUpcall: 3,
    });
    expect(s[0]!.avgProcessingCyclesPerPacket).to.be.closeTo(13076.6, 0.01);
    expect(s[1]).to.deep.include({ thread: 'main thread', packetsReceived: 0 });
  });

  it('dump-flows: header dropped, durations removed', () => {
    const f = parseDumpFlows(`OFPST_FLOW reply (OF1.3) (xid=0x2):
 cookie=0x0, duration=0.759s, table=0, n_packets=1000, n_bytes=60000, in_port=1 actions=output:2
`);
    expect(f).to.deep.equal(['cookie=0x0, table=0, n_packets=1000, n_bytes=60000, in_port=1 actions=output:2']);
  });

  it('version of the DPDK and plain builds', () => {
    expect(parseVersion('ovs-vswitchd (Open vSwitch) 3.1.0\nDPDK 22.11.11\n')).to.deep.equal({ ovs: '3.1.0', dpdk: '22.11.11' });
    expect(parseVersion('ovs-vswitchd (Open vSwitch) 3.1.0\n')).to.deep.equal({ ovs: '3.1.0' });
  });

  it('parsePmdRxq: which PMD polls which queue of which port, with its usage when OVS has one', () => {
    // ovs-appctl dpif-netdev/pmd-rxq-show, OVS 3.1, two vhost-user ports with two queues each
    const text = `Displaying last 60 seconds pmd usage %
pmd thread numa_id 0 core_id 1:
  isolated : false
  port: g0                queue-id:  0 (enabled)   pmd usage: 41 %
  port: g0                queue-id:  1 (enabled)   pmd usage: 38 %
  port: g1                queue-id:  0 (enabled)   pmd usage: NOT AVAIL
  port: g1                queue-id:  1 (disabled)  pmd usage:  0 %
  overhead:  2 %
`;
    expect(parsePmdRxq(text)).to.deep.equal([
      { core: 1, port: 'g0', queue: 0, enabled: true, usagePct: 41 },
      { core: 1, port: 'g0', queue: 1, enabled: true, usagePct: 38 },
      { core: 1, port: 'g1', queue: 0, enabled: true },
      { core: 1, port: 'g1', queue: 1, enabled: false, usagePct: 0 },
    ]);
    expect(parsePmdRxq('')).to.deep.equal([]);
  });
});
