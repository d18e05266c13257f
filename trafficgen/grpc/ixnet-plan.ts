/**
 * What `vsperf --trafficgen IxNet --dry-run` shows for the Ixia driver: the packet headers the shim's
 * ixnetwork backend will program on IxNetwork (stack fields per direction, frame size, length), from
 * the testcase's TRAFFIC settings, so a user checks MACs, VLAN, addresses and the multistream field
 * before reserving a chassis.
 */
import type { Settings } from '../../framework/config/settings.js';
import { frameSizes, trafficFromSettings } from '../../framework/methodology/traffic-spec.js';
import { IMIX_SIZES } from '../../framework/api/trafficgen.js';
import { describePlan, headerPlan, reverseStream, HeaderPlanError } from './backends/ixnetwork/headers.js';

export function describeIxnetPlan(s: Settings): string[] {
  const sizes = frameSizes(s);
  const t = trafficFromSettings(s, sizes[0] ?? 64, { unit: 'pct', value: 100 });
  const out = ['IxNetwork traffic item (programmed by the vsperf-tgshim ixnetwork backend), raw, one endpoint set per direction:'];
  const dirs: Array<[string, typeof t.stream]> = [['port 0 → 1', t.stream]];
  if (t.bidir) dirs.push(['port 1 → 0', reverseStream(t.stream)]);
  for (const [name, stream] of dirs) {
    let lines: string[];
    try {
      lines = describePlan(headerPlan(stream));
    } catch (e) {
      if (!(e instanceof HeaderPlanError)) throw e;
      lines = [`cannot be programmed: ${e.message}`];
    }
    out.push(`  ${name}:`, ...lines.map((l) => `    ${l}`));
  }
  const g = t.stream.imixGenome;
  if (g) {
    const counts = new Map<number, number>();
    for (const ch of g) counts.set(IMIX_SIZES[ch] ?? 0, (counts.get(IMIX_SIZES[ch] ?? 0) ?? 0) + 1);
    out.push(`  frameSize: weightedPairs ${JSON.stringify([...counts].flat())} (IMIX genome ${g})`);
  } else out.push(`  frameSize: fixed ${sizes.join(', ')} (one trial series per size)`);
  out.push('  transmissionControl: fixedDuration (whole seconds) or fixedFrameCount (exact count for fractional lengths and bursts)');
  return out;
}
