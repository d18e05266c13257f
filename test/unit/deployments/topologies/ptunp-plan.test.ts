/**
 * ptunp as data: VSPERF's layout (core/vswitch_controller_ptunp.py with conf/integration/02_vswitch.conf),
 * the flows as OVS gets them, and one-line errors for bad settings.
 */
import { expect } from 'chai';
import { Settings, type JsonObject } from '../../../../framework/config/settings.js';
import { CapabilityError, ConfigError, UsageError } from '../../../../framework/errors.js';
import { networkOf, ptunpPlan, ptunpSettings, remoteIp, remoteMac } from '../../../../deployments/topologies/ptunp-plan.js';
import { checkPtunp } from '../../../../deployments/topologies/ptunp.js';
import { flowText } from '../../../../deployments/flows.js';
import { NoSwitch } from '../../../../deployments/vswitch/none.js';

/** VSPERF's conf/integration/02_vswitch.conf values. */
const VSPERF: JsonObject = {
  TUNNEL_TYPE: 'vxlan',
  VXLAN_VNI: '99',
  TUNNEL_EXTERNAL_BRIDGE1: 'br-phy1',
  TUNNEL_EXTERNAL_BRIDGE2: 'br-phy2',
  TUNNEL_MODIFY_BRIDGE1: 'br-mod1',
  TUNNEL_MODIFY_BRIDGE2: 'br-mod2',
  TUNNEL_MODIFY_BRIDGE_MAC1: '00:00:10:00:00:01',
  TUNNEL_MODIFY_BRIDGE_MAC2: '00:00:20:00:00:01',
  TUNNEL_MODIFY_BRIDGE_IP1: '10.0.0.1/24',
  TUNNEL_MODIFY_BRIDGE_IP2: '20.0.0.1/24',
};

const settings = (o: JsonObject = {}): Settings => new Settings(VSPERF).with(o, '--test-params');

describe('ptunp plan (VSPERF VXLAN encap/decap inside the switch)', () => {
  it("bridges, ports, routes and tunnel ARP entries as VSPERF's controller sets them", () => {
    const p = ptunpPlan(ptunpSettings(settings()));
    expect(p.bridges).to.deep.equal([
      { name: 'br-phy1' },
      { name: 'br-phy2' },
      { name: 'br-mod1', hwaddr: '00:00:10:00:00:01', address: '10.0.0.1/24' },
      { name: 'br-mod2', hwaddr: '00:00:20:00:00:01', address: '20.0.0.1/24' },
    ]);
    expect(p.phy).to.deep.equal([
      { bridge: 'br-phy1', name: 'dpdk0', ofport: 1 },
      { bridge: 'br-phy2', name: 'dpdk1', ofport: 1 },
    ]);
    expect(p.tunnels).to.deep.equal([
      { bridge: 'br-phy1', name: 'vxlan0', ofport: 2, remoteIp: '10.0.0.2', options: { key: '99' } },
      { bridge: 'br-phy2', name: 'vxlan1', ofport: 2, remoteIp: '20.0.0.2', options: { key: '99' } },
    ]);
    expect(p.patch).to.deep.equal([
      { bridge: 'br-mod1', name: 'br-mod1-br-mod2-0', ofport: 1 },
      { bridge: 'br-mod2', name: 'br-mod2-br-mod1-0', ofport: 1 },
    ]);
    expect(p.routes).to.deep.equal([
      { network: '10.0.0.0/24', bridge: 'br-mod1' },
      { network: '20.0.0.0/24', bridge: 'br-mod2' },
    ]);
    expect(p.neighbours).to.deep.equal([
      { bridge: 'br-phy1', ip: '10.0.0.1', mac: '00:00:10:00:00:01' },
      { bridge: 'br-phy2', ip: '20.0.0.1', mac: '00:00:20:00:00:01' },
      { bridge: 'br-mod1', ip: '10.0.0.2', mac: '00:00:10:00:00:02' },
      { bridge: 'br-mod2', ip: '20.0.0.2', mac: '00:00:20:00:00:02' },
    ]);
  });

  it('flows: phy ↔ tunnel on the phy bridges; on each modify bridge patch → LOCAL and LOCAL → rewrite to the other endpoint pair → patch', () => {
    const p = ptunpPlan(ptunpSettings(settings()));
    const text = p.flows.map((f) => `${f.bridge}: ${flowText(f.flow, { idle_timeout: '0' })}`);
    expect(text).to.deep.equal([
      'br-phy1: idle_timeout=0,in_port=1,actions=output:2',
      'br-phy1: idle_timeout=0,in_port=2,actions=output:1',
      'br-phy2: idle_timeout=0,in_port=1,actions=output:2',
      'br-phy2: idle_timeout=0,in_port=2,actions=output:1',
      'br-mod1: in_port=1,actions=output:LOCAL',
      // Pushed on br-phy1 as 10.0.0.1 → 10.0.0.2; leaves as 20.0.0.2 → 20.0.0.1 for br-mod2 to pop.
      'br-mod1: in_port=LOCAL,ip,actions=mod_dl_src:00:00:20:00:00:02,mod_dl_dst:00:00:20:00:00:01,mod_nw_src:20.0.0.2,mod_nw_dst:20.0.0.1,output:1',
      'br-mod2: in_port=1,actions=output:LOCAL',
      'br-mod2: in_port=LOCAL,ip,actions=mod_dl_src:00:00:10:00:00:02,mod_dl_dst:00:00:10:00:00:01,mod_nw_src:10.0.0.2,mod_nw_dst:10.0.0.1,output:1',
    ]);
  });

  it("VSPERF's address arithmetic: endpoint + 1 (carrying across octets), network of an address", () => {
    expect(remoteIp('10.0.0.1/24')).to.equal('10.0.0.2');
    expect(remoteIp('10.0.0.255/16')).to.equal('10.0.1.0');
    expect(remoteMac('00:00:10:00:00:ff')).to.equal('00:00:10:00:01:00');
    expect(networkOf('172.16.5.9/12')).to.equal('172.16.0.0/12');
  });

  it('other names and addresses flow into the plan', () => {
    const p = ptunpPlan(
      ptunpSettings(
        settings({
          TUNNEL_MODIFY_BRIDGE1: 'm1',
          TUNNEL_MODIFY_BRIDGE2: 'm2',
          TUNNEL_MODIFY_BRIDGE_IP1: '172.16.1.10/16',
          TUNNEL_MODIFY_BRIDGE_MAC2: '02:AA:00:00:00:05',
          VXLAN_VNI: '5000',
        }),
      ),
    );
    expect(p.patch.map((x) => x.name)).to.deep.equal(['m1-m2-0', 'm2-m1-0']);
    expect(p.tunnels.map((t) => [t.remoteIp, t.options.key])).to.deep.equal([
      ['172.16.1.11', '5000'],
      ['20.0.0.2', '5000'],
    ]);
    expect(p.routes[0]).to.deep.equal({ network: '172.16.0.0/16', bridge: 'm1' });
    expect(p.bridges[3]).to.deep.equal({ name: 'm2', hwaddr: '02:aa:00:00:00:05', address: '20.0.0.1/24' });
  });

  it('bad settings are one-line errors naming the setting', () => {
    expect(() => ptunpSettings(settings({ TUNNEL_TYPE: 'gre' }))).to.throw(UsageError, /ptunp builds VXLAN tunnels only \(as VSPERF\), got TUNNEL_TYPE gre/);
    expect(() => ptunpSettings(settings({ TUNNEL_TYPE: 'ipip' }))).to.throw(ConfigError, /^TUNNEL_TYPE: must be one of vxlan, gre, geneve/);
    expect(() => ptunpSettings(settings({ TUNNEL_MODIFY_BRIDGE_IP1: '10.0.0.1' }))).to.throw(
      ConfigError,
      /^TUNNEL_MODIFY_BRIDGE_IP1: must be an IPv4 address with a prefix length/,
    );
    expect(() => ptunpSettings(settings({ TUNNEL_MODIFY_BRIDGE_IP2: '20.0.0.254/24' }))).to.throw(
      ConfigError,
      /^TUNNEL_MODIFY_BRIDGE_IP2: the remote tunnel endpoint is this address plus one \(as in VSPERF\): 20\.0\.0\.255 must be a host address on 20\.0\.0\.0\/24/,
    );
    expect(() => ptunpSettings(settings({ TUNNEL_MODIFY_BRIDGE_IP1: '10.0.0.1/31' }))).to.throw(
      ConfigError,
      /TUNNEL_MODIFY_BRIDGE_IP1: the remote tunnel endpoint/,
    );
    expect(() => ptunpSettings(settings({ TUNNEL_MODIFY_BRIDGE_MAC1: '01:00:10:00:00:01' }))).to.throw(
      ConfigError,
      /^TUNNEL_MODIFY_BRIDGE_MAC1: must be a unicast MAC/,
    );
    expect(() => ptunpSettings(settings({ TUNNEL_MODIFY_BRIDGE_MAC2: '00:00:10:00:00:02' }))).to.throw(
      UsageError,
      /their successors \(the remote endpoints\) must all differ/,
    );
    expect(() => ptunpSettings(settings({ TUNNEL_MODIFY_BRIDGE_IP2: '10.0.0.7/24' }))).to.throw(UsageError, /must be on different subnets/);
    expect(() => ptunpSettings(settings({ TUNNEL_MODIFY_BRIDGE2: 'br-phy1' }))).to.throw(
      UsageError,
      /four different bridges, got br-phy1, br-phy2, br-mod1, br-phy1/,
    );
    expect(() => ptunpSettings(settings({ TUNNEL_EXTERNAL_BRIDGE1: 'a-very-long-bridge' }))).to.throw(
      ConfigError,
      /^TUNNEL_EXTERNAL_BRIDGE1: must be a bridge \(interface\) name/,
    );
    expect(() => ptunpSettings(settings({ VXLAN_VNI: '16777216' }))).to.throw(ConfigError, /^VXLAN_VNI: must be a number 0-16777215/);
  });

  it('a switch without tunnel and patch ports is refused before anything is built', () => {
    expect(() => checkPtunp(settings(), new NoSwitch())).to.throw(CapabilityError, /none does not support tunnel and patch ports \(deployment ptunp\)/);
  });
});
