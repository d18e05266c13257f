/**
 * What the trials behind a fixed-rate result row (rfc2544_continuous, burst) showed about the sandbox,
 * for explaining a failing check on that row (framework/steps/capacity.ts). Pure.
 */
import type { TrialRecord } from '../methodology/context.js';
import type { PortStats } from '../api/deployment.js';
import type { ResultRow } from '../methodology/types.js';
import { isSwitchCounters } from '../methodology/counter-check.js';
import type { RowEvidence } from '../steps/capacity.js';

/**
 * Evidence of one row from the trials of the same send: the non-learning trials at its frame size, all at
 * one rate (a search's rows are left out: their trials offered many rates). Undefined when there is none.
 * `withVnf`: the testcase has a guest. Without one, the ports that do not face the generator are the
 * switch's own (tunnel, patch): frames it could not send there are its loss, never a VNF's shortfall.
 */
export function rowEvidence(row: ResultRow, trials: readonly TrialRecord[], withVnf: boolean): RowEvidence | undefined {
  const size = Number(row.packet_size);
  const mine = trials.filter((t) => t.frameSize === size && t.purpose !== 'learning');
  const last = mine.at(-1);
  if (!last || mine.some((t) => t.rateFps !== last.rateFps)) return undefined;
  const sw = isSwitchCounters(last.switchCounters) ? last.switchCounters : undefined;
  const counted = sw?.ports.some((p) => p.rxPolicerDropped !== undefined || p.txPolicerDropped !== undefined);
  const generatorFacing = new Set((sw?.generatorPorts ?? []).map((p) => p.port));
  const vnfFacing = withVnf && sw && generatorFacing.size ? sw.ports.filter((p) => !generatorFacing.has(p.name)) : [];
  const tol = Math.max(10, last.result.txFrames * 0.001);
  // A VNF-facing port whose frames the VNF could not all take (drops beyond its policer's): the VNF was full.
  const vnfFull = (p: PortStats): boolean => p.txDropped - (p.txPolicerDropped ?? 0) > tol;
  // A policer on the way into a full VNF did not lower what came back (the VNF had more than it took).
  const policed = (p: PortStats): number => (p.rxPolicerDropped ?? 0) + (vnfFacing.includes(p) && vnfFull(p) ? 0 : (p.txPolicerDropped ?? 0));
  return {
    frameSize: size,
    requestedFps: last.requestedFps ?? last.rateFps,
    offeredFps: Math.max(...mine.map((t) => t.result.achievedTxFps)),
    txFrames: last.result.txFrames,
    ...(counted ? { policerDrops: sw!.ports.reduce((a, p) => a + policed(p), 0) } : {}),
    // Ports that do not face the generator face a VNF: frames the switch could not hand them are the VNF's shortfall.
    ...(vnfFacing.length ? { vnfDrops: vnfFacing.reduce((a, p) => a + Math.max(0, p.txDropped - (p.txPolicerDropped ?? 0)), 0) } : {}),
  };
}
