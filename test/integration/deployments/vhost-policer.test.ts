/**
 * How OVS-DPDK counts what an ingress policer on a vhost-user client port drops, and that the switch
 * driver reads it live. dpdk-testpmd is the port's virtio-user frontend (txonly, interactive so it stays
 * connected while OVS is read: OVS clears a vhost port's packet counts when its frontend goes) and its
 * TX-packets, the frames it put on the ring, is the independent count of what reached the port; the
 * flow table's count of the port's frames is what passed the policer. A second port without a policer
 * is the control. The trial is 2 s, shorter than OVS's database refresh (stats-update-interval, here
 * set to an hour so the database cannot catch up by chance): the driver's read right after the trial
 * must already have every drop. Then the counter check on those figures: no frame lost before the switch.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { Child } from '../../../framework/host/child.js';
import type { PortStats, SwitchCounters } from '../../../framework/api/deployment.js';
import type { TrialResult } from '../../../framework/api/trafficgen.js';
import { checkCounters } from '../../../framework/methodology/counter-check.js';
import { sleep, waitUntil } from '../../../framework/host/proc.js';
import type { OvsSwitch } from '../../../deployments/vswitch/ovs.js';
import { SandboxFixture } from './helpers.js';

const PORTS = ['vsdpol0', 'vsdpol1'] as const;
const OFPORTS = [11, 12] as const;

/** `ovs-vsctl get Interface NAME statistics` → counters. */
function statistics(text: string): Record<string, number> {
  return Object.fromEntries([...text.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
}

/** testpmd's "Forward statistics for port N" block → TX-packets per port. */
function testpmdTx(out: string): number[] {
  const tx: number[] = [];
  for (const m of out.matchAll(/Forward statistics for port (\d+)[\s\S]*?TX-packets:\s*(\d+)/g)) tx[Number(m[1])] = Number(m[2]);
  return tx;
}

describe('deployments: ingress policer on a vhost-user client port, counted by OVS-DPDK (integration)', function () {
  this.timeout(180_000);
  const fx = new SandboxFixture();
  let pmd: Child | undefined;

  afterEach(async () => {
    await pmd?.stop(3000);
    pmd = undefined;
    await fx.release();
  });

  it("a 2 s policed trial: the driver's read right after it has every policer drop (testpmd's count less the flow table's); the counter check reads no loss before the switch", async () => {
    const t = fx.use({ VSWITCH: 'OvsDpdkVhost' });
    const { topo } = await fx.deploy('phy2phy');
    const ovs = topo.vswitch as OvsSwitch;
    const bridge = String(topo.facts.bridge);
    const socks: string[] = [];
    for (const [i, name] of PORTS.entries()) {
      const p = await ovs.addVhostPort(bridge, name, OFPORTS[i]!);
      expect(p.switchServes, 'dpdkvhostuserclient: OVS connects to the frontend').to.not.equal(true);
      socks.push(p.socketPath!);
      // The flow counts the frames that passed the port's policer (then drops them).
      await ovs.addFlow(bridge, { type: 'raw', flow: `in_port=${OFPORTS[i]},actions=drop` });
    }
    // 1000 kbit/s: a few thousand 64 B frames a second pass, the rest is the policer's.
    await ovs.vsctl(['set', 'Interface', PORTS[0], 'ingress_policing_rate=1000', 'ingress_policing_burst=100']);
    // The database's Interface statistics are written once now (a changed interval refreshes them) and
    // not again for an hour: whatever reads them after the trial reads the state before it.
    await ovs.vsctl(['set', 'Open_vSwitch', '.', 'other_config:stats-update-interval=3600000']);
    const prefix = `vsdpol-${process.pid}`;
    pmd = await t.ctx.host.spawn(
      [
        // testpmd's printf output is block-buffered on a pipe: line-buffered, its stats arrive when printed.
        'stdbuf',
        '-oL',
        'dpdk-testpmd',
        '--lcores=0@0,1@0',
        '-n',
        '1',
        '--no-pci',
        '--in-memory',
        '--single-file-segments',
        '--no-telemetry',
        '--file-prefix',
        prefix,
        ...socks.map((s, i) => `--vdev=net_virtio_user${i},path=${s},server=1,queues=1,queue_size=256`),
        '--',
        '-i',
        '--nb-cores=1',
        '--total-num-mbufs=4096',
        '--rxd=256',
        '--txd=256',
      ],
      { label: 'stop dpdk-testpmd (policer test)', graceMs: 3000, stdinPipe: true, tailChars: 65536 },
    );
    let out = '';
    pmd.proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const say = (cmd: string): void => void pmd!.proc.stdin!.write(`${cmd}\n`);
    const link = async (name: string): Promise<string> => (await ovs.vsctl(['get', 'Interface', name, 'link_state'])).stdout.trim();
    expect(await waitUntil(async () => (await Promise.all(PORTS.map(link))).every((s) => s === 'up'), 30_000, 200), `${pmd.tail(20)}`).to.equal(true);
    expect(await waitUntil(() => /testpmd> /.test(out), 30_000, 100), out).to.equal(true);
    const db = async (): Promise<Record<string, number>[]> =>
      Promise.all(PORTS.map(async (n) => statistics((await ovs.vsctl(['get', 'Interface', n, 'statistics'])).stdout)));
    const flowPackets = async (): Promise<number[]> => {
      await ovs.syncStats();
      const flows = await ovs.dumpFlows(bridge);
      return OFPORTS.map((o, i) =>
        Number(/n_packets=(\d+)/.exec(flows.find((f) => new RegExp(`in_port=(${o}|"?${PORTS[i]}"?)[ ,]`).test(f)) ?? '')?.[1] ?? NaN),
      );
    };
    const port = (stats: PortStats[], n: string): PortStats => stats.find((p) => p.name === n)!;
    const before = await ovs.portStats(bridge);
    const flowsBefore = await flowPackets();
    say('set fwd txonly');
    say('start');
    await sleep(2000);
    say('stop');
    expect(await waitUntil(() => testpmdTx(out).length === 2, 10_000, 100), out).to.equal(true);
    const tx = testpmdTx(out);
    // The driver's read as soon as the PMD has dequeued the rings (rx_packets = testpmd's TX, live).
    let after: PortStats[] = [];
    const dequeued = async (): Promise<boolean> => {
      after = await ovs.portStats(bridge);
      return PORTS.every((n, i) => port(after, n).rxPackets - port(before, n).rxPackets === tx[i]);
    };
    expect(await waitUntil(dequeued, 5000, 50), JSON.stringify(after)).to.equal(true);
    const passed = (await flowPackets()).map((n, i) => n - flowsBefore[i]!);
    const stale = await db();
    // Now let the database catch up (a changed interval refreshes it at once) for the last observer.
    await ovs.vsctl(['set', 'Open_vSwitch', '.', 'other_config:stats-update-interval=5000']);
    let fresh: Record<string, number>[] = [];
    expect(
      await waitUntil(
        async () => {
          fresh = await db();
          return PORTS.every((n, i) => fresh[i]!.rx_packets === port(after, n).rxPackets);
        },
        15_000,
        200,
      ),
      'database statistics refreshed',
    ).to.equal(true);
    const d = PORTS.map((n) => {
      const a = port(after, n);
      const b = port(before, n);
      return { rx: a.rxPackets - b.rxPackets, dropped: a.rxDropped - b.rxDropped, policed: a.rxPolicerDropped! - b.rxPolicerDropped! };
    });
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    console.log(
      `      measured (load ${load}): testpmd TX-packets ${JSON.stringify(tx)}; flow table ${JSON.stringify(passed)}; driver's read (deltas) ${JSON.stringify(d)}; ` +
        `database ovs_rx_qos_drops then ${stale[0]!.ovs_rx_qos_drops}, refreshed ${fresh[0]!.ovs_rx_qos_drops}`,
    );
    say('quit');

    const [pol, ctl] = d as [(typeof d)[0], (typeof d)[0]];
    // The control port: every frame testpmd put on the ring, nothing dropped, all through the flow table.
    expect(ctl).to.deep.equal({ rx: tx[1], dropped: 0, policed: 0 });
    expect(passed[1], 'control port: flow table = testpmd TX-packets').to.equal(tx[1]);
    // The policed port: every frame reached it (rx_packets, counted before the policer), the policer
    // dropped most, and what it did not drop went through the flow table: the drops, read live, are
    // testpmd's count less the flow table's, to the frame.
    expect(pol.rx, 'rx_packets = testpmd TX-packets').to.equal(tx[0]);
    expect(pol.policed, 'policer drops').to.be.greaterThan(tx[0]! / 2);
    expect(pol.policed, "policer drops = testpmd's TX-packets - the flow table's packets").to.equal(tx[0]! - passed[0]!);
    expect(pol.dropped, 'rx_dropped = the policer drops').to.equal(pol.policed);
    // The switch's own count, once its database caught up, agrees; before, it had none of this trial.
    expect(fresh[0]!.ovs_rx_qos_drops, 'database, refreshed').to.equal(port(after, PORTS[0]).rxPolicerDropped);
    expect(stale[0]!.ovs_rx_qos_drops, 'database, before its refresh: the trial is not in it').to.equal(port(before, PORTS[0]).rxPolicerDropped);
    expect(port(after, PORTS[0]).rxPolicedInRxPackets, 'the driver says so for this port type').to.equal(true);

    // The counter check with testpmd as the generator, on the driver's live deltas: all its frames
    // reached the switch, the policer's are lost in it.
    const sw: SwitchCounters = {
      vswitch: ovs.name,
      ports: PORTS.map((n, i) => ({
        ...port(after, n),
        rxPackets: d[i]!.rx,
        rxDropped: d[i]!.dropped,
        rxPolicerDropped: d[i]!.policed,
        txPackets: 0,
      })),
      generatorPorts: PORTS.map((n, i) => ({ index: i, port: n, rxFromGenerator: d[i]!.rx, txToGenerator: 0 })),
    };
    const result = {
      directions: [
        { fromPort: 0, toPort: 1, txFrames: tx[0]!, rxFrames: 0 },
        { fromPort: 1, toPort: 0, txFrames: tx[1]!, rxFrames: 0 },
      ],
    } as unknown as TrialResult;
    const check = checkCounters(result, sw);
    expect(check.consistent, JSON.stringify(check)).to.equal(true);
    expect(check.directions[0]).to.include({ lostBeforeSwitch: 0, lostInSwitch: tx[0] });
    expect(check.directions[1]).to.include({ lostBeforeSwitch: 0, lostInSwitch: tx[1] });
  });
});
