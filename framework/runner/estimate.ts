import type { Settings } from '../config/settings.js';
import { estimateTrafficS } from '../methodology/index.js';
import { frameSizes } from '../methodology/traffic-spec.js';

/** Set-up and teardown of a deployment, roughly (s). */
const DEPLOYMENT_S: Record<string, number> = { p2p: 5, phy2phy: 5, pvp: 30, pvvp: 50, pvpv: 50 };

/**
 * A rough duration of a testcase (s) for progress display and suite estimates: the methodology's
 * traffic time per frame size plus set-up. It is an estimate, printed as one.
 */
export async function estimateTestcaseS(s: Settings, deployment = 'p2p'): Promise<number> {
  const type = String(s.getOr('TRAFFIC.traffic_type', 'rfc2544_throughput'));
  const perSize = await estimateTrafficS(type, s);
  return (DEPLOYMENT_S[deployment] ?? 30) + frameSizes(s).length * perSize;
}
