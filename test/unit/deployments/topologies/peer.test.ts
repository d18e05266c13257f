import { expect } from 'chai';
import { peerFlows, uplinkPort } from '../../../../deployments/topologies/peer.js';
import { withEnv } from '../../../../framework/host/remote-host.js';
import { UsageError } from '../../../../framework/errors.js';

describe('pvp_peer deployment (pure parts)', () => {
  it('flows: traffic for the guest NIC 0 MAC goes in (destination rewritten past a guest bridge), NIC 0 and NIC 1 go out on the uplink', () => {
    expect(peerFlows('52:54:00:00:00:00', '52:54:00:00:00:01', '02:00:00:00:00:02')).to.deep.equal([
      'in_port=1,dl_dst=52:54:00:00:00:00,actions=mod_dl_dst:02:00:00:00:00:02,output:2',
      'in_port=2,actions=output:1',
      'in_port=3,actions=mod_dl_src:52:54:00:00:00:01,output:1',
    ]);
  });

  it('an uplink is a PCI NIC or a kernel interface (af_packet, capturable)', () => {
    expect(uplinkPort('0000:3b:00.0')).to.deep.equal({ kind: 'pci', pci: '0000:3b:00.0' });
    expect(uplinkPort('fab0')).to.deep.equal({ kind: 'veth', iface: 'fab0', io: 'af_packet', capturable: true });
  });

  it('remote commands get their environment and directory through env(1), names checked', () => {
    expect(withEnv(['ovs-vsctl', 'show'])).to.deep.equal(['ovs-vsctl', 'show']);
    expect(withEnv(['ovs-vsctl', 'show'], { OVS_RUNDIR: '/tmp/r' }, '/tmp/r')).to.deep.equal(['env', '-C', '/tmp/r', 'OVS_RUNDIR=/tmp/r', 'ovs-vsctl', 'show']);
    expect(() => withEnv(['x'], { 'A B': '1' })).to.throw(UsageError);
  });
});
