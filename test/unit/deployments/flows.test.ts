import { expect } from 'chai';
import { ConfigError, UsageError } from '../../../framework/errors.js';
import { connectionFlows, connectionTraffic, flowText, ipAdd, macAdd, parseFrameModification, withFrameMod } from '../../../deployments/flows.js';

const T = connectionTraffic({
  multistream: 0,
  stream_type: 'L4',
  pre_installed_flows: 'No',
  flow_type: 'port',
  l2: { dstmac: '00:00:00:00:00:02' },
  l3: { srcip: '1.1.1.1', dstip: '90.90.90.90', proto: 'udp' },
  l4: { dstport: 3001 },
});

describe('deployments/flows', () => {
  it('port flow (VSPERF default flow_type "port")', () => {
    const f = connectionFlows(1, 2, T);
    expect(f).to.deep.equal([{ type: 'port', inPort: 1, outPorts: [2] }]);
    expect(flowText(f[0]!, { idle_timeout: '0' })).to.equal('idle_timeout=0,in_port=1,actions=output:2');
  });

  it('flow_type IP matches the address pair', () => {
    const f = connectionFlows(2, 1, { ...T, flowType: 'ip' });
    expect(flowText(f[0]!)).to.equal('in_port=2,dl_type=0x0800,nw_src=1.1.1.1,nw_dst=90.90.90.90,actions=output:1');
  });

  it('pre-installed multistream flows: one per stream, by L2 dst MAC, L3 dst IP or L4 dst port', () => {
    const l4 = connectionFlows(1, 2, { ...T, preInstalledFlows: true, multistream: 3 }).map((f) => flowText(f));
    expect(l4).to.deep.equal([
      'in_port=1,dl_type=0x0800,nw_proto=17,tp_dst=3001,actions=output:2',
      'in_port=1,dl_type=0x0800,nw_proto=17,tp_dst=3002,actions=output:2',
      'in_port=1,dl_type=0x0800,nw_proto=17,tp_dst=3003,actions=output:2',
    ]);
    const l3 = connectionFlows(1, 2, { ...T, preInstalledFlows: true, multistream: 2, streamType: 'L3', dstIp: '10.0.0.255' }).map((f) => flowText(f));
    expect(l3[1]).to.equal('in_port=1,dl_type=0x0800,nw_dst=10.0.1.0,actions=output:2');
    const l2 = connectionFlows(1, 2, { ...T, preInstalledFlows: true, multistream: 2, streamType: 'L2', dstMac: '00:00:00:00:00:ff' }).map((f) => flowText(f));
    expect(l2[1]).to.equal('in_port=1,dl_dst=00:00:00:00:01:00,actions=output:2');
    // multistream without pre_installed_flows stays one port flow (VSPERF)
    expect(connectionFlows(1, 2, { ...T, multistream: 8000 })).to.have.length(1);
  });

  it('L4 dst port wraps at 65536 like VSPERF', () => {
    const f = connectionFlows(1, 2, { ...T, preInstalledFlows: true, multistream: 2, dstPort: 65535 });
    expect(flowText(f[1]!)).to.include('tp_dst=0,');
  });

  it('macAdd / ipAdd carry across bytes and reject junk', () => {
    expect(macAdd('00:00:00:00:ff:ff', 1)).to.equal('00:00:00:01:00:00');
    expect(macAdd('ff:ff:ff:ff:ff:ff', 1)).to.equal('00:00:00:00:00:00');
    expect(ipAdd('1.2.3.255', 2)).to.equal('1.2.4.1');
    expect(() => macAdd('zz', 1)).to.throw(UsageError);
    expect(() => ipAdd('1.2.3', 1)).to.throw(UsageError);
  });

  it('frame modification vlan pushes a tag before output, both directions', () => {
    const fwd = withFrameMod(connectionFlows(1, 2, T), 'vlan', true).map((f) => flowText(f));
    const rev = withFrameMod(connectionFlows(2, 1, T), 'vlan', false).map((f) => flowText(f));
    expect(fwd).to.deep.equal(['in_port=1,actions=push_vlan:0x8100,output:2']);
    expect(rev).to.deep.equal(['in_port=2,actions=push_vlan:0x8100,output:1']);
  });

  it('IP rewrites add the dl_type match VSPERF uses, per direction', () => {
    const [f] = withFrameMod(connectionFlows(1, 2, T), 'ip_addr', true);
    expect(flowText(f!)).to.equal('in_port=1,dl_type=0x0800,actions=mod_nw_src:10.10.10.10,mod_nw_dst:20.20.20.20,output:2');
    const [p] = withFrameMod(connectionFlows(2, 1, T), 'ip_port', false);
    expect(flowText(p!)).to.equal('in_port=2,dl_type=0x0800,nw_proto=17,actions=mod_tp_src:44444,mod_tp_dst:44444,output:1');
    const [m] = withFrameMod(connectionFlows(2, 1, T), 'mac', false);
    expect(flowText(m!)).to.equal('in_port=2,actions=mod_dl_src:11:11:11:11:11:11,output:1');
  });

  it('bad TRAFFIC values and frame modifications are ConfigErrors naming the key', () => {
    expect(() => connectionTraffic({ stream_type: 'L7' }))
      .to.throw(ConfigError)
      .with.property('key', 'TRAFFIC.stream_type');
    expect(() => connectionTraffic({ flow_type: 'mac' }))
      .to.throw(ConfigError)
      .with.property('key', 'TRAFFIC.flow_type');
    expect(() => connectionTraffic({ multistream: -1 }))
      .to.throw(ConfigError)
      .with.property('key', 'TRAFFIC.multistream');
    expect(() => parseFrameModification('qinq', 'testcase x'))
      .to.throw(ConfigError)
      .with.property('key', 'FRAME_MOD');
    expect(parseFrameModification('VLAN')).to.equal('vlan');
    expect(parseFrameModification('')).to.equal(undefined);
  });

  it('flow text cannot smuggle extra fields or lines', () => {
    expect(() => flowText({ type: 'match', match: { inPort: 1, nwDst: '1.1.1.1,actions=drop' }, outPorts: [2] })).to.throw(UsageError);
    expect(() => flowText({ type: 'raw', flow: 'in_port=1,actions=drop\nin_port=2,actions=drop' })).to.throw(UsageError);
    expect(() => flowText({ type: 'port', inPort: 1, outPorts: [2], modActions: ['output:3 actions'] })).to.throw(UsageError);
  });
});
