/**
 * iproute2's `ip` on a given host, in a network namespace of that host when one is named. Drivers that
 * configure the kernel a switch runs on (the addresses of its bridges' LOCAL ports) go through the
 * switch's HostOps, so the command reaches the switch's host when that is another machine.
 */
import type { ExecResult } from './exec.js';
import type { HostOps } from './host-ops.js';

export function ipArgv(netns: string | undefined, args: readonly string[]): string[] {
  return ['ip', ...(netns ? ['-n', netns] : []), ...args];
}

export function ip(ops: HostOps, netns: string | undefined, args: readonly string[]): Promise<ExecResult> {
  return ops.exec(ipArgv(netns, args));
}
