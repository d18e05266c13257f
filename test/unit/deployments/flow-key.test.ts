import { expect } from 'chai';
import { flowKey, flowPresent } from '../../../deployments/steps/flow-key.js';

describe('VSPERF flow dictionaries', () => {
  it('builds ovs-ofctl text in dictionary order, actions last', () => {
    expect(flowKey({ in_port: '1', actions: ['output:2'], idle_timeout: '0' })).to.equal('in_port=1,idle_timeout=0,action=output:2');
    expect(flowKey({ in_port: '1' })).to.equal('in_port=1');
    expect(() => flowKey({ in_port: '1 ,actions=drop' })).to.throw(/whitespace/);
  });
  it('finds a flow in dump-flows output whatever shorthand the dump uses', () => {
    const dump = [
      'cookie=0x0, table=0, n_packets=0, n_bytes=0, udp,in_port=1,tp_dst=0 actions=output:2',
      'cookie=0x0, table=0, n_packets=0, n_bytes=0, in_port=2 actions=output:1',
    ];
    expect(flowPresent(dump, { dl_type: '0x800', nw_proto: '17', in_port: '1', udp_dst: '0', actions: ['output:2'] })).to.equal(true);
    expect(flowPresent(dump, { in_port: '2', actions: ['output:1'], idle_timeout: '0' })).to.equal(true);
    expect(flowPresent(dump, { in_port: '2', actions: ['output:3'] })).to.equal(false);
    expect(flowPresent(dump, { in_port: '3' })).to.equal(false);
    const masked = ['cookie=0x0, table=0, n_packets=0, n_bytes=0, ip,in_port=1,nw_dst=90.0.0.0/8 actions=output:2'];
    expect(flowPresent(masked, { in_port: '1', dl_type: '0x800', nw_dst: '90.90.90.90/8', actions: ['output:2'], idle_timeout: '0' })).to.equal(true);
    expect(flowPresent(masked, { in_port: '1', dl_type: '0x800', nw_dst: '91.90.90.90/8', actions: ['output:2'] })).to.equal(false);
  });
});
