/** Host checks from the settings in force: for `vsperf --check-host` and for every run's results.json. */
import { basename, join } from 'node:path';
import type { Json, Settings } from '../config/settings.js';
import { PROJECT_ROOT } from '../config/load.js';
import { judgeHost, kvmProbeVerdict, readHostFacts, type HostCheck } from './host-checks.js';
import { maskCpus } from './testcase.js';
import { parseProcStat } from './host-sample.js';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';

function portNames(s: Settings): string[] {
  const ports = s.getOr<Json>('TRAFFICGEN_PORTS', []);
  return Array.isArray(ports) ? ports.map((p) => (typeof p === 'object' && p !== null && !Array.isArray(p) ? String(p.name ?? '') : '')).filter(Boolean) : [];
}

/**
 * Generator NICs for the Software generator's dpdk backend (TRAFFICGEN_PORTS entries with `pci`): present,
 * in an IOMMU group, vfio-pci loadable. Not yet on vfio-pci is a warning: the generator binds them.
 */
export function dpdkNicChecks(s: Settings, sys = '/sys', modulesDir = `/lib/modules/${release()}`): HostCheck[] {
  const ports = s.getOr<Json>('TRAFFICGEN_PORTS', []);
  const pcis = (Array.isArray(ports) ? ports : []).flatMap((p) =>
    typeof p === 'object' && p !== null && !Array.isArray(p) && typeof p.pci === 'string' ? [p.pci] : [],
  );
  if (!pcis.length) return [];
  return [vfioCheck(sys, modulesDir), ...pcis.map((pci) => nicCheck(sys, pci))];
}

/** vfio-pci loaded, or at least loadable (a module of the running kernel, or built in). */
export function vfioCheck(sys: string, modulesDir: string): HostCheck {
  const name = 'dpdk-vfio-pci';
  if (existsSync(join(sys, 'bus/pci/drivers/vfio-pci'))) return { name, status: 'pass', detail: 'vfio-pci loaded' };
  const listed = (f: string): boolean => {
    try {
      return /(^|\/)vfio-pci\.ko/m.test(readFileSync(join(modulesDir, f), 'utf8'));
    } catch {
      return false;
    }
  };
  if (listed('modules.dep') || listed('modules.builtin'))
    return { name, status: 'warn', detail: 'vfio-pci not loaded (the Software generator loads it)', fix: 'modprobe vfio-pci' };
  return {
    name,
    status: 'fail',
    detail: `no vfio-pci module for this kernel (${modulesDir})`,
    fix: 'install the kernel modules package of the running kernel (linux-image-$(uname -r) / linux-modules-extra), then modprobe vfio-pci',
  };
}

function release(): string {
  try {
    return readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    return '';
  }
}

function nicCheck(sys: string, pci: string): HostCheck {
  const dev = join(sys, 'bus/pci/devices', pci);
  const name = `dpdk-nic ${pci}`;
  if (!existsSync(dev)) return { name, status: 'fail', detail: 'no such PCI device', fix: 'check TRAFFICGEN_PORTS against lspci -D' };
  if (!existsSync(join(dev, 'iommu_group')))
    return { name, status: 'fail', detail: 'no IOMMU group (the IOMMU is off)', fix: 'boot with intel_iommu=on iommu=pt (amd_iommu=on on AMD)' };
  const driver = existsSync(join(dev, 'driver')) ? basename(readlinkSync(join(dev, 'driver'))) : 'no driver';
  if (driver === 'vfio-pci') return { name, status: 'pass', detail: 'on vfio-pci' };
  return {
    name,
    status: 'warn',
    detail: `on ${driver}: the Software generator binds it to vfio-pci for the run and restores ${driver}`,
    fix: 'modprobe vfio-pci',
  };
}

export function hostChecks(s: Settings, steal?: { pct: number; overS: number }): HostCheck[] {
  const gen = s.getOr<Json>('TRAFFICGEN_SOFTWARE_CORES', []);
  return [
    ...judgeHost(
      readHostFacts({
        pmdCpus: maskCpus(String(s.getOr<Json>('VSWITCH_PMD_CPU_MASK', ''))),
        generatorCpus: Array.isArray(gen) ? gen.filter((x): x is number => typeof x === 'number') : [],
        ports: portNames(s),
        ...(steal ? { steal } : {}),
        ...(() => {
          const k = kvmProbeVerdict(process.env.VSPERF_GUEST_DIR || join(PROJECT_ROOT, '.vsperf', 'guest'));
          return k ? { kvmProbe: k } : {};
        })(),
      }),
    ),
    ...dpdkNicChecks(s),
  ];
}

/** Steal counter now, to measure steal over a whole run without waiting for it. */
export function stealMark(): { steal: number; all: number; tMs: number } {
  let text = '';
  try {
    text = readFileSync('/proc/stat', 'utf8');
  } catch {
    /* no /proc */
  }
  let steal = 0;
  let all = 0;
  for (const c of parseProcStat(text).cpus.values()) {
    steal += c.steal;
    all += c.busy + c.idle + c.steal;
  }
  return { steal, all, tMs: performance.now() };
}

export function stealSince(m: { steal: number; all: number; tMs: number }): { pct: number; overS: number } {
  const n = stealMark();
  const d = n.all - m.all;
  return { pct: d > 0 ? Math.round(((n.steal - m.steal) / d) * 10000) / 100 : 0, overS: Math.round((n.tMs - m.tMs) / 100) / 10 };
}
