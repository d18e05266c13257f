/**
 * Cross-check of one trial: what the generator says it sent/received against the switch's port
 * counters (Topology.afterTrial). Pure; the framework can call it per trial and the tests use it.
 *
 * Per direction i → j: the switch cannot receive more on port i than the generator sent from i, and the
 * generator cannot receive more on j than the switch sent to j (foreign frames excluded). Losses are
 * attributed to where they happened: before the switch (ingress), inside it, or after it (egress).
 *
 * When the testbed also counted the wire (the veth sandbox's kernel counters), a disagreement is pinned
 * on the side that is off: the generator when the wire carried more than it says it sent (its count is
 * low) or its end of the wire took fewer frames (crossed + dropped there) than it says it sent (its count
 * is high), the switch when it counted more frames (received + dropped on receive) than crossed the wire.
 * The loss before the switch is then split into the wire's and the generator's own.
 */
import type { TrialResult } from '../api/trafficgen.js';
import type { SwitchCounters } from '../api/deployment.js';

export interface DirectionCheck {
  readonly fromPort: number;
  readonly toPort: number;
  readonly generatorTx: number;
  readonly switchRx: number;
  /** Frames the switch port itself dropped on receive (rx ring full: the datapath did not keep up), and its policer's unless they are in switchRx. */
  readonly switchRxDropped: number;
  readonly switchTx: number;
  readonly generatorRx: number;
  /** Sent but never seen by the switch port (lost on the wire/veth). With the wire counted: lostOnWire + lostInGenerator. */
  readonly lostBeforeSwitch: number;
  /**
   * Of lostBeforeSwitch, what the generator's end of the wire took but the switch port never counted (the
   * veth's tx_dropped, and any frame that crossed uncounted). Absent without wire counters.
   */
  readonly lostOnWire?: number;
  /** Of lostBeforeSwitch, what the generator counted as sent but its end of the wire never took. Absent without wire counters. */
  readonly lostInGenerator?: number;
  /** Dropped by the switch: at its receive port plus between its ports. */
  readonly lostInSwitch: number;
  readonly lostAfterSwitch: number;
  /** Frames that crossed the wire into the switch port (kernel counters; absent without them). */
  readonly wireToSwitch?: number;
  /** Frames the generator's end of the wire took but could not deliver (lost before the switch). */
  readonly wireDropped?: number;
  /** Frames that crossed the wire from the switch to the receiving generator port. */
  readonly wireToGenerator?: number;
  readonly consistent: boolean;
  readonly problem?: string;
}

export interface CounterCheck {
  readonly consistent: boolean;
  readonly directions: readonly DirectionCheck[];
}

export function isSwitchCounters(v: unknown): v is SwitchCounters {
  return typeof v === 'object' && v !== null && typeof (v as SwitchCounters).vswitch === 'string' && Array.isArray((v as SwitchCounters).ports);
}

/**
 * `tolerance`: frames a counter may exceed the other by (kernel chatter, a frame in flight at the
 * snapshot) as max(absolute, relative × frames). Default 10 frames or 0.1 %.
 */
export function checkCounters(result: TrialResult, sw: SwitchCounters, tolerance: { frames?: number; ratio?: number } = {}): CounterCheck {
  const abs = tolerance.frames ?? 10;
  const rel = tolerance.ratio ?? 0.001;
  const gp = new Map((sw.generatorPorts ?? []).map((p) => [p.index, p]));
  // rx_dropped counts two kinds: frames the port never received (ring full) and frames its ingress
  // policer dropped after receiving them. Where the switch counts the second in rx_packets too (OVS-DPDK
  // 3.1's dpdk and vhost-user ports alike, measured), they are taken out once; else rx_packets +
  // rx_dropped is all the port saw of the generator's frames.
  const dropped = new Map(sw.ports.map((p) => [p.name, p.rxPolicedInRxPackets ? Math.max(0, p.rxDropped - (p.rxPolicerDropped ?? 0)) : p.rxDropped]));
  const directions: DirectionCheck[] = [];
  for (const d of result.directions) {
    const inP = gp.get(d.fromPort);
    const outP = gp.get(d.toPort);
    if (!inP || !outP) continue;
    const genRx = d.rxFrames - (d.foreign ?? 0);
    const slack = (n: number): number => Math.max(abs, rel * n);
    const rxDropped = dropped.get(inP.port) ?? 0;
    const problems: string[] = [];
    const wireIn = inP.wire;
    const wireOut = outP.wire;
    const seen = inP.rxFromGenerator + rxDropped;
    if (wireIn) {
      if (wireIn.toSwitch > d.txFrames + slack(d.txFrames))
        problems.push(`the wire from generator port ${d.fromPort} carried ${wireIn.toSwitch} > generator sent ${d.txFrames}: the generator's count is low`);
      // Every frame the generator's end of the veth took it either passed on or counted as dropped.
      const tookWire = wireIn.toSwitch + wireIn.droppedToSwitch;
      if (d.txFrames > tookWire + slack(tookWire))
        problems.push(
          `the generator's count is high: ${d.txFrames - tookWire} frames counted as sent never reached its veth (generator port ${d.fromPort} sent ${d.txFrames}, the wire took ${wireIn.toSwitch} + ${wireIn.droppedToSwitch} dropped)`,
        );
      if (seen > wireIn.toSwitch + slack(wireIn.toSwitch))
        problems.push(
          `switch port ${inP.port} received ${inP.rxFromGenerator} (+${rxDropped} dropped) > ${wireIn.toSwitch} crossed the wire: the switch's count is high`,
        );
    } else if (seen > d.txFrames + slack(d.txFrames)) {
      problems.push(`switch port ${inP.port} received ${inP.rxFromGenerator} (+${rxDropped} dropped) > generator sent ${d.txFrames}`);
    }
    if (genRx > outP.txToGenerator + slack(genRx))
      problems.push(`generator port ${d.toPort} received ${genRx} > switch port ${outP.port} sent ${outP.txToGenerator}`);
    if (wireOut && genRx > wireOut.toGenerator + slack(genRx))
      problems.push(`generator port ${d.toPort} received ${genRx} > ${wireOut.toGenerator} crossed the wire to it: the generator's count is high`);
    const lostBeforeSwitch = Math.max(0, d.txFrames - seen);
    // What the wire never took is the generator's; the rest of the loss before the switch happened on or past the wire.
    const lostInGenerator = wireIn ? Math.min(lostBeforeSwitch, Math.max(0, d.txFrames - wireIn.toSwitch - wireIn.droppedToSwitch)) : 0;
    directions.push({
      fromPort: d.fromPort,
      toPort: d.toPort,
      generatorTx: d.txFrames,
      switchRx: inP.rxFromGenerator,
      switchRxDropped: rxDropped,
      switchTx: outP.txToGenerator,
      generatorRx: genRx,
      lostBeforeSwitch,
      ...(wireIn
        ? { wireToSwitch: wireIn.toSwitch, wireDropped: wireIn.droppedToSwitch, lostOnWire: lostBeforeSwitch - lostInGenerator, lostInGenerator }
        : {}),
      ...(wireOut ? { wireToGenerator: wireOut.toGenerator } : {}),
      lostInSwitch: rxDropped + Math.max(0, inP.rxFromGenerator - outP.txToGenerator),
      lostAfterSwitch: Math.max(0, outP.txToGenerator - genRx),
      consistent: problems.length === 0,
      ...(problems.length ? { problem: problems.join('; ') } : {}),
    });
  }
  return { consistent: directions.every((d) => d.consistent), directions };
}
