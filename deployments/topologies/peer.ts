/**
 * `pvp_peer`: a pvp guest that can live-migrate between two hosts. Each DUT host (TESTBED_HOSTS roles
 * `dut` and `migration-target`; without TESTBED_HOSTS the two-host sandbox is built on this machine)
 * runs its own OVS-DPDK (own run dir, own DPDK file prefix) with one uplink to the L2 fabric and the
 * guest's two vhost-user ports; everything there is done over SSH through the RemoteHost. The
 * generator's ports are on the fabric too. The guest boots on the dut host; migrations go to the other.
 *
 * Flows on both hosts (the fabric, not OpenFlow, decides which host gets the traffic):
 *   uplink, dl_dst=<guest NIC 0 MAC>  → dl_dst=<generator receive MAC>, guest NIC 0
 *   guest NIC 0                       → uplink   (its RARPs: QEMU's self-announce via vhost-user)
 *   guest NIC 1                       → dl_src=<guest NIC 1 MAC>, uplink
 * Rewriting the destination before the guest matters for a guest that bridges its NICs: a Linux bridge
 * keeps frames addressed to its own port's MAC for itself.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DriverContext } from '../../framework/api/driver.js';
import type { Deployment, PhyPort, Topology } from '../../framework/api/deployment.js';
import type { PortSpec } from '../../framework/api/trafficgen.js';
import type { PeerGuestLauncher, PeerSite } from '../../framework/api/peer-guest.js';
import { defaultGuestMac, type GuestNic } from '../../framework/api/vnf.js';
import type { Json } from '../../framework/config/settings.js';
import { ConfigError, DriverError } from '../../framework/errors.js';
import { RemoteHost, sshExec } from '../../framework/host/remote-host.js';
import type { SshTarget } from '../../framework/host/ssh.js';
import { parseTestbedHosts } from '../../framework/host/testbed-hosts.js';
import { prepareMigrationPorts } from './migration-ports.js';
import { createTwoHostSandbox, GENERATOR_MACS } from '../testbed/two-host.js';
import { OvsSwitch } from '../vswitch/ovs.js';
import { ReleaseStack } from './release-stack.js';

const PCI = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/i;

/** The hosts and generator ports of a peer testbed. */
interface PeerTestbed {
  readonly hosts: readonly [SshTarget, SshTarget];
  readonly generatorPorts: readonly PortSpec[];
  /** MAC of the generator's receiving port (frames leave the guest addressed to it). */
  readonly rxMac: string;
  /** Local directory for the SSH control sockets. */
  readonly controlDir: string;
  readonly kind: 'two-host sandbox' | 'hosts';
}

/** The flows of one host (ofports: uplink 1, guest NICs 2 and 3). */
export function peerFlows(nic0Mac: string, nic1Mac: string, rxMac: string): string[] {
  return [`in_port=1,dl_dst=${nic0Mac},actions=mod_dl_dst:${rxMac},output:2`, 'in_port=2,actions=output:1', `in_port=3,actions=mod_dl_src:${nic1Mac},output:1`];
}

export function uplinkPort(uplink: string): PhyPort {
  return PCI.test(uplink) ? { kind: 'pci', pci: uplink } : { kind: 'veth', iface: uplink, io: 'af_packet', capturable: true };
}

export class PeerPvpDeployment implements Deployment {
  readonly name = 'pvp_peer';
  readonly tag = randomBytes(2).toString('hex');
  private readonly releases: ReleaseStack;

  constructor(
    private readonly ctx: DriverContext,
    /** Makes the guest (the QEMU driver's, injected by drivers.ts). */
    private readonly launchGuest: PeerGuestLauncher,
  ) {
    this.releases = new ReleaseStack(this.name, ctx);
  }

  private get s() {
    return this.ctx.settings;
  }

  private defer(label: string, fn: () => Promise<void>): void {
    this.releases.defer(label, fn);
  }

  setup(signal: AbortSignal): Promise<Topology> {
    return this.releases.guard(() => this.doSetup(signal));
  }

  teardown(): Promise<void> {
    return this.releases.unwind();
  }

  /** TESTBED_HOSTS, or (empty) the two-host sandbox on this machine. */
  private async testbed(): Promise<PeerTestbed> {
    const source = this.s.source('TESTBED_HOSTS');
    const hosts = parseTestbedHosts(this.s.getOr('TESTBED_HOSTS', []), source);
    if (hosts.length === 0) {
      const sb = await createTwoHostSandbox(this.ctx.host, this.tag);
      this.defer('release the two-host sandbox', () => sb.release());
      this.ctx.log.info(
        `two-host sandbox: ${sb.hosts.map((h) => `${h.name} ${h.address} (${h.roles?.join('+')})`).join(', ')}; fabric bridge ${sb.fabricBridge}`,
      );
      return {
        hosts: [
          { ...sb.hosts[0]!, uplink: 'fab0' },
          { ...sb.hosts[1]!, uplink: 'fab0' },
        ],
        // ssh: as on a real generator host (vsperf-tgshim there, over SSH); netns: the engine driven from here.
        generatorPorts: sb.generatorPorts.map((p) =>
          this.s.getOr<string>('SANDBOX_GENERATOR', 'netns') === 'ssh'
            ? { name: p.name, mac: p.mac, speedMbps: 1000, host: sb.hosts[2]! }
            : { name: p.name, netns: p.netns, mac: p.mac, speedMbps: 1000 },
        ),
        rxMac: GENERATOR_MACS[1],
        controlDir: sb.dir,
        kind: 'two-host sandbox',
      };
    }
    const dut = hosts.find((h) => h.roles?.includes('dut') && !h.roles.includes('migration-target')) ?? hosts.find((h) => h.roles?.includes('dut'));
    const target = hosts.find((h) => h !== dut && h.roles?.includes('migration-target'));
    if (!dut || !target) throw new ConfigError('TESTBED_HOSTS', source, `${this.name} needs a host with role dut and another with role migration-target`);
    for (const h of [dut, target]) if (!h.uplink) throw new ConfigError('TESTBED_HOSTS', source, `host ${h.name}: needs "uplink" (its port on the fabric)`);
    const names = (this.s.getOr('TRAFFICGEN_PORTS', []) as Json[]).map(String);
    if (names.length < 2)
      throw new ConfigError('TRAFFICGEN_PORTS', this.s.source('TRAFFICGEN_PORTS'), `${this.name} needs the generator's two ports on the fabric`);
    const speedMbps = Number(this.s.getOr('TRAFFICGEN_PORT_SPEED_MBPS', 10000));
    let rxMac: string;
    // An interface name as the kernel allows it: a path component, so a name cannot lead the read out of sysfs.
    if (!/^(?!\.{1,2}$)[A-Za-z0-9_.:-]{1,15}$/.test(names[1]!))
      throw new ConfigError('TRAFFICGEN_PORTS', this.s.source('TRAFFICGEN_PORTS'), `generator port ${JSON.stringify(names[1])} is not an interface name`);
    // A generator host: the ports are its interfaces, and the generator runs there (over SSH).
    const gen = hosts.find((h) => h.roles?.includes('generator'));
    const sysfs = `/sys/class/net/${names[1]}/address`;
    if (gen) {
      const r = await sshExec(gen, ['cat', '--', sysfs], { allowFail: true, timeoutMs: 20_000 });
      if (r.code !== 0)
        throw new ConfigError(
          'TRAFFICGEN_PORTS',
          this.s.source('TRAFFICGEN_PORTS'),
          `generator port ${names[1]} is not a network interface of host ${gen.name}`,
        );
      rxMac = r.stdout.trim();
    } else {
      try {
        rxMac = readFileSync(sysfs, 'utf8').trim();
      } catch {
        throw new ConfigError('TRAFFICGEN_PORTS', this.s.source('TRAFFICGEN_PORTS'), `generator port ${names[1]} is not a network interface of this host`);
      }
    }
    const controlDir = `/tmp/vsp-${this.tag}`;
    this.defer('remove the ssh control directory', this.ctx.host.makeDir(controlDir));
    return {
      hosts: [dut, target],
      generatorPorts: names.slice(0, 2).map((name) => ({ name, speedMbps, ...(gen ? { host: gen } : {}) })),
      rxMac,
      controlDir,
      kind: 'hosts',
    };
  }

  /** Connect to one DUT host, start its OVS-DPDK with the uplink, the guest's vhost ports and the flows. */
  private async site(
    t: SshTarget,
    i: number,
    tb: PeerTestbed,
    signal: AbortSignal,
  ): Promise<{ site: PeerSite; ovs: OvsSwitch; facts: Record<string, string> }> {
    const rh = new RemoteHost(t, this.ctx.host, tb.controlDir);
    await rh.connect();
    this.defer(`close ssh to ${t.name}`, () => rh.close());
    const ovs = new OvsSwitch({
      name: 'OvsDpdkVhost',
      dpdk: true,
      settings: this.s,
      host: this.ctx.host,
      log: this.ctx.log.child(t.name),
      runDir: `/tmp/vsp-${this.tag}-${i}`,
      ops: rh,
      filePrefix: `vsp${this.tag}${i}`,
    });
    await ovs.start(signal);
    this.defer(`stop OVS on ${t.name}`, () => ovs.stop());
    const bridge = `vsp${this.tag}br`;
    await ovs.addBridge(bridge);
    await ovs.addPhyPort(bridge, 'uplink', uplinkPort(t.uplink!), 1);
    const nics: GuestNic[] = [];
    for (const k of [0, 1]) {
      const sp = await ovs.addVhostPort(bridge, `vhu${k}`, 2 + k);
      nics.push({ socketPath: sp.socketPath!, portName: sp.name, ofport: sp.ofport, mac: defaultGuestMac(0, k) });
    }
    const flows = peerFlows(nics[0]!.mac!, nics[1]!.mac!, tb.rxMac);
    await ovs.addFlows(
      bridge,
      flows.map((flow) => ({ type: 'raw' as const, flow })),
    );
    const dir = `/tmp/vsp-${this.tag}-g${i}`;
    this.defer(`remove the guest directory on ${t.name}`, await rh.makeDir(dir));
    const site: PeerSite = {
      host: rh,
      nics,
      dir,
      ...(PCI.test(t.uplink!) ? {} : { uplink: t.uplink! }),
      ...(t.migrationAddress ? { migrationAddress: t.migrationAddress } : {}),
    };
    const facts = { [`host${i}`]: `${t.name} (${t.user}@${t.address}, ${t.roles?.join('+')}, uplink ${t.uplink})`, [`host${i}_vswitch`]: await ovs.version() };
    return { site, ovs, facts: { ...facts, [`host${i}_flows`]: flows.join(' | '), bridge } };
  }

  private async doSetup(signal: AbortSignal): Promise<Topology> {
    const tb = await this.testbed();
    signal.throwIfAborted();
    const a = await this.site(tb.hosts[0], 0, tb, signal);
    const b = await this.site(tb.hosts[1], 1, tb, signal);
    // The guest's first migration goes to hostB's fresh vhost ports: their first-device configuration
    // now (MIGRATION_PREPARE_PORTS), not inside that switch-over.
    if (prepareMigrationPorts(this.s)) {
      const ms = await b.ovs.prepareVhostPorts(
        b.facts.bridge!,
        b.site.nics.map((n) => n.portName!),
      );
      this.ctx.log.info(
        `${tb.hosts[1].name}: vhost-user ports ${b.site.nics.map((n) => n.portName).join(', ')} prepared by a virtio-user frontend in ${Math.round(ms)} ms`,
      );
    }
    const guest = await this.launchGuest({
      name: 'guest0',
      index: 0,
      sites: [a.site, b.site],
      settings: this.s,
      log: this.ctx.log.child('qemu'),
      workDir: this.ctx.workDir,
      socketDir: tb.controlDir,
      sameMachine: tb.kind === 'two-host sandbox',
    });
    this.defer('stop the guest', () => guest.stop());
    await guest.start(signal);
    await guest.waitReady(undefined, signal);
    const bridge = a.facts.bridge!;
    const down = await a.ovs.waitLinksUp(bridge, ['vhu0', 'vhu1'], Number(this.s.getOr('VSWITCH_VHOST_LINK_TIMEOUT_S', 30)) * 1000);
    if (down.length)
      throw new DriverError(a.ovs.name, 'setup', `vhost-user ports on ${tb.hosts[0].name} still down after the guest booted: ${down.join(', ')}`);
    // Teach the fabric where the guest is (what its own first frames would do on a real network).
    await guest.announce();
    const health = new AbortController();
    // The switch on either host, or the guest's current QEMU (a crash or a lost ssh channel), ends the run.
    for (const h of [a.ovs.health, b.ovs.health, guest.health]) h.addEventListener('abort', () => health.abort(h.reason), { once: true });
    return {
      generatorPorts: tb.generatorPorts,
      vswitch: a.ovs,
      bridge,
      guests: [guest],
      health: health.signal,
      facts: {
        deployment: this.name,
        vswitch: 'OvsDpdkVhost',
        testbed: tb.kind,
        ...a.facts,
        ...b.facts,
        vswitch_version: a.facts.host0_vswitch!,
        ...guest.facts(),
        guests: 1,
        guest_topology: 'pvp, peer-to-peer migration',
      },
    };
  }
}
