/**
 * ptunp (VSPERF's VXLAN encap and decap inside the switch) on the sandbox with a private OVS-DPDK and
 * the Software generator, which sends plain frames both ways. The tunnel exists only inside OVS
 * (br-mod1, br-mod2 and their patch ports), so the test first checks br-mod1's flows as ovs-ofctl
 * dumps them against VSPERF's, then copies what crosses br-mod1 to a tap of its own, and tcpdump, an observer independent of the generator and of OVS's counters, sees every frame
 * in each direction with the outer headers OVS pushed and the rewrite flows set, and the generator's
 * frame (trailer included) inside. The generator's counts are checked against OVS's port counters. Then VSPERF's
 * overlay_p2p_mod_tput through the real runner (`--integration`), with short trials.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../../framework/host/exec.js';
import { Child } from '../../../framework/host/child.js';
import type { SwitchCounters } from '../../../framework/api/deployment.js';
import type { JsonObject } from '../../../framework/config/settings.js';
import { trafficFromSettings } from '../../../framework/methodology/traffic-spec.js';
import type { OvsSwitch } from '../../../deployments/vswitch/ovs.js';
import { createSoftware, type SoftwareGenerator } from '../../../trafficgen/software/driver.js';
import { leftovers, NOTHING, runCatalogue, SandboxFixture, scopeOf, type TestCtx } from './helpers.js';
import { pcapFrames } from '../software/pcap.js';
import { ip4, macAt, startCapture } from './capture.js';

const N = 400;
const PATCH = 'br-mod1-br-mod2-0';
/** OpenFlow number of the test's tap on br-mod1. */
const TAP = 9;

/** tcpdumps started by a test: stopped after it, also when it failed half-way. */
const captures: Child[] = [];

describe('deployments: ptunp, VXLAN encap and decap inside OVS-DPDK (integration)', function () {
  this.timeout(240_000);
  const fx = new SandboxFixture();
  let t: TestCtx | undefined;
  let gen: SoftwareGenerator | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'vsd-ptunp-'));

  afterEach(async () => {
    for (const c of captures.splice(0)) await c.stop(1000);
    await gen?.close();
    gen = undefined;
    t = undefined;
    await fx.release();
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('both directions: every frame crosses the tunnel (a copy of what crosses the patch ports: rewritten outer headers, VNI 99, the generator frame inside); OVS counters agree', async () => {
    // No rate calibration at connect: its frames would cross the switch before the capture's.
    t = fx.use({ VSWITCH: 'OvsDpdkVhost', SANDBOX_PORT_IO: 'af_packet', TRAFFIC: { bidir: 'True' }, TRAFFICGEN_SOFTWARE_CALIBRATE_S: 0 });
    const { topo } = await fx.deploy('ptunp');
    expect(topo.facts).to.include({
      deployment: 'ptunp',
      tunnel_type: 'vxlan',
      tunnel_bridges: 'br-phy1, br-phy2, br-mod1, br-mod2',
      tunnel_ports: 'vxlan0 on br-phy1 (remote_ip 10.0.0.2, key 99), vxlan1 on br-phy2 (remote_ip 20.0.0.2, key 99)',
      flows_installed: 8,
    });
    const ovs = topo.vswitch as OvsSwitch;
    const netns = String(topo.facts.testbed_switch_netns);
    // br-mod1's flows as OVS has them, read with ovs-ofctl itself and compared with VSPERF's
    // (core/vswitch_controller_ptunp.py: patch → LOCAL; LOCAL ip → rewrite to br-mod2's endpoint pair →
    // patch), written out here rather than taken from the deployment's plan.
    const ofctl = async (...args: string[]): Promise<string[]> =>
      (await exec([...ovs.toolArgv('ovs-ofctl'), ...args], { env: { ...process.env, ...ovs.toolEnv() } })).stdout
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('OFPST_FLOW') && !/reply/.test(l));
    const installed = await ofctl('--no-stats', 'dump-flows', 'br-mod1');
    expect(installed.sort()).to.deep.equal(
      [
        'in_port=1 actions=LOCAL',
        'ip,in_port=LOCAL actions=set_field:00:00:20:00:00:02->eth_src,set_field:00:00:20:00:00:01->eth_dst,set_field:20.0.0.2->ip_src,set_field:20.0.0.1->ip_dst,output:1',
      ].sort(),
    );
    // The test's observer: a tap on br-mod1 that gets copies of the tunnelled frames. OVS mirrors do not
    // see patch-port traffic (Mirror statistics stay 0), so the flows just read are shadowed by copies
    // with more outputs to the tap: gen 0 → 1 as vxlan0 pushed it and as rewritten for br-mod2 (what
    // crosses the patch port), gen 1 → 0 as it arrives from br-mod2.
    await ovs.vsctl(['add-port', 'br-mod1', 'vsdmir0', '--', 'set', 'Interface', 'vsdmir0', 'type=internal', `ofport_request=${TAP}`]);
    await exec(['ip', '-n', netns, 'link', 'set', 'dev', 'vsdmir0', 'up']);
    for (const line of installed) {
      const [match, actions] = line.split(' actions=') as [string, string];
      // Copied before the actions; the LOCAL flow's frame a second time after its rewrite.
      const out = match.includes('in_port=LOCAL') ? `output:${TAP},${actions},output:${TAP}` : `output:${TAP},${actions}`;
      await ovs.addFlow('br-mod1', { type: 'raw', flow: `priority=40000,${match},actions=${out}` });
    }
    const file = join(dir, 'ptunp.pcap');
    const size = 128;
    gen = await createSoftware(t.ctx);
    await gen.connect(topo.generatorPorts);
    const dump = await startCapture(netns, 'vsdmir0', file, 3 * N, ['udp', 'port', '4789'], captures);
    const spec = { ...trafficFromSettings(t.ctx.settings, size, { unit: 'fps', value: 2000 }), frames: N, drainS: 0.5 };
    await topo.beforeTrial!();
    const r = await gen.runTrial(spec);
    const sw = (await topo.afterTrial!()) as unknown as SwitchCounters;
    const port = (name: string) => sw.ports.find((p) => p.name === name)!;
    for (const d of [0, 1]) {
      expect(r.directions[d]!.txFrames, `direction ${d}: sent`).to.equal(N);
      expect(r.directions[d]!.rxFrames, `direction ${d}: received, matched by the trailer`).to.equal(N);
    }
    for (const p of ['dpdk0', 'dpdk1']) {
      expect(port(p).rxPackets, `OVS ${p}: from the generator`).to.equal(N);
      expect(port(p).txPackets, `OVS ${p}: to the generator`).to.equal(N);
    }
    console.log(`      tunnel ports tx (N = ${N}): vxlan0 ${port('vxlan0').txPackets}, vxlan1 ${port('vxlan1').txPackets}`);
    for (const p of ['vxlan0', 'vxlan1']) {
      expect(port(p).rxPackets, `OVS ${p}: decapsulated`).to.equal(N);
      // OVS 3.1's userspace datapath credits a pushed tunnel header twice to the tunnel port's tx
      // counter (measured here: 2N on both, as in op2p); the phy and patch ports are the exact observers.
      expect(port(p).txPackets, `OVS ${p}: encapsulated`).to.equal(2 * N);
    }
    for (const p of [PATCH, 'br-mod2-br-mod1-0']) {
      expect(port(p).txPackets, `OVS ${p}: tunnelled frames sent across`).to.equal(N);
      expect(port(p).rxPackets, `OVS ${p}: tunnelled frames received`).to.equal(N);
    }
    await Promise.race([dump.waitExit(), new Promise((res) => setTimeout(res, 10_000))]);
    await dump.stop(1000);
    const frames = pcapFrames(file);
    expect(frames, `${dump.tail(5)}\n${(await ovs.dumpFlows('br-mod1')).join('\n')}`).to.have.length(3 * N);
    const seen = new Map<string, number>();
    for (const f of frames) {
      expect(f.length, 'VXLAN headers (50 B) around the 124-byte frame').to.equal(size - 4 + 50);
      expect(f.readUInt16BE(12), 'outer IPv4').to.equal(0x0800);
      expect(f[23], 'outer UDP').to.equal(17);
      expect(f.readUInt16BE(36), 'outer UDP dst port').to.equal(4789);
      expect(f.readUInt32BE(46) >>> 8, 'VNI: VXLAN_VNI').to.equal(99);
      const inner = f.subarray(50);
      expect(inner[inner.length - 14], 'trailer magic at the end of the inner frame').to.equal(0x56);
      const key = `${macAt(f, 6)} > ${macAt(f, 0)} ${ip4(f, 26)} > ${ip4(f, 30)} | ${ip4(inner, 26)} > ${ip4(inner, 30)}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    // gen 0 → gen 1: pushed by vxlan0 (10.0.0.1 → 10.0.0.2, MACs of br-mod1 and its ARP entry), then
    // rewritten on br-mod1 for br-mod2 to pop; gen 1 → gen 0: the mirror image, as br-mod2 sent it.
    expect(Object.fromEntries(seen)).to.deep.equal({
      '00:00:10:00:00:01 > 00:00:10:00:00:02 10.0.0.1 > 10.0.0.2 | 1.1.1.1 > 90.90.90.90': N,
      '00:00:20:00:00:02 > 00:00:20:00:00:01 20.0.0.2 > 20.0.0.1 | 1.1.1.1 > 90.90.90.90': N,
      '00:00:10:00:00:02 > 00:00:10:00:00:01 10.0.0.2 > 10.0.0.1 | 90.90.90.90 > 1.1.1.1': N,
    });
    // tcpdump's own VXLAN decoder agrees.
    const text = (await exec(['tcpdump', '-nn', '-e', '-r', file], { allowFail: true })).stdout;
    const re = (x: string): string => x.replace(/\./g, '\\.');
    for (const [a, b, inner] of [
      ['10.0.0.1', '10.0.0.2', '1.1.1.1.3000 > 90.90.90.90.3001'],
      ['20.0.0.2', '20.0.0.1', '1.1.1.1.3000 > 90.90.90.90.3001'],
      ['10.0.0.2', '10.0.0.1', '90.90.90.90.3001 > 1.1.1.1.3000'],
    ])
      expect(text, text).to.match(new RegExp(`${re(a)}\\.\\d+ > ${re(b)}\\.4789: VXLAN, flags \\[I\\] \\(0x08\\), vni 99\n.*${re(inner)}: UDP`));
  });

  it('overlay_p2p_mod_tput through the runner (--integration): passes, counters consistent, throughput found', async () => {
    const results = await runCatalogue(
      ['overlay_p2p_mod_tput'],
      {
        TRAFFICGEN: 'Software',
        VSWITCH: 'OvsDpdkVhost',
        TRAFFICGEN_DURATION: 1,
        TRAFFICGEN_RFC2544_TESTS: 1,
      } as JsonObject,
      join(dir, 'results'),
      'ptunp',
      { integration: true },
    );
    const r = results[0]!;
    expect(r.status, JSON.stringify(r.error)).to.equal('passed');
    expect(r.facts).to.include({ deployment: 'ptunp', tunnel_type: 'vxlan' });
    expect(r.rows[0]).to.include({ deployment: 'ptunp', packet_size: 64 });
    expect(Number(r.rows[0]!.throughput_rx_fps)).to.be.greaterThan(0);
    const checked = r.trials.filter((x) => x.counterCheck);
    expect(checked.length).to.be.greaterThan(0);
    expect(
      checked.every((x) => x.counterCheck!.consistent),
      JSON.stringify(checked.map((x) => x.counterCheck)),
    ).to.equal(true);
    expect(await leftovers(scopeOf(r.facts))).to.deep.equal(NOTHING);
  });
});
