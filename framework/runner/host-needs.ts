/**
 * What a testcase needs of the host beyond what its steps say in words. VSPERF's NUMA testcases find out
 * with an assert deep in their TestSteps (`numactl -H` … `#STEP[-1][0]>1`, or the CPUs of `node 1`), after
 * the vSwitch is up. The need is read from those same steps, so any testcase written that way (a user's
 * own under another name too) is checked before it starts (and by the plan), and fails with one line
 * naming what the host lacks.
 */
import { readdirSync } from 'node:fs';
import type { JsonObject, Settings } from '../config/settings.js';
import { exec } from '../host/exec.js';

export interface HostNeeds {
  /** NUMA nodes: the testcase pins guests and PMD threads to different nodes. */
  readonly numaNodes?: number;
  /**
   * The testcase checks the MTU of a vhost-user client port before any guest is on its socket (VSPERF's
   * ovsdpdk_jumbo_*_vport_* and ovsdpdk_jumbo_pvp). OVS-DPDK sets such a port's MTU only when a guest
   * connects: measured on OVS 3.1.0, `ovs-vsctl get Interface dpdkvhostuserclient0 mtu` is 0 and
   * `dpctl/show` says mtu=0, before and after mtu_request=9000.
   */
  readonly guestForVhostMtu?: true;
  /** A step binds a PCI NIC to a DPDK driver with VSPERF's `$TOOLS['bind-tool']` (dpdk-devbind) mid-testcase. */
  readonly bindsNic?: boolean;
}

/**
 * A step that reads a vhost-user port's MTU (`get Interface dpdkvhostuserclientN mtu`, or `dpctl/show`
 * filtered on `mtu=` in a testcase with vports and no physical port) before any `vnf… start` step.
 */
function vhostMtuBeforeGuest(steps: readonly unknown[]): boolean {
  const words = (s: unknown): string[] => (Array.isArray(s) ? s.filter((x) => typeof x === 'string') : []);
  const has = (obj: RegExp, act: string): boolean => steps.some((s) => obj.test(words(s)[0] ?? '') && words(s)[1] === act);
  const vportsOnly = has(/^vswitch$/, 'add_vport') && !has(/^vswitch$/, 'add_phy_port');
  for (const step of steps) {
    const [obj, act, cmd, filter] = words(step);
    if (/^vnf\d*$/i.test(obj ?? '') && act === 'start') return false;
    if (obj !== 'tools' || act !== 'exec_shell' || !cmd) continue;
    if (/\bget\s+Interface\s+dpdkvhostuser\S*\s+mtu\b/.test(cmd)) return true;
    if (vportsOnly && /dpctl\/show/.test(cmd) && /mtu=/.test(filter ?? '')) return true;
  }
  return false;
}

/** The parts of a testcase definition the needs are read from. */
export interface TestcaseData {
  readonly raw: JsonObject;
}

/** `tools exec_shell "numactl …" REGEX`: the REGEX, else undefined. */
function numactlRegex(step: unknown): string | undefined {
  if (!Array.isArray(step) || step[0] !== 'tools' || step[1] !== 'exec_shell') return undefined;
  if (typeof step[2] !== 'string' || !/(^|\s)numactl\s/.test(`${step[2]} `)) return undefined;
  return typeof step[3] === 'string' ? step[3] : '';
}

/**
 * What the testcase's TestSteps need of the host: a step that reads the CPUs of NUMA node N needs N+1 nodes;
 * an assert `#STEP[-1][0]>K` on the node count `numactl -H` reports (`available: (n)`) needs K+1.
 */
export function hostNeeds(tc: TestcaseData): HostNeeds {
  const steps = Array.isArray(tc.raw.TestSteps) ? tc.raw.TestSteps : [];
  let numa = 0;
  steps.forEach((step, i) => {
    const regex = numactlRegex(step);
    if (regex === undefined) return;
    for (const m of regex.matchAll(/node (\d+) cpus/g)) numa = Math.max(numa, Number(m[1]) + 1);
    const next = steps[i + 1];
    if (/available:/.test(regex) && Array.isArray(next) && next[0] === 'tools' && next[1] === 'assert' && typeof next[2] === 'string') {
      const m = /^#STEP\[-1\]\[0\]\s*(>=|>)\s*(\d+)$/.exec(next[2].trim());
      if (m) numa = Math.max(numa, Number(m[2]) + (m[1] === '>' ? 1 : 0));
    }
  });
  const bindsNic = steps.some((st) => Array.isArray(st) && st[0] === 'tools' && typeof st[2] === 'string' && /\$TOOLS\[\s*['"]bind-tool['"]\s*\]/.test(st[2]));
  return {
    ...(numa > 1 ? { numaNodes: numa } : {}),
    ...(vhostMtuBeforeGuest(steps) ? { guestForVhostMtu: true as const } : {}),
    ...(bindsNic ? { bindsNic } : {}),
  };
}

/** NUMA nodes of this host (/sys/devices/system/node/nodeN); 1 when the kernel has no NUMA. */
export function numaNodeCount(dir = '/sys/devices/system/node'): number {
  try {
    return Math.max(1, readdirSync(dir).filter((n) => /^node\d+$/.test(n)).length);
  } catch {
    return 1;
  }
}

/** What the host is asked: its NUMA nodes, and the OVS-DPDK build the testcase would run (its version, for the message). */
export interface HostProbe {
  numaNodes(): number;
  ovsDpdkVersion(): Promise<string>;
}

/** The OVS-DPDK build the settings name (the one OvsDpdkVhost starts). */
const OVS_DPDK_BIN = '/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk';

/** `BIN --version` as OVS reports itself ("ovs-vswitchd (Open vSwitch) 3.1.0"): "OVS 3.1.0", or why it is unknown. */
export async function ovsVersion(bin: string): Promise<string> {
  try {
    const r = await exec([bin, '--version'], { allowFail: true, timeoutMs: 10_000 });
    const v = /\(Open vSwitch\)\s+(\S+)/.exec(r.stdout)?.[1];
    if (v) return `OVS ${v}`;
    return `version unknown: ${bin} --version printed ${JSON.stringify((r.stdout || r.stderr).trim().split('\n')[0] ?? '')}`;
  } catch (e) {
    return `version unknown: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** This host, with the OVS-DPDK binary the settings name (OVS_VSWITCHD_DPDK_BIN). */
export function hostProbe(s: Settings): HostProbe {
  return { numaNodes: () => numaNodeCount(), ovsDpdkVersion: () => ovsVersion(String(s.getOr('OVS_VSWITCHD_DPDK_BIN', OVS_DPDK_BIN))) };
}

/** Why this host cannot run the testcase, or undefined. */
export async function hostLacks(tc: TestcaseData, probe: HostProbe): Promise<string | undefined> {
  const need = hostNeeds(tc);
  if (need.numaNodes !== undefined) {
    const have = probe.numaNodes();
    if (have < need.numaNodes)
      return `needs a host with ${need.numaNodes} NUMA nodes (it places guests and PMD threads on different nodes); this host has ${have}`;
  }
  if (need.guestForVhostMtu)
    return `checks a vhost-user client port's MTU before any guest is on its socket: this OVS-DPDK (${await probe.ovsDpdkVersion()}) reports MTU 0 until a guest connects`;
  if (need.bindsNic)
    return "needs a physical (PCI) NIC that its steps bind to a DPDK driver with VSPERF's dpdk-devbind ($TOOLS['bind-tool']) while the switch runs; vsperf-ts does not rebind NICs inside a testcase, and the sandbox's ports are veth";
  return undefined;
}
