/** Host checks from the settings in force: for `vsperf --check-host` and for every run's results.json. */
import { join } from 'node:path';
import type { Json, Settings } from '../config/settings.js';
import { PROJECT_ROOT } from '../config/load.js';
import { judgeHost, kvmProbeVerdict, readHostFacts, type HostCheck } from './host-checks.js';
import { maskCpus } from './testcase.js';
import { parseProcStat } from './host-sample.js';
import { readFileSync } from 'node:fs';

function portNames(s: Settings): string[] {
  const ports = s.getOr<Json>('TRAFFICGEN_PORTS', []);
  return Array.isArray(ports) ? ports.map((p) => (typeof p === 'object' && p !== null && !Array.isArray(p) ? String(p.name ?? '') : '')).filter(Boolean) : [];
}

export function hostChecks(s: Settings, steal?: { pct: number; overS: number }): HostCheck[] {
  const gen = s.getOr<Json>('TRAFFICGEN_SOFTWARE_CORES', []);
  return judgeHost(
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
  );
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
