/**
 * The two-host sandbox: hosts A, B and a generator host as network namespaces of this machine, each
 * with its own sshd (own config and host key, made here, listening only on the namespace's address),
 * reached from here over a management bridge exactly as real hosts are reached: ssh with host-key
 * checking against a known_hosts file written from the keys made here. A second bridge, the fabric,
 * joins one data port per host (fab0 inside each namespace) for the switches' uplinks.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvironmentError, UsageError } from '../../framework/errors.js';
import { exec } from '../../framework/host/exec.js';
import type { Host } from '../../framework/host/host.js';
import { waitUntil } from '../../framework/host/proc.js';
import type { SshTarget } from '../../framework/host/ssh.js';

export const SSHD_BIN = '/usr/sbin/sshd';
/** This package (dist/deployments/testbed → its root): the sandbox's hosts share this machine's files. */
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** vsperf-tgshim as the generator host runs it: this package's, with this node (the hosts share the filesystem). */
export const SANDBOX_TGSHIM: readonly string[] = [process.execPath, join(PACKAGE_ROOT, 'bin', 'vsperf-tgshim.js')];
/** MACs of the generator host's fabric ports (locally administered; the live-migration stream's own). */
export const GENERATOR_MACS = ['02:00:00:00:00:01', '02:00:00:00:00:02'] as const;

export interface TwoHostSandbox {
  /** hostA (dut), hostB (migration-target), gen (generator), in that order. */
  readonly hosts: readonly (SshTarget & { readonly netns: string })[];
  /** Linux bridge joining every host's fab0 (the L2 fabric). */
  readonly fabricBridge: string;
  /**
   * The generator host's two data ports on the fabric (fab0 sends, fab1 receives), with fixed MACs the
   * fabric knows statically (a port that only receives never teaches a learning bridge its address).
   */
  readonly generatorPorts: readonly { readonly name: string; readonly netns: string; readonly mac: string }[];
  readonly dir: string;
  release(): Promise<void>;
}

export function twoHostNames(tag: string): {
  dir: string;
  mgmt: string;
  fabric: string;
  subnet: string;
  hosts: { name: string; netns: string; ip: string; roles: string[]; mgmtPeer: string; fabPeer: string }[];
} {
  if (!/^[0-9a-z]{1,6}$/.test(tag)) throw new UsageError(`sandbox tag must be 1-6 lowercase alphanumerics, got "${tag}"`);
  // Private /24 picked from the tag so two sandboxes on one machine do not overlap (likely, not proven).
  const octet = createHash('sha256').update(tag).digest()[0]!;
  const subnet = `10.251.${octet}`;
  const host = (name: string, short: string, ip: number, roles: string[]) => ({
    name,
    netns: `vs2-${tag}-${short}`,
    ip: `${subnet}.${ip}`,
    roles,
    mgmtPeer: `vs2${tag}m${short}`,
    fabPeer: `vs2${tag}f${short}`,
  });
  return {
    dir: `/tmp/vs2-${tag}`,
    mgmt: `vs2${tag}m`,
    fabric: `vs2${tag}f`,
    subnet,
    hosts: [host('hostA', 'a', 2, ['dut']), host('hostB', 'b', 3, ['dut', 'migration-target']), host('gen', 'g', 4, ['generator'])],
  };
}

/** sshd_config of one sandbox host: key auth only, this namespace's address only, files of ours only. */
export function sshdConfig(o: { ip: string; hostKey: string; authorizedKeys: string; pidFile: string }): string {
  return [
    `ListenAddress ${o.ip}`,
    'Port 22',
    `HostKey ${o.hostKey}`,
    `AuthorizedKeysFile ${o.authorizedKeys}`,
    `PidFile ${o.pidFile}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // The files live under /tmp (world-writable parent): StrictModes would refuse them. Sandbox only.
    'StrictModes no',
    'MaxSessions 64',
    'MaxStartups 64',
    'LogLevel ERROR',
    '',
  ].join('\n');
}

async function keygen(path: string, comment: string): Promise<string> {
  await exec(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  return readFileSync(`${path}.pub`, 'utf8').trim();
}

async function bridge(host: Host, name: string, releases: Array<() => Promise<void>>): Promise<void> {
  await exec(['ip', 'link', 'add', name, 'type', 'bridge']);
  releases.push(
    host.track({ kind: 'link', id: host.journal.nextId('link'), name }, `ip link del ${name}`, async () => {
      await exec(['ip', 'link', 'del', name], { allowFail: true });
    }),
  );
  await exec(['sysctl', '-qw', `net.ipv6.conf.${name}.disable_ipv6=1`], { allowFail: true });
  await exec(['ip', 'link', 'set', name, 'up']);
}

/** A veth from bridge `br` (root side `peer`) into `netns` as `inner`. */
async function uplink(host: Host, br: string, peer: string, netns: string, inner: string, releases: Array<() => Promise<void>>): Promise<void> {
  await exec(['ip', 'link', 'add', peer, 'type', 'veth', 'peer', 'name', inner, 'netns', netns]);
  releases.push(
    host.track({ kind: 'link', id: host.journal.nextId('link'), name: peer }, `ip link del ${peer}`, async () => {
      await exec(['ip', 'link', 'del', peer], { allowFail: true });
    }),
  );
  await exec(['ip', 'link', 'set', peer, 'master', br, 'up']);
  await exec(['ip', '-n', netns, 'link', 'set', inner, 'up']);
}

export async function createTwoHostSandbox(host: Host, tag: string): Promise<TwoHostSandbox> {
  if (!existsSync(SSHD_BIN)) throw new EnvironmentError(`${SSHD_BIN} is missing (Debian openssh-server)`, { hint: 'run `npm run setup`' });
  const n = twoHostNames(tag);
  const releases: Array<() => Promise<void>> = [];
  const release = async (): Promise<void> => {
    while (releases.length) await releases.pop()!();
  };
  try {
    releases.push(host.makeDir(n.dir));
    // sshd's privilege-separation directory; Debian's init script would create it. Left in place.
    if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755 });
    const clientKey = join(n.dir, 'client_ed25519');
    const clientPub = await keygen(clientKey, `vsperf-sandbox-${tag}`);
    writeFileSync(join(n.dir, 'authorized_keys'), clientPub + '\n', { mode: 0o600 });
    const knownHosts = join(n.dir, 'known_hosts');
    const known: string[] = [];
    await bridge(host, n.mgmt, releases);
    await exec(['ip', 'addr', 'add', `${n.subnet}.1/24`, 'dev', n.mgmt]);
    await bridge(host, n.fabric, releases);
    const hosts: Array<SshTarget & { netns: string }> = [];
    for (const h of n.hosts) {
      releases.push(await host.createNetns(h.netns));
      await exec(['ip', 'netns', 'exec', h.netns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], {
        allowFail: true,
      });
      await uplink(host, n.mgmt, h.mgmtPeer, h.netns, 'mgmt0', releases);
      await exec(['ip', '-n', h.netns, 'addr', 'add', `${h.ip}/24`, 'dev', 'mgmt0']);
      await uplink(host, n.fabric, h.fabPeer, h.netns, 'fab0', releases);
      const hostKey = join(n.dir, `${h.name}_host_ed25519`);
      known.push(`${h.ip} ${(await keygen(hostKey, h.name)).split(' ').slice(0, 2).join(' ')}`);
      const cfg = join(n.dir, `${h.name}_sshd_config`);
      writeFileSync(cfg, sshdConfig({ ip: h.ip, hostKey, authorizedKeys: join(n.dir, 'authorized_keys'), pidFile: join(n.dir, `${h.name}_sshd.pid`) }));
      const sshd = await host.spawn(['ip', 'netns', 'exec', h.netns, SSHD_BIN, '-D', '-e', '-f', cfg], { label: `stop sshd of ${h.name}`, graceMs: 1000 });
      releases.push(async () => sshd.stop(1000));
      const up = await waitUntil(
        async () => (await exec(['ip', 'netns', 'exec', h.netns, 'ss', '-Htln', `src ${h.ip}:22`], { allowFail: true })).stdout.includes(':22'),
        5000,
      );
      if (!up)
        throw new EnvironmentError(
          `sshd of sandbox host ${h.name} did not listen on ${h.ip}:22: ${sshd.tail(3).trim() || (sshd.running ? 'no output' : 'it exited')}`,
        );
      hosts.push({
        name: h.name,
        address: h.ip,
        user: 'root',
        keyFile: clientKey,
        knownHosts,
        roles: h.roles,
        netns: h.netns,
        ...(h.roles.includes('generator') ? { tgshim: SANDBOX_TGSHIM } : {}),
      });
    }
    writeFileSync(knownHosts, known.join('\n') + '\n');
    const gen = n.hosts[2]!;
    await uplink(host, n.fabric, `${gen.fabPeer}1`, gen.netns, 'fab1', releases);
    const generatorPorts = GENERATOR_MACS.map((mac, i) => ({ name: `fab${i}`, netns: gen.netns, mac }));
    for (const [i, p] of generatorPorts.entries()) {
      await exec(['ip', '-n', p.netns, 'link', 'set', p.name, 'address', p.mac]);
      await exec(['bridge', 'fdb', 'replace', p.mac, 'dev', i === 0 ? gen.fabPeer : `${gen.fabPeer}1`, 'master', 'static']);
    }
    return { hosts, fabricBridge: n.fabric, generatorPorts, dir: n.dir, release };
  } catch (e) {
    await release().catch(() => undefined);
    throw e;
  }
}
