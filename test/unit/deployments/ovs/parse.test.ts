import { expect } from 'chai';
import {
  parseDumpFlows,
  parseDumpPorts,
  parseInterfacePolicerDrops,
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

// `ovs-vsctl --format=json --columns=name,statistics list Interface` of OVS-DPDK 3.1 during ovsdpdk_rate_p2p's
// 10000 kbit/s ingress policer on dpdk0 (rx_dropped 5420310 = its policer's 4388251 + the rx ring's 1032059).
const IFACE_STATS = `{"data":[["dpdk0",["map",[["ovs_rx_qos_drops",4388251],["ovs_tx_failure_drops",0],["ovs_tx_invalid_hwol_drops",0],["ovs_tx_mtu_exceeded_drops",0],["ovs_tx_qos_drops",0],["rx_bytes",338602200],["rx_dropped",5420310],["rx_errors",0],["rx_mbuf_allocation_errors",0],["rx_missed_errors",1032059],["rx_packets",5643370],["rx_q0_bytes",338602200],["rx_q0_errors",0],["rx_q0_packets",5643370],["tx_bytes",0],["tx_dropped",0],["tx_errors",0],["tx_packets",0],["tx_q0_bytes",0],["tx_q0_packets",0]]]],["vsd10e5br0",["map",[["collisions",0],["rx_bytes",0],["rx_crc_err",0],["rx_dropped",0],["rx_errors",0],["rx_frame_err",0],["rx_missed_errors",0],["rx_multicast_packets",0],["rx_over_err",0],["rx_packets",0],["tx_bytes",0],["tx_dropped",0],["tx_errors",0],["tx_packets",0]]]],["dpdk1",["map",[["ovs_rx_qos_drops",0],["ovs_tx_failure_drops",0],["ovs_tx_invalid_hwol_drops",0],["ovs_tx_mtu_exceeded_drops",0],["ovs_tx_qos_drops",0],["rx_bytes",0],["rx_dropped",0],["rx_errors",0],["rx_mbuf_allocation_errors",0],["rx_missed_errors",0],["rx_packets",0],["rx_q0_bytes",0],["rx_q0_errors",0],["rx_q0_packets",0],["tx_bytes",75305940],["tx_dropped",0],["tx_errors",0],["tx_packets",1255099],["tx_q0_bytes",75304020],["tx_q0_packets",1255067]]]]],"headings":["name","statistics"]}`;

describe('deployments/ovs/parse', () => {
  it("interface statistics: OVS-DPDK policers' drops by port; ports without them left out", () => {
    const m = parseInterfacePolicerDrops(IFACE_STATS);
    expect([...m.keys()]).to.deep.equal(['dpdk0', 'dpdk1']);
    expect(m.get('dpdk0')).to.deep.equal({ rx: 4388251, tx: 0 });
    expect(m.get('dpdk1')).to.deep.equal({ rx: 0, tx: 0 });
    expect(parseInterfacePolicerDrops('{"data":[],"headings":["name","statistics"]}').size).to.equal(0);
    // With the type column (what portStats asks for): the type comes along.
    const typed = `{"data":[["vsdpol0","dpdkvhostuserclient",["map",[["ovs_rx_qos_drops",2132915],["ovs_tx_qos_drops",0],["rx_dropped",2132915],["rx_packets",2138144]]]],["br0","internal",["map",[["rx_packets",0]]]]],"headings":["name","type","statistics"]}`;
    expect([...parseInterfacePolicerDrops(typed)]).to.deep.equal([['vsdpol0', { rx: 2132915, tx: 0, type: 'dpdkvhostuserclient' }]]);
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
