/**
 * Reaching another host with the system OpenSSH client. Pure parts here (argv, quoting, error
 * classification); the connection with its ControlMaster lives in ssh-connection.ts.
 *
 * Why the system client and not an npm SSH library: OpenSSH reads the user's known_hosts, agent,
 * ProxyJump and ssh_config exactly as the operator's own `ssh` does, gets host-key checking right by
 * default, and multiplexes every command over one authenticated connection (ControlMaster), so a
 * command costs a channel, not a handshake. A library would re-implement all of that in JavaScript.
 */
import { UsageError, VsperfError } from '../errors.js';

/** One host of TESTBED_HOSTS. */
export interface SshTarget {
  /** Name the testbed uses for the host (hostA, dut1, …). */
  readonly name: string;
  readonly address: string;
  readonly port?: number;
  readonly user: string;
  /** Private key file (identity). */
  readonly keyFile: string;
  /** known_hosts file the user names: the only place host keys are trusted from. */
  readonly knownHosts: string;
  readonly roles?: readonly string[];
  /** DUT hosts: the switch's port on the L2 fabric (interface name, or PCI address for a DPDK NIC). */
  readonly uplink?: string;
  /** Address the host receives a migration stream on (default: `address`). */
  readonly migrationAddress?: string;
  /** Generator hosts: the vsperf-tgshim command there, as argv (default `vsperf-tgshim` on the remote PATH). */
  readonly tgshim?: readonly string[];
}

/** SSH failures, each one line with a stable code. */
export class SshError extends VsperfError {
  readonly host: string;
  constructor(code: 'E_SSH_HOSTKEY' | 'E_SSH_AUTH' | 'E_SSH_CONNECT' | 'E_SSH', host: string, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(code, `host ${host}: ${message}`, { ...opts, kind: 'environment' });
    this.host = host;
  }
}

/**
 * POSIX single-quote one word. The remote sshd hands the command line to the login shell, so argv
 * must be re-quoted word by word: nothing in a value is ever interpreted by that shell.
 */
export function shellQuote(word: string): string {
  if (word.includes('\0')) throw new UsageError('argument contains a NUL byte');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function remoteCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new TypeError('remote command: empty argv');
  return argv.map(shellQuote).join(' ');
}

/** Options every ssh invocation carries: no prompts, host keys checked against the named file only. */
export function sshOptions(t: SshTarget, controlPath?: string): string[] {
  const o = [
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${t.knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'ConnectTimeout=10',
    '-o',
    'ServerAliveInterval=5',
    '-o',
    'ServerAliveCountMax=3',
    '-o',
    'LogLevel=ERROR',
    '-i',
    t.keyFile,
    '-p',
    String(t.port ?? 22),
    '-l',
    t.user,
  ];
  if (controlPath) o.push('-o', `ControlPath=${controlPath}`);
  return o;
}

/** argv of the master connection: authenticates once, then serves every command as a channel. */
export function masterArgv(t: SshTarget, controlPath: string): string[] {
  return ['ssh', ...sshOptions(t, controlPath), '-o', 'ControlMaster=yes', '-o', 'ControlPersist=no', '-N', t.address];
}

/** argv running `argv` on the host (through the master when `controlPath` is given). */
export function commandArgv(t: SshTarget, argv: readonly string[], controlPath?: string): string[] {
  return ['ssh', ...sshOptions(t, controlPath), ...(controlPath ? ['-o', 'ControlMaster=no'] : []), t.address, '--', remoteCommand(argv)];
}

/** argv forwarding a local unix socket to one on the host (QMP of a remote QEMU), through the master. */
export function forwardArgv(t: SshTarget, controlPath: string, local: string, remote: string, cancel = false): string[] {
  return ['ssh', ...sshOptions(t, controlPath), '-O', cancel ? 'cancel' : 'forward', '-L', `${local}:${remote}`, t.address];
}

/** ssh exits 255 for its own failures; tell which one from its stderr. Undefined: the remote command failed. */
export function classifySshFailure(t: SshTarget, exitCode: number | null, stderr: string): SshError | undefined {
  if (exitCode !== 255) return undefined;
  const who = `${t.user}@${t.address}:${t.port ?? 22}`;
  const line = stderr.trim().split('\n').filter(Boolean).pop() ?? 'ssh exited with 255';
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known/i.test(stderr))
    return new SshError('E_SSH_HOSTKEY', t.name, `host key of ${who} is not the one in ${t.knownHosts}; refusing to connect`, {
      hint: `check the host's key fingerprint out of band, then add it to ${t.knownHosts} (ssh-keyscan prints it)`,
    });
  if (/Permission denied/i.test(stderr))
    return new SshError('E_SSH_AUTH', t.name, `${who} refused key ${t.keyFile}`, {
      hint: `append the public key to ~${t.user}/.ssh/authorized_keys on the host`,
    });
  if (/Connection refused|Connection timed out|No route to host|Could not resolve|Network is unreachable/i.test(stderr))
    return new SshError('E_SSH_CONNECT', t.name, `cannot reach ${who}: ${line}`);
  return new SshError('E_SSH', t.name, `ssh to ${who} failed: ${line}`);
}
