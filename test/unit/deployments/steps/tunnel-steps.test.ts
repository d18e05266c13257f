import { expect } from 'chai';
import { OvsSwitch } from '../../../../deployments/vswitch/ovs.js';
import { VswitchSteps, interfaceBlock, tunnelOptions } from '../../../../deployments/steps/vswitch-target.js';
import { Settings } from '../../../../framework/config/settings.js';
import { silentLogger } from '../../../../framework/log/logger.js';
import { VsperfError } from '../../../../framework/errors.js';
import type { HostOps } from '../../../../framework/host/host-ops.js';
import type { Host } from '../../../../framework/host/host.js';

/**
 * VSPERF's tunnel step operations (add_tunnel_port, add_route, set_tunnel_arp) through the vswitch
 * step object down to the argv the OVS driver runs, for both OVS drivers. The switch's answers are
 * canned (this is the argv check). No integration test runs these three steps on a real OVS yet.
 */
function recordingSwitch(name: 'OvsDpdkVhost' | 'OvsVanilla'): { ovs: OvsSwitch; argv: string[][] } {
  const argv: string[][] = [];
  const ofports = new Map<string, number>();
  const ops = {
    name: 'local',
    async exec(a: readonly string[]) {
      argv.push([...a]);
      // `add-port BR NAME -- set Interface NAME … ofport_request=N`: the switch then reports no error and that ofport.
      const req = a.find((x) => x.startsWith('ofport_request='));
      if (req) ofports.set(a[a.indexOf('add-port') + 2]!, Number(req.split('=')[1]));
      const get = a.indexOf('get');
      const stdout = get >= 0 && a[get + 3] === 'error' ? `[]\n${ofports.get(a[get + 2]!)}\n` : '';
      return { stdout, stderr: '', code: 0 };
    },
    // add-br waits for the bridge's OpenFlow socket; the tap of its LOCAL port is not ours to journal here.
    async exists(path: string) {
      return path.endsWith('.mgmt');
    },
  } as unknown as HostOps;
  const ovs = new OvsSwitch({ name, dpdk: name === 'OvsDpdkVhost', settings: new Settings({}), host: {} as Host, log: silentLogger, runDir: '/run/x', ops });
  return { ovs, argv };
}

/** The tool and its arguments after the options every call carries (db socket, timeout, target). */
function tail(a: string[]): string {
  const rest = a.filter((x) => !/^--(db|timeout)=/.test(x));
  if (rest[0] === 'ovs-appctl') return ['ovs-appctl', ...rest.slice(3)].join(' ');
  return rest.join(' ');
}

for (const name of ['OvsDpdkVhost', 'OvsVanilla'] as const) {
  describe(`vswitch tunnel steps → ${name} argv`, () => {
    it('add_tunnel_port: VSPERF naming <type><n>, the next ofport, remote_ip and options:key from params', async () => {
      const { ovs, argv } = recordingSwitch(name);
      const steps = new VswitchSteps({ vswitch: ovs, phyPorts: [], testbedLabel: 'test', vhostServerMode: false, log: silentLogger });
      await steps.call('add_switch', ['br-ext']);
      argv.length = 0;
      expect(await steps.call('add_tunnel_port', ['br-ext', '1.1.1.1', 'vxlan', ['options:key=99']])).to.deep.equal(['vxlan0', 1]);
      expect(tail(argv[0]!)).to.equal(
        'ovs-vsctl add-port br-ext vxlan0 -- set Interface vxlan0 type=vxlan options:remote_ip=1.1.1.1 options:key=99 ofport_request=1',
      );
      expect(await steps.call('add_tunnel_port', ['br-ext', '2.2.2.2', 'vxlan'])).to.deep.equal(['vxlan1', 2]);
      expect(await steps.call('add_tunnel_port', ['br-ext', '3.3.3.3', 'gre'])).to.deep.equal(['gre0', 3]);
      expect(tail(argv.filter((a) => a.includes('add-port')).at(-1)!)).to.equal(
        'ovs-vsctl add-port br-ext gre0 -- set Interface gre0 type=gre options:remote_ip=3.3.3.3 ofport_request=3',
      );
      // the default type is vxlan, as in VSPERF
      expect(await steps.call('add_tunnel_port', ['br-ext', '4.4.4.4'])).to.deep.equal(['vxlan2', 4]);
    });

    it('add_route and set_tunnel_arp: ovs-appctl ovs/route/add NETWORK BRIDGE, tnl/arp/set BRIDGE IP MAC (VSPERF parameter order)', async () => {
      const { ovs, argv } = recordingSwitch(name);
      const steps = new VswitchSteps({ vswitch: ovs, phyPorts: [], testbedLabel: 'test', vhostServerMode: false, log: silentLogger });
      steps.adopt('sb-br0', [], 'br0');
      await steps.call('add_switch', ['br-ext']);
      argv.length = 0;
      await steps.call('add_route', ['br0', '192.168.240.0/24', 'br-ext']);
      await steps.call('set_tunnel_arp', ['192.168.240.10', '02:00:00:00:00:0A', 'br0']);
      expect(argv.map(tail)).to.deep.equal([
        'ovs-appctl ovs/route/add 192.168.240.0/24 br-ext',
        // the testcase's bridge name (an alias) becomes the testbed's
        'ovs-appctl tnl/arp/set sb-br0 192.168.240.10 02:00:00:00:00:0a',
      ]);
    });

    it('bad parameters are one-line step errors before anything runs', async () => {
      const { ovs, argv } = recordingSwitch(name);
      const steps = new VswitchSteps({ vswitch: ovs, phyPorts: [], testbedLabel: 'test', vhostServerMode: false, log: silentLogger });
      await steps.call('add_switch', ['br0']);
      argv.length = 0;
      const cases: Array<[string, unknown[], RegExp]> = [
        ['add_tunnel_port', ['br0', '1.1.1.1', 'ipip'], /tunnel_type 'ipip' is not one of vxlan, gre, geneve/],
        ['add_tunnel_port', ['br0', '1.1.1', 'vxlan'], /remote_ip '1.1.1' is not an IPv4 address/],
        ['add_tunnel_port', ['br0', '1.1.1.1', 'vxlan', ['--', 'set', 'Bridge']], /'--' is not an Interface option/],
        ['add_tunnel_port', ['nope', '1.1.1.1'], /no bridge nope/],
        ['add_route', ['br0', '10.0.0.1', 'br0'], /network '10.0.0.1' is not an IPv4 network/],
        ['add_route', ['nope', '10.0.0.0/8', 'br0'], /no bridge nope/],
        ['set_tunnel_arp', ['10.0.0.1', 'zz:00:00:00:00:00', 'br0'], /mac_addr 'zz:00:00:00:00:00' is not a MAC address/],
        ['set_tunnel_arp', ['10.0.0.1', '02:00:00:00:00:01', 'nope'], /no bridge nope/],
      ];
      for (const [m, args, re] of cases) {
        const err = await steps.call(m, args as never).catch((e: unknown) => e);
        expect(err, `${m} ${JSON.stringify(args)}`).to.be.instanceOf(VsperfError);
        expect((err as Error).message).to.match(re);
      }
      expect(argv).to.deep.equal([]);
    });
  });
}

describe('vswitch tunnel step helpers', () => {
  it('tunnelOptions takes options:<name>=<value> only', () => {
    expect(tunnelOptions(null)).to.deep.equal({});
    expect(tunnelOptions(['options:key=99', 'options:dst_port=4790'])).to.deep.equal({ key: '99', dst_port: '4790' });
    expect(tunnelOptions('options:key=flow')).to.deep.equal({ key: 'flow' });
    expect(() => tunnelOptions(['options:remote_ip=1.1.1.1'])).to.throw(/second parameter/);
    expect(() => tunnelOptions(['options:key=a b'])).to.throw(/not an Interface option/);
  });

  it('interfaceBlock reads one interface of ovs-vsctl show', () => {
    const show = [
      '8f1c',
      '    Bridge br-ext',
      '        Port vxlan0',
      '            Interface vxlan0',
      '                type: vxlan',
      '                options: {key="99", remote_ip="1.1.1.1"}',
      '        Port br-ext',
      '            Interface br-ext',
      '                type: internal',
    ].join('\n');
    expect(interfaceBlock(show, 'vxlan0')).to.equal('                type: vxlan\n                options: {key="99", remote_ip="1.1.1.1"}');
    expect(interfaceBlock(show, 'br-ext')).to.equal('                type: internal');
    expect(interfaceBlock(show, 'vxlan1')).to.equal(undefined);
  });
});
