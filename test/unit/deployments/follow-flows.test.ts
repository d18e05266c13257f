import { expect } from 'chai';
import { followFlows, parseFlowLine } from '../../../deployments/follow-flows.js';

describe('deployments/follow-flows: traffic follows a migrating guest', () => {
  // pvp as OVS dumps it: phy 1,2; guest vhost 3 (eth0), 4 (eth1); destination ports 5, 6.
  const dump = [
    'cookie=0x0, duration=12.5s, table=0, n_packets=20000, n_bytes=1200000, idle_age=0, in_port=1 actions=output:3',
    'cookie=0x0, table=0, n_packets=8603, n_bytes=516180, in_port=4 actions=output:2',
    'cookie=0x0, table=0, n_packets=0, n_bytes=0, in_port=2 actions=output:4',
    'cookie=0x0, table=0, n_packets=0, n_bytes=0, priority=10,in_port=3 actions=push_vlan:0x8100,output:1',
  ];
  const pairs = new Map<string, number>([
    ['3', 5],
    ['4', 6],
    ['dpdkvhostuserclient0', 5],
    ['dpdkvhostuserclient1', 6],
  ]);

  it('strips statistics and keeps table/priority', () => {
    expect(parseFlowLine(dump[0]!)).to.deep.equal({ match: 'table=0,in_port=1', actions: 'output:3' });
    expect(parseFlowLine(dump[3]!)!.match).to.equal('table=0,priority=10,in_port=3');
    expect(parseFlowLine('NXST_FLOW reply (xid=0x4):')).to.equal(undefined);
  });

  it('outputs to both guests and copies flows from guest ports, like the hand-made flows of testbed §7a', () => {
    expect(followFlows(dump, pairs)).to.deep.equal([
      'table=0,in_port=1 actions=output:3,output:5',
      'table=0,in_port=6 actions=output:2',
      'table=0,in_port=2 actions=output:4,output:6',
      'table=0,priority=10,in_port=5 actions=push_vlan:0x8100,output:1',
    ]);
  });

  it('understands port names (--names output) and leaves unrelated flows alone', () => {
    const named = ['table=0, in_port="dpdk0" actions=output:"dpdkvhostuserclient0"', 'table=0, in_port=7 actions=output:8', 'table=0, in_port=7 actions=drop'];
    expect(followFlows(named, pairs)).to.deep.equal(['table=0,in_port="dpdk0" actions=output:"dpdkvhostuserclient0",output:5']);
  });
});
