import type { Settings } from '../config/settings.js';
import { frameSizes } from '../methodology/traffic-spec.js';

/**
 * A rough duration of a testcase (s) for progress display and suite estimates: trials × duration per
 * frame size plus set-up. It is an estimate, printed as one.
 */
export function estimateTestcaseS(s: Settings): number {
  const d = Number(s.getOr('TRAFFICGEN_DURATION', 30));
  const sizes = frameSizes(s).length;
  const type = String(s.getOr('TRAFFIC.traffic_type', 'rfc2544_throughput'));
  const trials: Record<string, number> = {
    rfc2544_throughput: 8,
    ndr_pdr: 6,
    rfc2544_back2back: Number(s.getOr('TRAFFICGEN_RFC2544_TESTS', 1)) * 6,
    rfc2544_continuous: 1,
    burst: 1,
    rfc2544_latency: 9,
    live_migration: 3,
  };
  const deploymentS = String(s.getOr('TRAFFIC.traffic_type', '')).length ? 5 : 0;
  return deploymentS + sizes * (trials[type] ?? 8) * (d + 1);
}
