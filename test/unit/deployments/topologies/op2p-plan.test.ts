/**
 * op2p as data: VSPERF's layout for encapsulation and decapsulation (vswitch_controller_op2p.py), the
 * generator's stream (testcase.py for a "Tunnel Operation"), and one-line errors for bad settings.
 */
import { expect } from 'chai';
import { Settings, type JsonObject } from '../../../../framework/config/settings.js';
import { ConfigError, CapabilityError } from '../../../../framework/errors.js';
import { OP2P_OFPORT, op2pPlan, op2pSettings, op2pTraffic, vanillaIntAddress } from '../../../../deployments/topologies/op2p-plan.js';
import { checkOp2p } from '../../../../deployments/topologies/op2p.js';
import { streamFromSettings } from '../../../../framework/methodology/traffic-spec.js';
import { checkTrialSpec } from '../../../../framework/api/trial-check.js';
import type { GeneratorCaps } from '../../../../framework/api/trafficgen.js';
import { NoSwitch } from '../../../../deployments/vswitch/none.js';
import { buildPlan } from '../../../../trafficgen/software/plan.js';

/** VSPERF's conf/integration/02_vswitch.conf and 03_traffic.conf values that matter here. */
const VSPERF: JsonObject = {
  VTEP_IP1: '192.168.0.1/24',
  VTEP_IP2: '192.168.240.10',
  VTEP_IP2_SUBNET: '192.168.240.0/24',
  TUNNEL_INTEGRATION_BRIDGE: 'vsperf-br0',
  TUNNEL_EXTERNAL_BRIDGE: 'vsperf-br-ext',
  TUNNEL_EXTERNAL_BRIDGE_IP: '192.168.240.1/24',
  TUNNEL_TYPE: 'vxlan',
  TRAFFICGEN_PORT1_MAC: '02:00:00:00:00:01',
  TRAFFICGEN_PORT2_MAC: '02:00:00:00:00:02',
  TRAFFICGEN_PORT1_IP: '1.1.1.1',
  TRAFFICGEN_PORT2_IP: '90.90.90.90',
  VXLAN_VNI: '99',
  VXLAN_FRAME_L2: { srcmac: '01:02:03:04:05:06', dstmac: '06:05:04:03:02:01' },
  VXLAN_FRAME_L3: { proto: 'udp', packetsize: 64, srcip: '1.1.1.1', dstip: '192.168.240.1' },
  VXLAN_FRAME_L4: {
    srcport: 4789,
    dstport: 4789,
    vni: '99',
    inner_srcmac: '01:02:03:04:05:06',
    inner_dstmac: '06:05:04:03:02:01',
    inner_srcip: '192.168.0.10',
    inner_dstip: '192.168.240.9',
    inner_proto: 'udp',
    inner_srcport: 3000,
    inner_dstport: 3001,
  },
  GRE_FRAME_L2: { srcmac: '01:02:03:04:05:06', dstmac: '06:05:04:03:02:01' },
  GRE_FRAME_L3: { proto: 'gre', packetsize: 64, srcip: '1.1.1.1', dstip: '192.168.240.1' },
  GRE_FRAME_L4: { srcport: 0, dstport: 0, inner_srcip: '192.168.0.10', inner_dstip: '192.168.240.9', inner_srcport: 3000, inner_dstport: 3001 },
  TRAFFIC: { traffic_type: 'rfc2544_continuous', bidir: 'False', l2: { srcmac: '00:00:00:00:00:00', dstmac: '00:00:00:00:00:00' }, l3: {}, l4: {} },
};

const settings = (o: JsonObject = {}): Settings => new Settings(VSPERF).with(o, '--test-params');

/** The external bridge's MAC as the deployment reads it from the switch. */
const EXT_MAC = '0a:00:00:00:00:aa';

/** The generator's stream of an op2p run: the deployment's TRAFFIC over `base`, frames of `frameSize`. */
const op2pStream = (o: ReturnType<typeof op2pSettings>, frameSize: number, base = settings()): ReturnType<typeof streamFromSettings> =>
  streamFromSettings(base.with({ TRAFFIC: op2pTraffic(o, EXT_MAC) }, 'deployment'), frameSize);

const PORT = { name: 'g0', speedMbps: 1000, mtuFound: 1500 };

/** The Software generator's plan for 5 frames of `stream` from `tx` (default PORT) to g1. */
const softwarePlan = (stream: ReturnType<typeof streamFromSettings>, rate: { unit: 'fps' | 'pct'; value: number }, tx = PORT): ReturnType<typeof buildPlan> =>
  buildPlan({ stream, bidir: false, rate, latency: true, frames: 5 }, [tx, { ...PORT, name: 'g1' }], {
    backend: 'af_packet',
    drainS: 0.5,
    progressMs: 0,
    learningFps: 100,
  });

describe('op2p plan (VSPERF overlay deployment)', () => {
  it('encapsulation: phy0 and the tunnel port (to VTEP_IP2) on the integration bridge, phy1 on the external one; route and ARP out of br-ext', () => {
    const p = op2pPlan(op2pSettings(settings({ TUNNEL_OPERATION: 'encapsulation' })));
    expect(p.bridges).to.deep.equal([
      { name: 'vsperf-br0', address: '192.168.0.1/24' },
      { name: 'vsperf-br-ext', address: '192.168.240.1/24' },
    ]);
    expect(p.phy).to.deep.equal([
      { bridge: 'vsperf-br0', ofport: 1 },
      { bridge: 'vsperf-br-ext', ofport: 1 },
    ]);
    expect(p.tunnel).to.deep.equal({ bridge: 'vsperf-br0', name: 'vxlan0', type: 'vxlan', remoteIp: '192.168.240.10', ofport: 2, options: {} });
    expect(p.routes).to.deep.equal([{ network: '192.168.240.0/24', bridge: 'vsperf-br-ext' }]);
    expect(p.neighbours).to.deep.equal([{ bridge: 'vsperf-br-ext', ip: '192.168.240.10', mac: '02:00:00:00:00:02' }]);
    expect(p.flows).to.deep.equal([
      { bridge: 'vsperf-br0', flow: { type: 'port', inPort: 1, outPorts: [2] } },
      { bridge: 'vsperf-br-ext', flow: { type: 'raw', flow: 'actions=NORMAL' } },
    ]);
  });

  it('decapsulation: the tunnel port (from TRAFFICGEN_PORT1_IP, VXLAN key VXLAN_VNI) and phy1 on the external bridge, NORMAL on the integration bridge', () => {
    const p = op2pPlan(op2pSettings(settings({ TUNNEL_OPERATION: 'decapsulation' })));
    expect(p.tunnel).to.deep.equal({ bridge: 'vsperf-br-ext', name: 'vxlan0', type: 'vxlan', remoteIp: '1.1.1.1', ofport: 2, options: { key: '99' } });
    expect(p.routes).to.deep.equal([]);
    expect(p.flows).to.deep.equal([
      { bridge: 'vsperf-br-ext', flow: { type: 'port', inPort: OP2P_OFPORT.tunnel, outPorts: [OP2P_OFPORT.phy] } },
      { bridge: 'vsperf-br0', flow: { type: 'raw', flow: 'actions=NORMAL' } },
    ]);
    // GRE has no key in VSPERF's decapsulation setup.
    expect(op2pPlan(op2pSettings(settings({ TUNNEL_OPERATION: 'decapsulation', TUNNEL_TYPE: 'gre' }))).tunnel.options).to.deep.equal({});
  });

  it("decapsulation on OvsVanilla: VSPERF's _setup_decap_vanilla (phy0 → LOCAL on br-ext, tunnel port and phy1 on the integration bridge with TUNNEL_INT_BRIDGE_IP)", () => {
    // VSPERF's user guide values for the Vanilla decapsulation tests
    const o = op2pSettings(
      settings({ TUNNEL_OPERATION: 'decapsulation', TUNNEL_INT_BRIDGE_IP: '192.168.1.1', VTEP_IP2_SUBNET: '192.168.1.0/24' }),
      'OvsVanilla',
    );
    const p = op2pPlan(o);
    expect(p.bridges).to.deep.equal([
      // without a prefix the address takes VTEP_IP2_SUBNET's: OVS needs it there to route that subnet out of the bridge
      { name: 'vsperf-br0', address: '192.168.1.1/24' },
      { name: 'vsperf-br-ext', address: '192.168.240.1/24' },
    ]);
    // generator port 0 faces the external bridge (VSPERF adds its physical port first)
    expect(p.phy).to.deep.equal([
      { bridge: 'vsperf-br-ext', ofport: 1 },
      { bridge: 'vsperf-br0', ofport: 1 },
    ]);
    expect(p.tunnel).to.deep.equal({ bridge: 'vsperf-br0', name: 'vxlan0', type: 'vxlan', remoteIp: '1.1.1.1', ofport: 2, options: { key: '99' } });
    expect(p.routes).to.deep.equal([{ network: '192.168.1.0/24', bridge: 'vsperf-br0' }]);
    expect(p.neighbours).to.deep.equal([{ bridge: 'vsperf-br-ext', ip: '90.90.90.90', mac: '02:00:00:00:00:02' }]);
    // An address outside VTEP_IP2_SUBNET (the defaults: 192.168.1.1 against 192.168.240.0/24) would make OVS refuse the
    // route after the switch is built (seen on the sandbox: "Error while inserting route"): a plan-time error instead.
    expect(() => op2pPlan(op2pSettings(settings({ TUNNEL_OPERATION: 'decapsulation' }), 'OvsVanilla'))).to.throw(
      /TUNNEL_INT_BRIDGE_IP 192\.168\.1\.1 must be an address in VTEP_IP2_SUBNET 192\.168\.240\.0\/24/,
    );
    expect(vanillaIntAddress({ intBridgeIp: '192.168.1.1/28', vtepSubnet: '192.168.1.0/24' })).to.equal('192.168.1.1/28');
    expect(vanillaIntAddress({ intBridgeIp: '192.168.1.1/16', vtepSubnet: '192.168.1.0/24' })).to.equal('192.168.1.1/16');
    // VSPERF's `ip addr add 192.168.1.1/32`-style address is what OVS refuses
    expect(() => vanillaIntAddress({ intBridgeIp: '192.168.1.1/32', vtepSubnet: '192.168.1.0/24' })).to.throw(/must be an address in/);
    expect(p.flows).to.deep.equal([
      { bridge: 'vsperf-br-ext', flow: { type: 'raw', flow: 'in_port=1,actions=LOCAL' } },
      { bridge: 'vsperf-br0', flow: { type: 'raw', flow: 'actions=NORMAL' } },
    ]);
    // The frames go to the external bridge's address, as with OvsDpdkVhost.
    expect((op2pTraffic(o, EXT_MAC).tunnel as JsonObject).outer).to.include({ dstIp: '192.168.240.1', dstMac: EXT_MAC });
    // VSPERF defines no default; ours is its user guide's value. A prefix is allowed, a bad address is not.
    expect(op2pSettings(settings(), 'OvsVanilla').intBridgeIp).to.equal('192.168.1.1');
    expect(op2pSettings(settings({ TUNNEL_INT_BRIDGE_IP: '10.1.1.1/24' }), 'OvsVanilla').intBridgeIp).to.equal('10.1.1.1/24');
    expect(() => op2pSettings(settings({ TUNNEL_INT_BRIDGE_IP: '10.1.1' }), 'OvsVanilla')).to.throw(
      ConfigError,
      /TUNNEL_INT_BRIDGE_IP.*optionally with a prefix length/,
    );
    // Encapsulation is the same layout on both switches (tnl/arp/set stands for VSPERF's `arp -s`).
    const enc = (v: string) => op2pPlan(op2pSettings(settings({ TUNNEL_OPERATION: 'encapsulation' }), v));
    expect(enc('OvsVanilla')).to.deep.equal(enc('OvsDpdkVhost'));
  });

  it('without TUNNEL_OPERATION op2p decapsulates, as VSPERF does', () => {
    expect(op2pSettings(settings()).operation).to.equal('decapsulation');
  });

  it('encapsulation stream: plain frames TRAFFICGEN_PORT1 → PORT2', () => {
    const o = op2pSettings(settings({ TUNNEL_OPERATION: 'encapsulation' }));
    const st = op2pStream(o, 128);
    expect(st.l2).to.deep.equal({ srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02' });
    expect([st.l3.srcIp, st.l3.dstIp]).to.deep.equal(['1.1.1.1', '90.90.90.90']);
    expect(st.tunnel).to.deep.equal({ type: 'vxlan', operation: 'encapsulation' });
  });

  it('decapsulation stream: inner frame from <TYPE>_FRAME_L4 inner_*, outer from _FRAME_L2/L3/L4 with the external bridge MAC as destination', () => {
    const o = op2pSettings(settings({ TUNNEL_OPERATION: 'decapsulation' }));
    const st = op2pStream(o, 128);
    expect(st.l2).to.deep.equal({ srcMac: '01:02:03:04:05:06', dstMac: '06:05:04:03:02:01' });
    expect([st.l3.srcIp, st.l3.dstIp, st.l4.srcPort, st.l4.dstPort]).to.deep.equal(['192.168.0.10', '192.168.240.9', 3000, 3001]);
    expect(st.tunnel).to.deep.equal({
      type: 'vxlan',
      operation: 'decapsulation',
      outer: { srcMac: '01:02:03:04:05:06', dstMac: EXT_MAC, srcIp: '1.1.1.1', dstIp: '192.168.240.1', srcPort: 4789, dstPort: 4789, vni: 99 },
    });
    // The Software generator sends it with the outer headers (encap=) in front of the 128-byte inner frame.
    const plan128 = softwarePlan(st, { unit: 'fps', value: 10 }).plan;
    expect(plan128.streams[0]!.encap).to.match(/^0a00000000aa010203040506080045/);
    expect(plan128.streams[0]!.encap!.length / 2).to.equal(50);
    expect(plan128.streams[0]!.sizes, 'engine sizes: outer frames without FCS').to.deep.equal([128 + 50 - 4]);
    // VSPERF's default 64 B names the inner frame: the generator sends 114-byte frames; line rate is at that size.
    const p64 = softwarePlan(op2pStream(o, 64), { unit: 'pct', value: 100 });
    expect(p64.plan.streams[0]!.sizes).to.deep.equal([110]);
    expect(Math.round(p64.offeredFps), '100 % of 1 Gbit/s at 114 B + 20 B preamble/IFG').to.equal(Math.round(1e9 / ((114 + 20) * 8)));
    // The MTU of the sending port must hold the outer frame.
    expect(() => softwarePlan(st, { unit: 'fps', value: 10 }, { ...PORT, mtuFound: 150 })).to.throw(
      /frame size 178 B \(128 B inside 50 B of outer headers\) is larger than port g0 allows: it needs MTU 160/,
    );
  });

  it('bad settings are one-line configuration errors naming the setting', () => {
    const cases: Array<[JsonObject, RegExp]> = [
      [{ TUNNEL_TYPE: 'ipip' }, /TUNNEL_TYPE.*must be one of vxlan, gre, geneve, got "ipip"/],
      [{ TUNNEL_OPERATION: 'both' }, /TUNNEL_OPERATION.*must be encapsulation or decapsulation, got "both"/],
      [{ VTEP_IP1: '192.168.0.1' }, /VTEP_IP1.*must be an IPv4 address with a prefix length/],
      [{ TRAFFICGEN_PORT2_MAC: '02:00:00:00:00' }, /TRAFFICGEN_PORT2_MAC.*must be a MAC address/],
      [{ VXLAN_VNI: 'x' }, /VXLAN_VNI.*must be a number/],
      [{ TUNNEL_EXTERNAL_BRIDGE: 'a-bridge-name-too-long' }, /TUNNEL_EXTERNAL_BRIDGE.*1-15/],
    ];
    for (const [o, re] of cases) {
      let err: unknown;
      try {
        op2pSettings(settings(o));
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(o)).to.be.instanceOf(ConfigError);
      expect((err as Error).message)
        .to.match(re)
        .and.not.include('\n');
    }
  });

  it('a switch without tunnel ports, and bidirectional traffic, are refused before anything is built', () => {
    expect(() => checkOp2p(settings(), new NoSwitch())).to.throw(CapabilityError, /none does not support tunnel ports \(deployment op2p\)/);
    const ovsLike = Object.assign(new NoSwitch(), {
      addTunnelPort: async () => ({ name: 'x', ofport: 3 }),
      setTunnelArp: async () => {},
      addTunnelRoute: async () => {},
      interfaceMac: async () => '',
    });
    expect(() => checkOp2p(settings({ TRAFFIC: { bidir: 'True' } }), ovsLike)).to.throw(/op2p sends traffic one way only/);
  });

  it('a generator that cannot send a tunnel type refuses the trial with E_CAPABILITY', () => {
    const caps: GeneratorCaps = { continuous: true, latency: true, bidir: true, imix: true, vlan: true, ipv6: true, maxFrameSize: 9018, tunnels: ['vxlan'] };
    const o = op2pSettings(settings({ TUNNEL_OPERATION: 'decapsulation', TUNNEL_TYPE: 'gre' }));
    const stream = op2pStream(o, 128, settings({ TUNNEL_TYPE: 'gre' }));
    const spec = { stream, bidir: false, rate: { unit: 'fps' as const, value: 10 }, latency: true, frames: 5 };
    expect(() => checkTrialSpec('Ixia', caps, spec)).to.throw(CapabilityError, /Ixia does not support gre tunnels \(TUNNEL_TYPE\): it can do vxlan/);
    const { tunnels: _t, ...none } = caps;
    expect(() => checkTrialSpec('Ixia', none, spec)).to.throw(/it can do none/);
  });
});
