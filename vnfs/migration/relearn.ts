/**
 * Fabric relearn time of a peer-to-peer migration, seen on the destination host's uplink: from the
 * first RARP carrying the guest's MAC that leaves it (QEMU's self-announce, sent by the vSwitch for
 * the vhost-user NIC) to the first frame addressed to that MAC that arrives on it (the fabric now
 * forwards to the new host). Two tcpdump processes on that host, one frame each; timestamps are the
 * destination host's kernel clock, so the figure needs no clock sync between hosts.
 */
import type { RemoteHost, RemoteProcess } from '../../framework/host/remote-host.js';
import { sleep } from '../../framework/host/proc.js';
import { UsageError } from '../../framework/errors.js';

export interface RelearnFigures {
  /** Epoch ms (destination host's clock) of the first RARP out and the first frame in. */
  readonly rarpEpochMs?: number;
  readonly firstFrameEpochMs?: number;
  /** firstFrame − rarp (ms); undefined when either was not seen. */
  readonly relearnMs?: number;
}

/** First `EPOCH.USEC ` timestamp of a `tcpdump -tt` line (ms), or undefined. */
export function firstTimestampMs(text: string): number | undefined {
  const m = /^(\d{9,})\.(\d{6}) /m.exec(text);
  return m ? Number(m[1]) * 1000 + Number(m[2]) / 1000 : undefined;
}

export function relearnFigures(rarpOut: string, frameIn: string): RelearnFigures {
  const rarp = firstTimestampMs(rarpOut);
  const first = firstTimestampMs(frameIn);
  return {
    ...(rarp !== undefined ? { rarpEpochMs: rarp } : {}),
    ...(first !== undefined ? { firstFrameEpochMs: first } : {}),
    ...(rarp !== undefined && first !== undefined ? { relearnMs: first - rarp } : {}),
  };
}

/** argv of one capture: the first frame matching `filter` on `iface`, printed with its epoch time. */
export function captureArgv(iface: string, filter: string, direction: 'in' | 'inout'): string[] {
  return ['tcpdump', '-i', iface, '-nn', '-e', '-tt', '-l', '--immediate-mode', '-p', '-Q', direction, '-c', '1', filter];
}

export class RelearnObserver {
  private constructor(
    private readonly rarp: RemoteProcess,
    private readonly frame: RemoteProcess,
  ) {}

  /** Start both captures on `host`'s `uplink` for `mac`; resolves once both listen. */
  static async start(host: RemoteHost, uplink: string, mac: string): Promise<RelearnObserver> {
    if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac)) throw new UsageError(`bad MAC ${mac}`);
    const rarp = await host.spawn(captureArgv(uplink, `ether proto 0x8035 and ether src ${mac}`, 'inout'), { label: `stop RARP capture on ${host.name}` });
    const frame = await host.spawn(captureArgv(uplink, `ether dst ${mac} and not ether proto 0x8035`, 'in'), { label: `stop frame capture on ${host.name}` });
    const end = Date.now() + 10_000;
    while (![rarp, frame].every((p) => /listening on/.test(p.tail(5)) || !p.running) && Date.now() < end) await sleep(20);
    return new RelearnObserver(rarp, frame);
  }

  /** Stop the captures (waiting up to `waitMs` for frames still to come) and compute the figures. */
  async result(waitMs = 0): Promise<RelearnFigures> {
    const end = Date.now() + waitMs;
    while ((this.rarp.running || this.frame.running) && Date.now() < end) await sleep(20);
    const out = [this.rarp.tail(10), this.frame.tail(10)];
    await this.rarp.stop();
    await this.frame.stop();
    return relearnFigures(out[0]!, out[1]!);
  }
}
