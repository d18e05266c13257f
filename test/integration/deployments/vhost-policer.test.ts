/**
 * How OVS-DPDK counts what an ingress policer on a vhost-user client port drops. dpdk-testpmd is the
 * port's virtio-user frontend (txonly, interactive so it stays connected while OVS is read: OVS clears
 * a vhost port's counters when its frontend goes) and its TX-packets, the frames it put on the ring, is
 * the independent count of what reached the port. A second port without a policer is the control.
 * Then the counter check on those figures: no frame may read as lost before the switch.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { Child } from '../../../framework/host/child.js';
import type { SwitchCounters } from '../../../framework/api/deployment.js';
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

  it('rx_packets, rx_dropped and ovs_rx_qos_drops against what testpmd put on the ring; the counter check reads no loss before the switch', async () => {
    const t = fx.use({ VSWITCH: 'OvsDpdkVhost' });
    const { topo } = await fx.deploy('phy2phy');
    const ovs = topo.vswitch as OvsSwitch;
    const bridge = String(topo.facts.bridge);
    const socks: string[] = [];
    for (const [i, name] of PORTS.entries()) {
      const p = await ovs.addVhostPort(bridge, name, OFPORTS[i]!);
      expect(p.switchServes, 'dpdkvhostuserclient: OVS connects to the frontend').to.not.equal(true);
      socks.push(p.socketPath!);
      await ovs.addFlow(bridge, { type: 'raw', flow: `in_port=${OFPORTS[i]},actions=drop` });
    }
    // 1000 kbit/s: a few thousand 64 B frames a second pass, the rest is the policer's.
    await ovs.vsctl(['set', 'Interface', PORTS[0], 'ingress_policing_rate=1000', 'ingress_policing_burst=100']);
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
    const read = async (): Promise<Record<string, number>[]> =>
      Promise.all(PORTS.map(async (n) => statistics((await ovs.vsctl(['get', 'Interface', n, 'statistics'])).stdout)));
    const before = await read();
    say('set fwd txonly');
    say('start');
    await sleep(2000);
    say('stop');
    expect(await waitUntil(() => testpmdTx(out).length === 2, 10_000, 100), out).to.equal(true);
    // The Interface statistics in the database are refreshed every 5 s (stats-update-interval); OpenFlow's
    // dump-ports is live: read once both agree on rx_packets (the PMD has emptied the rings by then).
    let after: Record<string, number>[] = [];
    let stats: Awaited<ReturnType<OvsSwitch['portStats']>> = [];
    const fresh = async (): Promise<boolean> => {
      stats = await ovs.portStats(bridge);
      after = await read();
      return PORTS.every((n, i) => stats.find((p) => p.name === n)?.rxPackets === after[i]!.rx_packets);
    };
    await sleep(1000);
    expect(await waitUntil(fresh, 15_000, 500), 'database statistics caught up with dump-ports').to.equal(true);
    const tx = testpmdTx(out);
    const d = PORTS.map((_, i) => Object.fromEntries(Object.keys(after[i]!).map((k) => [k, after[i]![k]! - (before[i]![k] ?? 0)])));
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    console.log(`      measured (load ${load}): testpmd TX-packets ${JSON.stringify(tx)}; OVS statistics delta ${JSON.stringify(d)}`);
    say('quit');

    const [pol, ctl] = d as [Record<string, number>, Record<string, number>];
    // The control port: every frame testpmd put on the ring, nothing dropped.
    expect(ctl.rx_packets, 'control port: rx_packets = testpmd TX-packets').to.equal(tx[1]);
    expect(ctl.rx_dropped).to.equal(0);
    // The policed port: the policer dropped most; rx_packets is every frame dequeued (DPDK's vhost
    // counters, before the policer runs), so the policed ones are in rx_packets and in rx_dropped.
    expect(pol.ovs_rx_qos_drops, 'policer drops').to.be.greaterThan(tx[0]! / 2);
    expect(pol.rx_dropped, 'rx_dropped = the policer drops').to.equal(pol.ovs_rx_qos_drops);
    expect(pol.rx_packets, 'rx_packets includes what the policer dropped').to.equal(tx[0]);
    expect(pol.rx_q0_good_packets, "DPDK's vhost queue count").to.equal(tx[0]);
    const port = (n: string) => stats.find((p) => p.name === n)!;
    expect(port(PORTS[0]).rxPolicedInRxPackets, 'the driver says so for this port type').to.equal(true);

    // The counter check with testpmd as the generator: all its frames reached the switch, the policer's are lost in it.
    const sw: SwitchCounters = {
      vswitch: ovs.name,
      ports: PORTS.map((n, i) => ({
        ...port(n),
        rxPackets: d[i]!.rx_packets!,
        rxDropped: d[i]!.rx_dropped!,
        rxPolicerDropped: d[i]!.ovs_rx_qos_drops!,
        txPackets: 0,
      })),
      generatorPorts: PORTS.map((n, i) => ({ index: i, port: n, rxFromGenerator: d[i]!.rx_packets!, txToGenerator: 0 })),
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
