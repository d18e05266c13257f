import { expect } from 'chai';
import { mtuRequests } from '../../../../deployments/ovs/mtu-requests.js';

describe('mtuRequests (ovs-vsctl set Interface … mtu_request=N)', () => {
  it("finds VSPERF's jumbo step, with or without the switch's namespace in front", () => {
    expect(mtuRequests(['ovs-vsctl', 'set', 'Interface', 'dpdk0', 'mtu_request=9000'])).to.deep.equal([{ iface: 'dpdk0', mtu: 9000 }]);
    expect(mtuRequests(['ip', 'netns', 'exec', 'vsd1', '/usr/bin/ovs-vsctl', 'set', 'interface', 'dpdk1', 'mtu_request=68'])).to.deep.equal([
      { iface: 'dpdk1', mtu: 68 },
    ]);
  });

  it('reads every command of a `--`-joined line and skips options', () => {
    const argv = ['ovs-vsctl', '--timeout=5', 'set', 'Interface', 'a', 'mtu_request=9000', '--', 'set', 'Interface', 'b', 'type=dpdk', 'mtu_request=1500'];
    expect(mtuRequests(argv)).to.deep.equal([
      { iface: 'a', mtu: 9000 },
      { iface: 'b', mtu: 1500 },
    ]);
  });

  it('ignores other tables, other columns, other tools and gets', () => {
    expect(mtuRequests(['ovs-vsctl', 'set', 'Port', 'dpdk0', 'mtu_request=9000'])).to.deep.equal([]);
    expect(mtuRequests(['ovs-vsctl', 'get', 'Interface', 'dpdk0', 'mtu'])).to.deep.equal([]);
    expect(mtuRequests(['ovs-vsctl', 'set', 'Interface', 'dpdk0', 'options:n_rxq=2'])).to.deep.equal([]);
    expect(mtuRequests(['ovs-appctl', 'set', 'Interface', 'dpdk0', 'mtu_request=9000'])).to.deep.equal([]);
    expect(mtuRequests(['sh', '-c', 'ovs-vsctl set Interface dpdk0 mtu_request=9000 | cat'])).to.deep.equal([]);
  });
});
