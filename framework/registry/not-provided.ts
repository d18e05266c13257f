/**
 * Drivers VSPERF has and vsperf-ts does not, with what a user would need instead. VSPERF's testcases
 * (its integration catalogue above all) name them; a testcase that does fails with this one line,
 * which says what is missing rather than that a name is unknown. Pure data.
 */
import type { DriverKind } from '../api/driver.js';

const NOT_PROVIDED: Partial<Record<DriverKind, Readonly<Record<string, string>>>> = {
  trafficgen: {
    trex: 'needs a T-Rex server (TRAFFICGEN=Trex is not supported here; use Software, or IxNet with an IxNetwork server)',
    moongen: 'needs a MoonGen host (TRAFFICGEN=Moongen is not supported here; use Software)',
    testcenter: 'needs a Spirent TestCenter (TRAFFICGEN=TestCenter is not supported here; use Software)',
    xena: 'needs a Xena chassis (TRAFFICGEN=Xena is not supported here; use Software)',
  },
  vswitch: {
    vppdpdkvhost: 'needs VPP (VSWITCH=VppDpdkVhost is not supported here; OvsDpdkVhost and OvsVanilla are)',
  },
  vnf: {
    qemuvirtionet: 'needs VNF QemuVirtioNet (a kernel vhost-net guest), which vsperf-ts does not provide; QemuDpdkVhostUser is the guest here',
  },
};

/** The one-line reason a VSPERF driver vsperf-ts lacks cannot be used, or undefined for any other name. */
export function notProvided(kind: DriverKind, name: string): string | undefined {
  return NOT_PROVIDED[kind]?.[name.toLowerCase()];
}
