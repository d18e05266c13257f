/**
 * The sandbox testbed: veth pairs stand in for the NICs between generator and switch. The generator's
 * ends live in a network namespace of ours (`vsd-<tag>`), the switch's ends in a second one
 * (`vsd-<tag>-sw`) where the vSwitch runs (OVS-DPDK opens them as af_xdp/af_packet vdevs, the plain OVS
 * as netdevs). A switch in its own namespace never collides with another OVS on the host: the netdev
 * datapath creates host netdevs (`ovs-netdev`, one tap per bridge) with fixed names. Everything is
 * created through Host, so it is journalled for the janitor and released by the cleanup stack.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvironmentError, UsageError } from '../../framework/errors.js';
import { exec } from '../../framework/host/exec.js';
import type { Host } from '../../framework/host/host.js';
import type { Logger } from '../../framework/log/logger.js';
import type { PortSpec } from '../../framework/api/trafficgen.js';
import type { PhyPort } from '../../framework/api/deployment.js';

export interface SandboxOptions {
  /** Short unique tag (hex); names are vsd-<tag> (netns), vsd<tag>g<i> (generator end), vsd<tag>s<i> (switch end). */
  readonly tag: string;
  /** Number of generator ports (2 for all VSPERF deployments). */
  readonly ports: number;
  /** true = no switch: one veth pair joins generator port 0 and 1 directly (both ends in the netns). */
  readonly direct: boolean;
  readonly io: 'af_packet' | 'af_xdp';
  /**
   * veth (default): veth pairs. vhost: no veths; each generator port is a DPDK net_virtio_user device
   * serving a vhost-user socket (dir of ours) that the switch connects to as its "physical" port.
   */
  readonly portType?: 'veth' | 'vhost';
  readonly speedMbps: number;
  readonly mtu?: number;
  /** The largest MTU the switch may set on its veth ends at run time (PhyPort.maxMtu). */
  readonly maxMtu?: number;
  readonly log: Logger;
}

export interface Testbed {
  readonly kind: 'sandbox' | 'nics';
  readonly portType?: 'veth' | 'vhost';
  readonly generatorPorts: PortSpec[];
  /** Switch-side "physical" ports, index-aligned with generatorPorts (empty when direct). */
  readonly switchPorts: PhyPort[];
  readonly netns?: string;
  /** Namespace the switch-side ends live in (the vSwitch must run there). */
  readonly switchNetns?: string;
  /**
   * Resolves when every generator port is operationally up (a veth is down while its peer is, and a
   * switch opening its end can flap it). Rejects with EnvironmentError naming the ports still down.
   */
  waitUp?(timeoutMs: number): Promise<void>;
  /**
   * The kernel's counters of each veth between generator port i and the switch (veth sandbox only):
   * an observer of the wire that neither the generator nor the switch keeps.
   */
  wireCounters?(): Promise<WireCounters[]>;
  /** Release what the testbed created, newest first (each step also leaves the Host's cleanup stack). */
  release(): Promise<void>;
}

/**
 * Descriptors per vhost-user ring of the vhost sandbox (net_virtio_user queue_size; the switch uses the
 * ring the generator's device offers). A ring is what a PMD or engine that the kernel does not run has
 * to hold: 16 ms at 1 Mfps. Measured at 1 Mfps per direction with other jobs on the box (session 7),
 * frames lost of 10 M per direction: 4096 → 5.0–5.7 M, 8192 → 3.7–5.0 M, 16384 → 1.1–1.5 M, 32768 →
 * 2.5–2.7 M (the box's load 7–10 made stalls of 10–60 ms; 16384 lost least). The engine's mbuf pools hold twice the ring
 * (~300 MiB of hugepages for two ports).
 */
export const SANDBOX_VHOST_RING = 16384;

/**
 * One veth of the sandbox as its two ends' kernel counters see it. A veth end counts a frame as sent once
 * its peer took it (`toSwitch`), and counts apart what it could not deliver (`droppedToSwitch`: the
 * switch end's XDP ring was full or it had no peer). `switchDropped` is the switch end's receive drops
 * (on an AF_XDP port: frames its XDP program could not place in the socket's ring, what OVS-DPDK reports
 * as the port's rx_missed_errors).
 */
export interface WireCounters {
  readonly index: number;
  /** Frames that crossed from the generator's end to the switch's. */
  readonly toSwitch: number;
  /** Frames the generator's end took but could not hand to the switch's end. */
  readonly droppedToSwitch: number;
  readonly switchDropped: number;
  /** Frames that crossed from the switch's end to the generator's. */
  readonly toGenerator: number;
}

/** Interface names must fit IFNAMSIZ (15 characters). */
export function sandboxNames(tag: string, i: number): { netns: string; switchNetns: string; gen: string; sw: string } {
  if (!/^[0-9a-z]{1,6}$/.test(tag)) throw new UsageError(`sandbox tag must be 1-6 lowercase alphanumerics, got "${tag}"`);
  return { netns: `vsd-${tag}`, switchNetns: `vsd-${tag}-sw`, gen: `vsd${tag}g${i}`, sw: `vsd${tag}s${i}` };
}

async function noIpv6InNetns(ns: string): Promise<void> {
  // Kernel IPv6 chatter (MLD, ND) would add frames to the switch's port counters: keep veths quiet.
  await exec(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], { allowFail: true });
}

/** Create the sandbox; on failure whatever was created is released again before the error propagates. */
export async function createSandbox(host: Host, o: SandboxOptions): Promise<Testbed> {
  const releases: Array<() => Promise<void>> = [];
  const release = async (): Promise<void> => {
    while (releases.length) await releases.pop()!();
  };
  try {
    return await buildSandbox(host, o, releases, release);
  } catch (e) {
    await release().catch(() => undefined);
    throw e;
  }
}

async function buildSandbox(host: Host, o: SandboxOptions, releases: Array<() => Promise<void>>, release: () => Promise<void>): Promise<Testbed> {
  const { netns, switchNetns } = sandboxNames(o.tag, 0);
  releases.push(await host.createNetns(netns));
  await noIpv6InNetns(netns);
  if (!o.direct) {
    releases.push(await host.createNetns(switchNetns));
    await noIpv6InNetns(switchNetns);
  }
  const generatorPorts: PortSpec[] = [];
  const switchPorts: PhyPort[] = [];
  const mtu = o.mtu ? ['mtu', String(o.mtu)] : [];
  // A wire has no MTU: with jumbo frames both veth ends take the largest frame the switch may be given
  // (maxMtu), so a frame beyond the switch port's MTU is sent, crosses the veth and is dropped by the
  // switch, as a NIC drops it (VSPERF's ovsdpdk_jumbo_p2p_upper_bound expects 100 % loss at 9702 B).
  // A switch-side veth at the switch's MTU would drop it in the kernel instead (veth tx_dropped).
  const genMtu = o.mtu ? Math.max(o.mtu, o.maxMtu ?? 0) : 0;
  const genMtuArgs = genMtu ? ['mtu', String(genMtu)] : [];
  if (o.portType === 'vhost') {
    if (o.direct) throw new RangeError('a vhost sandbox needs a switch between the generator ports');
    const dir = join(tmpdir(), `vsd-${o.tag}-vhost`);
    releases.push(host.makeDir(dir));
    for (let i = 0; i < o.ports; i++) {
      const socketPath = join(dir, `g${i}.sock`);
      const devargs = `net_virtio_user${i},path=${socketPath},server=1,queue_size=${SANDBOX_VHOST_RING}`;
      generatorPorts.push({ name: sandboxNames(o.tag, i).gen, speedMbps: o.speedMbps, backend: 'dpdk', devargs, ...(o.mtu ? { mtu: o.mtu } : {}) });
      switchPorts.push({ kind: 'vhost', socketPath });
    }
    o.log.info(
      `sandbox testbed: vhost-user ports ${switchPorts.map((p) => (p.kind === 'vhost' ? p.socketPath : '')).join(', ')} (generator: net_virtio_user servers; switch: vhost-user clients)`,
    );
    // The engine waits for each vhost link when it opens its device: nothing to wait for here.
    return { kind: 'sandbox', portType: 'vhost', generatorPorts, switchPorts, netns, switchNetns, release };
  }
  if (o.direct) {
    if (o.ports !== 2) throw new RangeError('a direct sandbox wires exactly 2 generator ports');
    const a = sandboxNames(o.tag, 0).gen;
    const b = sandboxNames(o.tag, 1).gen;
    await exec(['ip', '-n', netns, 'link', 'add', a, ...mtu, 'type', 'veth', 'peer', 'name', b, ...mtu]);
    releases.push(
      host.track({ kind: 'link', id: host.journal.nextId('link'), name: a, netns }, `ip -n ${netns} link del ${a}`, async () => {
        await exec(['ip', '-n', netns, 'link', 'del', a], { allowFail: true });
      }),
    );
    for (const dev of [a, b]) {
      await exec(['ip', '-n', netns, 'link', 'set', dev, 'up']);
      generatorPorts.push({ name: dev, netns, speedMbps: o.speedMbps, ...(o.mtu ? { mtu: o.mtu } : {}) });
    }
  } else {
    for (let i = 0; i < o.ports; i++) {
      const { gen, sw } = sandboxNames(o.tag, i);
      await exec(['ip', '-n', switchNetns, 'link', 'add', sw, ...genMtuArgs, 'type', 'veth', 'peer', 'name', gen, 'netns', netns, ...genMtuArgs]);
      releases.push(
        host.track({ kind: 'link', id: host.journal.nextId('link'), name: sw, netns: switchNetns }, `ip -n ${switchNetns} link del ${sw}`, async () => {
          await exec(['ip', '-n', switchNetns, 'link', 'del', sw], { allowFail: true });
        }),
      );
      await exec(['ip', '-n', switchNetns, 'link', 'set', sw, 'up']);
      await exec(['ip', '-n', netns, 'link', 'set', gen, 'up']);
      generatorPorts.push({ name: gen, netns, speedMbps: o.speedMbps, ...(genMtu ? { mtu: genMtu } : {}) });
      switchPorts.push({ kind: 'veth', iface: sw, io: o.io, ...(o.maxMtu ? { maxMtu: o.maxMtu } : {}) });
    }
  }
  o.log.info(
    `sandbox testbed: netns ${netns}${o.direct ? '' : ` (switch in ${switchNetns})`}, generator ports ${generatorPorts.map((p) => p.name).join(', ')}${switchPorts.length ? `, switch ports ${switchPorts.map((p) => (p.kind === 'veth' ? p.iface : p.kind === 'pci' ? p.pci : p.socketPath)).join(', ')} (${o.io})` : ' (wired straight)'}`,
  );
  const waitUp = async (timeoutMs: number): Promise<void> => {
    const down = async (): Promise<string[]> => {
      const out: string[] = [];
      for (const p of generatorPorts) {
        const r = await exec(['ip', '-j', '-n', netns, 'link', 'show', 'dev', p.name], { allowFail: true });
        let state = '';
        try {
          state = String((JSON.parse(r.stdout) as Array<{ operstate?: string }>)[0]?.operstate ?? '');
        } catch {
          state = '';
        }
        if (state !== 'UP') out.push(`${p.name} (${state || 'missing'})`);
      }
      return out;
    };
    const end = Date.now() + timeoutMs;
    for (;;) {
      const d = await down();
      if (!d.length) return;
      if (Date.now() >= end) throw new EnvironmentError(`sandbox ports still down after ${timeoutMs} ms: ${d.join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const wireCounters = async (): Promise<WireCounters[]> => {
    const out: WireCounters[] = [];
    for (let i = 0; i < o.ports; i++) {
      const { gen, sw } = sandboxNames(o.tag, i);
      const g = await readStats(netns, gen, ['tx_packets', 'tx_dropped', 'rx_packets']);
      const s = await readStats(switchNetns, sw, ['rx_dropped']);
      out.push({ index: i, toSwitch: g[0]!, droppedToSwitch: g[1]!, switchDropped: s[0]!, toGenerator: g[2]! });
    }
    return out;
  };
  return {
    kind: 'sandbox',
    portType: 'veth',
    generatorPorts,
    switchPorts,
    netns,
    ...(o.direct ? {} : { switchNetns, wireCounters }),
    waitUp,
    release,
  };
}

/** /sys/class/net/IFACE/statistics/NAME of an interface in a namespace, in the order asked. */
async function readStats(ns: string, iface: string, names: readonly string[]): Promise<number[]> {
  const r = await exec(['ip', 'netns', 'exec', ns, 'cat', ...names.map((n) => `/sys/class/net/${iface}/statistics/${n}`)]);
  const v = r.stdout.trim().split('\n').map(Number);
  if (v.length !== names.length || v.some((x) => !Number.isFinite(x)))
    throw new EnvironmentError(`cannot read the counters of ${iface} in ${ns}: ${r.stdout.trim()}`);
  return v;
}
