/**
 * op2p and ptunp put the tunnel endpoint addresses on the kernel the switch runs on: through the
 * switch's HostOps (another host when the switch is remote) and in its namespace, never with `ip` on
 * the controller. The switch here records what it is told (no OVS needed for the order of calls); its
 * host is a recording HostOps that stands for a remote one.
 */
import { expect } from 'chai';
import { Config } from '../../../../framework/config/load.js';
import type { FlowSpec, PhyPort, SwitchPort, VSwitch } from '../../../../framework/api/deployment.js';
import type { HostOps } from '../../../../framework/host/host-ops.js';
import { CapabilityError } from '../../../../framework/errors.js';
import { op2pTopology } from '../../../../deployments/topologies/op2p.js';
import { ptunpTopology } from '../../../../deployments/topologies/ptunp.js';

function remoteHost(ran: string[][]): HostOps {
  const no = (): never => {
    throw new Error('not used by the topology');
  };
  return {
    name: 'gen-host',
    exec: async (argv) => {
      ran.push([...argv]);
      return { stdout: '', stderr: '', code: 0, signal: null } as never;
    },
    spawn: no,
    exists: no,
    readFile: no,
    writeFile: no,
    makeDir: no,
    mount: no,
    track: no,
    nextId: no,
  };
}

function recordingSwitch(ran: string[][], netns: string | undefined, withHost = true): VSwitch {
  const port = async (_b: string, name: string, _p: unknown, ofport: number): Promise<SwitchPort> => ({ name, ofport });
  return {
    name: 'Recording',
    start: async () => {},
    stop: async () => {},
    version: async () => '9.9',
    addBridge: async () => {},
    addPhyPort: port as (b: string, n: string, p: PhyPort, o: number) => Promise<SwitchPort>,
    addVhostPort: async (_b, name, ofport) => ({ name, ofport }),
    delPort: async () => {},
    addFlow: async (_b: string, _f: FlowSpec) => {},
    delFlows: async () => {},
    dumpFlows: async () => [],
    portStats: async () => [],
    addTunnelPort: async (_b, name, _t, _r, ofport) => ({ name, ofport }),
    addPatchPorts: async (a, b) => [
      { name: a.name, ofport: a.ofport },
      { name: b.name, ofport: b.ofport },
    ],
    addTunnelRoute: async () => {},
    setTunnelArp: async () => {},
    interfaceMac: async () => '02:00:00:00:00:aa',
    toolNetns: () => netns,
    ...(withHost ? { hostOps: () => remoteHost(ran) } : {}),
  };
}

const PORTS: PhyPort[] = [
  { kind: 'pci', pci: '0000:00:00.1' },
  { kind: 'pci', pci: '0000:00:00.2' },
];

describe("tunnel deployments: endpoint addresses go to the switch's host", () => {
  const config = new Config({ integration: true });
  const settingsOf = (name: string) => {
    const i = config.testcases().findIndex((t) => t.name === name);
    expect(i, name).to.be.at.least(0);
    return config.forTestcase(config.testcases()[i]!, i);
  };

  it('ptunp: ip addr/link on the switch host in its namespace (a remote OVS: no namespace), nothing on the controller', async () => {
    for (const netns of ['vsdsw0', undefined]) {
      const ran: string[][] = [];
      await ptunpTopology(settingsOf('overlay_p2p_mod_tput'), recordingSwitch(ran, netns), PORTS);
      const ns = netns ? ['-n', netns] : [];
      expect(ran).to.deep.equal([
        ['ip', ...ns, 'link', 'set', 'dev', 'br-phy1', 'up'],
        ['ip', ...ns, 'link', 'set', 'dev', 'br-phy2', 'up'],
        ['ip', ...ns, 'addr', 'add', '10.0.0.1/24', 'dev', 'br-mod1'],
        ['ip', ...ns, 'link', 'set', 'dev', 'br-mod1', 'up'],
        ['ip', ...ns, 'addr', 'add', '20.0.0.1/24', 'dev', 'br-mod2'],
        ['ip', ...ns, 'link', 'set', 'dev', 'br-mod2', 'up'],
      ]);
    }
  });

  it('op2p: the same, for both bridges', async () => {
    const ran: string[][] = [];
    await op2pTopology(settingsOf('overlay_p2p_tput'), recordingSwitch(ran, 'vsdsw0'), PORTS);
    expect(ran.map((a) => a.slice(0, 5).join(' '))).to.deep.equal([
      'ip -n vsdsw0 addr add',
      'ip -n vsdsw0 link set',
      'ip -n vsdsw0 addr add',
      'ip -n vsdsw0 link set',
    ]);
  });

  it('a switch that does not say which host it runs on cannot carry them: one line', async () => {
    const ran: string[][] = [];
    for (const [name, run] of [
      ['overlay_p2p_mod_tput', (s: ReturnType<typeof settingsOf>) => ptunpTopology(s, recordingSwitch(ran, undefined, false), PORTS)],
      ['overlay_p2p_tput', (s: ReturnType<typeof settingsOf>) => op2pTopology(s, recordingSwitch(ran, undefined, false), PORTS)],
    ] as const) {
      let err: unknown;
      await run(settingsOf(name)).catch((e: unknown) => (err = e));
      expect(err, name).to.be.instanceOf(CapabilityError);
    }
    expect(ran).to.deep.equal([]);
  });
});
