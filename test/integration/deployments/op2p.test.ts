/**
 * op2p (VSPERF overlay phy → tunnel endpoint → phy) on the sandbox with a private OVS-DPDK and the
 * Software generator: the switch encapsulates what the generator sends (and tcpdump, an observer
 * independent of both, sees the outer headers as configured and the inner frame with the trailer),
 * or decapsulates what the generator sends encapsulated. Generator counts are checked against the
 * switch's own port counters, tunnel port included. Then VSPERF's overlay_p2p_cont and
 * overlay_p2p_decap_cont through the real runner (`--integration`).
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../../framework/host/exec.js';
import { Child } from '../../../framework/host/child.js';
import type { Deployment, SwitchCounters, Topology } from '../../../framework/api/deployment.js';
import type { TunnelType } from '../../../framework/api/trafficgen.js';
import type { JsonObject } from '../../../framework/config/settings.js';
import { trafficFromSettings } from '../../../framework/methodology/traffic-spec.js';
import { createSoftware, type SoftwareGenerator } from '../../../trafficgen/software/driver.js';
import { leftovers, mergeScopes, NOTHING, runCatalogue, SandboxFixture, scopeOf, type TestCtx } from './helpers.js';
import { pcapFrames } from '../software/pcap.js';
import { ip4, macAt, startCapture } from './capture.js';

const N = 500;

/** tcpdumps started by a test: stopped after it, also when it failed half-way. */
const captures: Child[] = [];

describe('deployments: op2p overlay (VXLAN, GRE, GENEVE) on OVS-DPDK (integration)', function () {
  this.timeout(180_000);
  const fx = new SandboxFixture();
  let t: TestCtx | undefined;
  let gen: SoftwareGenerator | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'vsd-op2p-'));

  afterEach(async () => {
    for (const c of captures.splice(0)) await c.stop(1000);
    await gen?.close();
    gen = undefined;
    t = undefined;
    await fx.release();
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  async function deploy(settings: JsonObject): Promise<{ dep: Deployment; topo: Topology }> {
    // VSPERF's overlay testcases send one way (bidir False).
    // No rate calibration at connect: its frames would cross the switch before the capture's.
    t = fx.use({ VSWITCH: 'OvsDpdkVhost', SANDBOX_PORT_IO: 'af_packet', TRAFFIC: { bidir: 'False' }, TRAFFICGEN_SOFTWARE_CALIBRATE_S: 0, ...settings });
    return fx.deploy('op2p');
  }

  /** N frames of `size` bytes through the deployment; generator result and switch counters of that trial. */
  async function trial(topo: Topology, size: number, connected: () => Promise<void> = async () => {}) {
    gen = await createSoftware(t!.ctx);
    await gen.connect(topo.generatorPorts);
    await connected();
    const shaped = t!.ctx.settings.with({ TRAFFIC: { ...topo.trafficOverrides } }, 'deployment op2p');
    const spec = { ...trafficFromSettings(shaped, size, { unit: 'fps', value: 2000 }), frames: N, drainS: 0.5 };
    await topo.beforeTrial!();
    const r = await gen.runTrial(spec);
    const sw = (await topo.afterTrial!()) as unknown as SwitchCounters;
    const port = (name: string) => sw.ports.find((p) => p.name === name)!;
    return { r, sw, port, spec };
  }

  const encapCases: Array<[TunnelType, number]> = [
    ['vxlan', 50],
    ['geneve', 50],
  ];
  for (const [type, outerLen] of encapCases) {
    it(`encapsulation, ${type}: OVS wraps every frame; the wire shows the configured outer headers and the inner frame with the trailer`, async () => {
      const { topo } = await deploy({ TUNNEL_OPERATION: 'encapsulation', TUNNEL_TYPE: type });
      expect(topo.facts).to.include({ tunnel_type: type, tunnel_operation: 'encapsulation' });
      expect(String(topo.facts.tunnel_port)).to.match(new RegExp(`^${type}0 on vsperf-br0 \\(remote_ip 192\\.168\\.240\\.10\\)`));
      const g1 = topo.generatorPorts[1]!;
      const file = join(dir, `encap-${type}.pcap`);
      let dump: Child | undefined;
      const size = 128;
      const { r, port } = await trial(topo, size, async () => void (dump = await startCapture(g1.netns!, g1.name, file, N, ['ip'], captures)));
      expect(r.directions[0]!.txFrames, 'sent').to.equal(N);
      expect(r.directions[0]!.rxFrames, 'received, matched by the trailer inside the tunnel').to.equal(N);
      expect(port('dpdk0').rxPackets, 'OVS: received from generator port 0').to.equal(N);
      // OVS 3.1's userspace datapath credits each pushed tunnel header twice to the tunnel port's tx
      // counter (this box: exactly 2N); the phy ports are the exact observers.
      expect(port(`${type}0`).txPackets, 'OVS: sent into the tunnel').to.be.oneOf([N, 2 * N]);
      expect(port('dpdk1').txPackets, 'OVS: sent to generator port 1').to.equal(N);
      await Promise.race([dump!.waitExit(), new Promise((res) => setTimeout(res, 10_000))]);
      await dump!.stop(1000);
      const frames = pcapFrames(file);
      expect(frames).to.have.length(N);
      for (const f of frames) {
        expect(f.length, 'outer headers added to the 124-byte frame').to.equal(size - 4 + outerLen);
        expect(macAt(f, 0), 'outer dst MAC: the tunnel ARP entry (TRAFFICGEN_PORT2_MAC)').to.equal('02:00:00:00:00:02');
        expect(macAt(f, 6), 'outer src MAC: the external bridge').to.equal(topo.facts.tunnel_external_bridge_mac);
        expect(ip4(f, 26), 'outer src IP: TUNNEL_EXTERNAL_BRIDGE_IP').to.equal('192.168.240.1');
        expect(ip4(f, 30), 'outer dst IP: VTEP_IP2').to.equal('192.168.240.10');
        expect(f[23], 'outer protocol UDP').to.equal(17);
        expect(f.readUInt16BE(36), 'outer UDP dst port').to.equal(type === 'vxlan' ? 4789 : 6081);
        const inner = f.subarray(outerLen);
        expect(macAt(inner, 0), 'inner dst MAC').to.equal('02:00:00:00:00:02');
        expect(ip4(inner, 26) + ' > ' + ip4(inner, 30), 'inner IPs: TRAFFICGEN_PORT1_IP > TRAFFICGEN_PORT2_IP').to.equal('1.1.1.1 > 90.90.90.90');
        expect(inner[inner.length - 14], 'trailer magic at the end of the inner frame').to.equal(0x56);
      }
      const text = (await exec(['tcpdump', '-nn', '-e', '-r', file, '-c', '2'], { allowFail: true })).stdout;
      expect(text, text).to.match(
        type === 'vxlan'
          ? /192\.168\.240\.1\.\d+ > 192\.168\.240\.10\.4789: VXLAN, flags \[I\] \(0x08\), vni 0\n?.*02:00:00:00:00:01 > 02:00:00:00:00:02.*1\.1\.1\.1\.3000 > 90\.90\.90\.90\.3001: UDP/
          : /192\.168\.240\.1\.\d+ > 192\.168\.240\.10\.6081: Geneve, Flags \[none\], vni 0x0.*02:00:00:00:00:01 > 02:00:00:00:00:02.*1\.1\.1\.1\.3000 > 90\.90\.90\.90\.3001: UDP/,
      );
    });
  }

  // Frame sizes name the inner frame: VSPERF's default 64 B (the generator sends 114-byte VXLAN frames), and 256 B.
  const decapCases: Array<[TunnelType, number]> = [
    ['vxlan', 64],
    ['gre', 256],
  ];
  for (const [type, size] of decapCases) {
    it(`decapsulation, ${type}, ${size} B inner frames: the generator sends tunnelled frames, OVS strips the outer headers; counters agree on both sides`, async () => {
      const { topo } = await deploy({ TUNNEL_OPERATION: 'decapsulation', TUNNEL_TYPE: type });
      expect(topo.facts).to.include({ tunnel_type: type, tunnel_operation: 'decapsulation' });
      expect(String(topo.facts.tunnel_port)).to.match(
        new RegExp(`^${type}0 on vsperf-br-ext \\(remote_ip 1\\.1\\.1\\.1${type === 'vxlan' ? ', key 99' : ''}\\)`),
      );
      const g1 = topo.generatorPorts[1]!;
      const file = join(dir, `decap-${type}.pcap`);
      let dump: Child | undefined;
      const { r, port, spec } = await trial(topo, size, async () => void (dump = await startCapture(g1.netns!, g1.name, file, N, ['ip'], captures)));
      expect(spec.stream.tunnel?.outer?.dstMac, 'outer dst MAC: the external bridge').to.equal(topo.facts.tunnel_external_bridge_mac);
      expect(r.directions[0]!.txFrames).to.equal(N);
      expect(r.directions[0]!.rxFrames, 'received decapsulated, matched by the trailer').to.equal(N);
      expect(port('dpdk0').rxPackets, 'OVS: tunnelled frames from generator port 0').to.equal(N);
      expect(port(`${type}0`).rxPackets, 'OVS: received on the tunnel port').to.equal(N);
      expect(port('dpdk1').txPackets, 'OVS: decapsulated frames to generator port 1').to.equal(N);
      await Promise.race([dump!.waitExit(), new Promise((res) => setTimeout(res, 10_000))]);
      await dump!.stop(1000);
      const frames = pcapFrames(file);
      expect(frames).to.have.length(N);
      expect(port('dpdk0').rxBytes, 'OVS: the generator sent the outer headers in front of each inner frame').to.equal(
        N * (size - 4 + (type === 'gre' ? 38 : 50)),
      );
      for (const f of frames) {
        expect(f.length, 'the inner frame, as sized').to.equal(size - 4);
        // VSPERF's <TYPE>_FRAME_L4 inner_* defaults.
        expect(macAt(f, 0) + ' ' + macAt(f, 6)).to.equal('06:05:04:03:02:01 01:02:03:04:05:06');
        expect(ip4(f, 26) + ' > ' + ip4(f, 30)).to.equal('192.168.0.10 > 192.168.240.9');
        expect(f[f.length - 14], 'trailer magic').to.equal(0x56);
      }
    });
  }

  it('overlay_p2p_cont (encapsulation), overlay_p2p_decap_cont and vxlan_multi_IP_mask_ovs (TestSteps on the op2p bridges) through the runner (--integration): pass, counters consistent, tunnel_type column', async () => {
    // Continuous traffic for all three (vxlan_multi_IP_mask_ovs would search throughput: slow here), at
    // VSPERF's default frame size (64 B: the inner frame; decapsulation sends it inside 50 B of outer headers).
    const results = await runCatalogue(
      ['overlay_p2p_cont', 'overlay_p2p_decap_cont', 'vxlan_multi_IP_mask_ovs'],
      {
        TRAFFICGEN: 'Software',
        VSWITCH: 'OvsDpdkVhost',
        TRAFFICGEN_DURATION: 2,
        TRAFFIC: { frame_rate: 0.2, traffic_type: 'rfc2544_continuous' },
      },
      join(dir, 'results'),
      'op2p',
      { integration: true },
    );
    for (const r of results) {
      expect(r.status, `${r.name}: ${JSON.stringify(r.error)}`).to.equal('passed');
      expect(r.facts.tunnel_operation).to.equal(r.name === 'overlay_p2p_decap_cont' ? 'decapsulation' : 'encapsulation');
      expect(r.rows[0]).to.include({ tunnel_type: 'vxlan', deployment: 'op2p', packet_size: 64 });
      expect(Number(r.rows[0]!.throughput_rx_fps)).to.be.greaterThan(0);
      const checked = r.trials.filter((x) => x.counterCheck);
      expect(checked.length, r.name).to.be.greaterThan(0);
      expect(
        checked.every((x) => x.counterCheck!.consistent),
        JSON.stringify(checked.map((x) => x.counterCheck)),
      ).to.equal(true);
    }
    expect(await leftovers(mergeScopes(...results.map((r) => scopeOf(r.facts))))).to.deep.equal(NOTHING);
  });
});
