/**
 * Conformance kit for VSwitch drivers: bridges, ports, flows and counters. Like the generator kit it
 * runs in mocha and matches errors by code. The fixture gives two "physical" ports and, optionally, a
 * way to put frames on them, so the counters can be checked against frames that really crossed.
 */
import { expect } from 'chai';
import type { FlowSpec, PhyPort, PortStats, VSwitch } from '../api/deployment.js';
import { errorCode } from '../api/errors.js';

export interface VSwitchFixture {
  readonly vswitch: VSwitch;
  /** Two ports the switch can attach (e.g. the switch ends of two veth pairs). */
  readonly ports: readonly [PhyPort, PhyPort];
  /** Put `frames` identical broadcast frames on the wire of port `index` (towards the switch). */
  inject?(index: number, frames: number): Promise<void>;
  close(): Promise<void>;
}

const BRIDGE = 'vsc-br0';

async function stats(vs: VSwitch, name: string): Promise<PortStats> {
  const s = (await vs.portStats(BRIDGE)).find((p) => p.name === name);
  expect(s, `port ${name} in portStats`).to.not.equal(undefined);
  return s!;
}

export function describeVSwitch(name: string, make: () => Promise<VSwitchFixture>): void {
  describe(`VSwitch conformance: ${name}`, function () {
    this.timeout(120_000);
    let fx: VSwitchFixture | undefined;
    // The names the switch gave the ports (a kernel netdev keeps its own name).
    const port: string[] = [];
    const vs = (): VSwitch => fx!.vswitch;
    before(async () => {
      fx = await make();
      await fx.vswitch.start();
    });
    after(async () => {
      await fx?.vswitch.stop();
      await fx?.close();
    });

    it('reports a version and adds a bridge with two ports at the OpenFlow numbers asked for', async () => {
      expect((await vs().version()).trim()).to.not.equal('');
      await vs().addBridge(BRIDGE);
      const a = await vs().addPhyPort(BRIDGE, 'vscp1', fx!.ports[0], 1);
      const b = await vs().addPhyPort(BRIDGE, 'vscp2', fx!.ports[1], 2);
      expect([a.ofport, b.ofport]).to.deep.equal([1, 2]);
      port.push(a.name, b.name);
      const names = (await vs().portStats(BRIDGE)).map((p) => p.name);
      expect(names).to.include.members(port);
    });

    it('installs, lists and deletes flows', async () => {
      await vs().delFlows(BRIDGE);
      expect(await vs().dumpFlows(BRIDGE), 'no flows after delFlows').to.deep.equal([]);
      const flows: FlowSpec[] = [
        { type: 'port', inPort: 1, outPorts: [2] },
        { type: 'match', match: { inPort: 2, dlType: 0x0800, nwDst: '10.0.0.1' }, outPorts: [1] },
      ];
      if (vs().addFlows) await vs().addFlows!(BRIDGE, flows);
      else for (const f of flows) await vs().addFlow(BRIDGE, f);
      const dumped = await vs().dumpFlows(BRIDGE);
      expect(dumped.length, dumped.join('\n')).to.equal(2);
      expect(dumped.join('\n')).to.match(new RegExp(`in_port=("?${port[0]}"?|1)\\b`));
      expect(dumped.join('\n')).to.include('10.0.0.1');
      await vs().delFlows(BRIDGE);
      expect(await vs().dumpFlows(BRIDGE)).to.deep.equal([]);
    });

    it('refuses a malformed flow with a coded error', async () => {
      let err: unknown;
      try {
        await vs().addFlow(BRIDGE, { type: 'raw', flow: 'no_such_field=1,actions=drop' });
      } catch (e) {
        err = e;
      }
      expect(errorCode(err), String(err)).to.match(/^E_[A-Z_]+$/);
    });

    it('counts per port: frames in on port 1 are counted there and, through a port flow, out on port 2', async function () {
      const s1 = await stats(vs(), port[0]!);
      for (const k of ['rxPackets', 'txPackets', 'rxDropped', 'txDropped'] as const) expect(Number.isInteger(s1[k]) && s1[k] >= 0, k).to.equal(true);
      if (!fx!.inject) return;
      await vs().addFlow(BRIDGE, { type: 'port', inPort: 1, outPorts: [2] });
      await vs().clearStats?.(BRIDGE);
      const before1 = await stats(vs(), port[0]!);
      const before2 = await stats(vs(), port[1]!);
      await fx!.inject(0, 100);
      let after1 = before1;
      let after2 = before2;
      for (let i = 0; i < 30 && (after1.rxPackets - before1.rxPackets < 100 || after2.txPackets - before2.txPackets < 100); i++) {
        await new Promise((r) => setTimeout(r, 100));
        after1 = await stats(vs(), port[0]!);
        after2 = await stats(vs(), port[1]!);
      }
      expect(after1.rxPackets - before1.rxPackets, 'received on port 1').to.be.at.least(100);
      expect(after2.txPackets - before2.txPackets, 'sent on port 2').to.be.at.least(100);
    });

    it('deletes a port', async () => {
      await vs().delPort(BRIDGE, port[1]!);
      expect((await vs().portStats(BRIDGE)).map((p) => p.name)).to.not.include(port[1]);
    });

    it('stop() twice is harmless', async () => {
      await vs().stop();
      await vs().stop();
    });
  });
}
