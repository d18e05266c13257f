/**
 * Migration figures from the receiver's clock (pure). Sequence numbers only show frames that never
 * came; a frame that waited in a stopped guest or a paused queue arrives late and leaves no sequence
 * gap. The generator's ReceiverTimeline gives the longest silences between received frames, the largest
 * one-way latency per 1 ms bin and the frames later than 10 × the pre-migration p99; from those:
 *
 *   rx_gap_ms                 longest receive silence inside the migration window
 *   migration_max_latency_ms  largest one-way latency of a frame received inside the window
 *   delayed_frames            frames later than 10 × the p99 latency measured before the migration
 *   dataplane_outage_ms       the longest time the receiver got nothing new: max(rx_gap_ms, longest
 *                             sequence gap at the offered rate)
 *   outage_kind               loss (frames lost, none delayed), delay (none lost, late frames or a
 *                             silence the loss does not explain), both, or none
 *
 * and where that silence lies against QEMU's STOP (source) and RESUME (destination), both on the host
 * clock like the receiver's kernel timestamps:
 *
 *   silence_start_vs_stop_ms  the silence's start − STOP: negative when the source guest had stopped
 *                             forwarding before QEMU reported STOP (vCPU paused, then the vhost rings
 *                             stopped); positive when the destination first forwarded what the source's
 *                             rings still held, then fell silent
 *   resume_to_traffic_ms      the silence's end − RESUME: the destination until traffic is back (vhost
 *                             ports up in the vSwitch, the guest forwarding again, the fabric relearned)
 *
 * so that rx_gap_ms = STOP→RESUME + resume_to_traffic_ms − silence_start_vs_stop_ms.
 */
import type { DirectionResult } from '../../framework/api/trafficgen.js';

export interface Window {
  /** Epoch ms (CLOCK_REALTIME, the clock of QMP event timestamps and of the receiver). */
  readonly startMs: number;
  readonly endMs: number;
}

export type OutageKind = 'loss' | 'delay' | 'both' | 'none';

export interface ReceiverFigures {
  readonly rxGapMs?: number;
  /** The silence itself, epoch ms. */
  readonly rxGap?: { readonly startMs: number; readonly endMs: number };
  readonly maxLatencyMs?: number;
  readonly delayedFrames?: number;
  readonly outageMs?: number;
  readonly outageKind: OutageKind;
  /** The longest silence against STOP and RESUME (ms; see above). */
  readonly silenceStartVsStopMs?: number;
  readonly resumeToTrafficMs?: number;
  /** Per 1 ms bin inside [window.startMs − before, window.endMs]: frames and max latency (ms), from startMs (epoch). */
  readonly bins?: { readonly startMs: number; readonly binMs: number; readonly rxFrames: number[]; readonly maxLatencyMs: number[] };
}

/** Longest silence of any direction that overlaps the window. */
function longestGap(dirs: readonly DirectionResult[], w: Window): { startMs: number; endMs: number } | undefined {
  let best: { startMs: number; endMs: number } | undefined;
  for (const d of dirs) {
    for (const [a, b] of d.receiver?.gapsMs ?? []) {
      if (b <= w.startMs || a >= w.endMs) continue;
      if (!best || b - a > best.endMs - best.startMs) best = { startMs: a, endMs: b };
    }
  }
  return best;
}

/** Bins of all directions inside [from, to): frames summed, latency maximised. */
export function windowBins(dirs: readonly DirectionResult[], fromMs: number, toMs: number): ReceiverFigures['bins'] {
  const withBins = dirs.map((d) => d.receiver?.bins).filter((b): b is NonNullable<typeof b> => !!b && b.rxFrames.length > 0);
  if (!withBins.length) return undefined;
  const binMs = withBins[0]!.binMs;
  const startMs = Math.floor(fromMs / binMs) * binMs;
  const n = Math.max(0, Math.ceil((toMs - startMs) / binMs));
  const rx = new Array<number>(n).fill(0);
  const lat = new Array<number>(n).fill(0);
  for (const b of withBins) {
    const off = Math.round((b.t0Ms - startMs) / binMs);
    for (let k = 0; k < b.rxFrames.length; k++) {
      const i = k + off;
      if (i < 0 || i >= n) continue;
      rx[i]! += b.rxFrames[k] ?? 0;
      lat[i] = Math.max(lat[i]!, (b.maxLatencyUs[k] ?? 0) / 1000);
    }
  }
  return { startMs, binMs, rxFrames: rx, maxLatencyMs: lat };
}

export function receiverFigures(
  dirs: readonly DirectionResult[],
  w: Window,
  o: { seqGapMs?: number; lostFrames: number; rateFps: number; binsBeforeMs?: number; switchover?: { stopMs: number; resumeMs: number } },
): ReceiverFigures {
  if (!dirs.some((d) => d.receiver)) {
    const kind: OutageKind = o.lostFrames > 0 ? 'loss' : 'none';
    return { ...(o.seqGapMs !== undefined ? { outageMs: o.seqGapMs } : {}), outageKind: kind };
  }
  const gap = longestGap(dirs, w);
  const rxGapMs = gap ? gap.endMs - gap.startMs : 0;
  const bins = windowBins(dirs, w.startMs - (o.binsBeforeMs ?? 0), w.endMs);
  const inWindow = windowBins(dirs, w.startMs, w.endMs);
  const maxLatencyMs = inWindow && inWindow.maxLatencyMs.length ? Math.max(...inWindow.maxLatencyMs) : undefined;
  const marked = dirs.filter((d) => d.receiver?.delayThresholdNs !== undefined);
  const delayedFrames = marked.length ? marked.reduce((a, d) => a + (d.receiver!.delayedFrames ?? 0), 0) : undefined;
  const seq = o.seqGapMs ?? 0;
  const outageMs = Math.max(rxGapMs, seq);
  // A silence longer than the lost frames explain (beyond 2 frame intervals or 2 ms) is delay.
  const slack = Math.max(2, 2000 / Math.max(1, o.rateFps));
  const delay = (delayedFrames ?? 0) > 0 || rxGapMs > seq + slack;
  const loss = o.lostFrames > 0;
  const outageKind: OutageKind = loss && delay ? 'both' : loss ? 'loss' : delay ? 'delay' : 'none';
  const around =
    gap && o.switchover ? { silenceStartVsStopMs: gap.startMs - o.switchover.stopMs, resumeToTrafficMs: gap.endMs - o.switchover.resumeMs } : undefined;
  return {
    rxGapMs,
    ...(gap ? { rxGap: gap } : {}),
    ...(maxLatencyMs !== undefined ? { maxLatencyMs } : {}),
    ...(delayedFrames !== undefined ? { delayedFrames } : {}),
    outageMs,
    outageKind,
    ...(around ?? {}),
    ...(bins ? { bins } : {}),
  };
}
