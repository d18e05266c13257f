/**
 * tcpdump on a deployment's wire for the overlay tests (op2p, ptunp): started inside a namespace and
 * awaited until it listens, so no frame of the trial is sent before the capture can see it.
 */
import { Child } from '../../../framework/host/child.js';

/** Start tcpdump writing `count` frames matching `filter` (tcpdump's words) on `iface` in `netns` to `file`; `into` collects it for stopping after the test. */
export async function startCapture(netns: string, iface: string, file: string, count: number, filter: readonly string[], into: Child[]): Promise<Child> {
  const dump = await Child.start(
    ['ip', 'netns', 'exec', netns, 'tcpdump', '-i', iface, '-w', file, '-U', '-s', '0', '-B', '16384', '--immediate-mode', '-c', String(count), ...filter],
    { tailChars: 4096 },
  );
  into.push(dump);
  const t0 = Date.now();
  while (!dump.tail(20).includes('listening on')) {
    if (!dump.running || Date.now() - t0 > 10_000) throw new Error(`tcpdump did not start: ${dump.tail(10)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return dump;
}

/** The IPv4 address at byte `o` of a frame, dotted. */
export const ip4 = (b: Buffer, o: number): string => [...b.subarray(o, o + 4)].join('.');
/** The MAC address at byte `o` of a frame, colon form. */
export const macAt = (b: Buffer, o: number): string => [...b.subarray(o, o + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');
