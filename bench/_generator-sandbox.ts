/**
 * Part of `npm run bench -- generator`: `vsperf phy2phy_tput` (64 B, 10 s trials, both directions) on the
 * sandbox twice: veth ports (OVS net_af_xdp, generator af_xdp/af_packet) and vhost-user ports (OVS
 * dpdkvhostuserclient, generator dpdk backend on net_virtio_user), with the OVS PMD's processing share
 * at the highest trial that passed, and the row's validity verdict (who limited the result).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { Config } from '../framework/config/load.js';
import { silentLogger } from '../framework/log/logger.js';
import { registerBuiltins } from '../drivers.js';
import { Registry } from '../framework/registry/registry.js';
import { RunEvents } from '../framework/runner/events.js';
import { runTestcases } from '../framework/runner/run.js';
import { pmdProcessing } from '../framework/methodology/trial-runner.js';
import type { DirectionCheck } from '../framework/methodology/counter-check.js';

export interface SandboxFigure {
  readonly port_type: 'veth' | 'vhost';
  readonly throughput_rx_fps: number | null;
  readonly validity: string | null;
  readonly validity_reasons: string | null;
  /** OVS PMD processing cycles % in the highest passing trial (the reported rate). */
  readonly pmd_busy_pct: number | null;
  /**
   * What bounds the figure from above: the slowest trial that lost frames (rate, lost frames, how many
   * of them the generator dropped at the switch's full vhost-user ring, the PMD's busy %, its verdict).
   */
  readonly first_loss: { rate_fps: number; lost: number; tx_full_drops: number; pmd_busy_pct: number | null; reasons: string } | null;
  /**
   * The search's trials in order: offered fps, lost frames, TX-full drops, PMD busy %, and the longest
   * run of lost frames in ms of traffic (one burst = lost / rate: a single stall; far less: many).
   */
  readonly search: { rate_fps: number; lost: number; tx_full_drops: number; pmd_busy_pct: number | null; max_gap_ms: number | null; valid: boolean }[];
  /**
   * The generator's counts against the switch's own per-port counters (the trial runner's counterCheck,
   * read before the generator released its ports): trials checked, how many agreed, and per direction at
   * the reported rate what each side counted (generator sent → switch port received; switch port sent →
   * generator received).
   */
  readonly counter_check: { trials_checked: number; consistent: number; at_reported: readonly DirectionCheck[] | null };
  /** Where the switch's threads ran (the deployment's fact; vhost sandbox). */
  readonly thread_placement?: string;
  readonly trials: number;
  readonly wall_s: number;
  readonly error?: string;
}

export async function sandboxPhy2phy(portType: 'veth' | 'vhost', durationS: number): Promise<SandboxFigure> {
  const resultsRoot = `/tmp/vsg-bench-sandbox-${portType}`;
  rmSync(resultsRoot, { recursive: true, force: true });
  mkdirSync(resultsRoot, { recursive: true });
  const params: Record<string, unknown> = {
    TRAFFICGEN: 'Software',
    VSWITCH: 'OvsDpdkVhost',
    TRAFFICGEN_DURATION: durationS,
    TRAFFICGEN_PKT_SIZES: [64],
    // 10 Gbit/s nominal: % of line rate must not cap a sandbox that forwards Mfps.
    SANDBOX_PORT_SPEED_MBPS: 10_000,
    ...(portType === 'vhost' ? { TRAFFICGEN_SOFTWARE_BACKEND: 'dpdk' } : { TRAFFICGEN_SOFTWARE_CORES: [0] }),
  };
  const config = new Config({ validate: false, testParams: [params as never] });
  const registry = new Registry();
  registerBuiltins(registry);
  const tc = config.testcases().find((x) => x.name === 'phy2phy_tput')!;
  const t0 = performance.now();
  try {
    const res = await runTestcases({
      config,
      registry,
      testcases: [tc],
      log: silentLogger,
      events: new RunEvents(),
      argv: ['bench'],
      resultsRoot,
      signal: new AbortController().signal,
    });
    const r = res.testcases[0]!;
    const row = (r.rows[0] ?? {}) as Record<string, unknown>;
    for (const t of r.trials) {
      const pmdT = pmdProcessing(t.switchCounters, t.result.durationS);
      const cc = t.counterCheck;
      const ccText = cc
        ? `, switch counters ${cc.consistent ? 'agree' : 'DISAGREE'} (${cc.directions.map((d) => `sent ${d.generatorTx} → OVS rx ${d.switchRx}, OVS tx ${d.switchTx} → received ${d.generatorRx}`).join('; ')})`
        : ', no switch counters';
      console.log(
        `    ${portType} trial ${t.index}: ${Math.round(t.rateFps)} fps, lost ${t.result.lostFrames} of ${t.result.txFrames}${t.valid ? '' : ` INVALID (${t.invalidReason})`}${ccText}, PMD ${pmdT.length ? Math.max(...pmdT) : '?'} %, loop busy ${t.result.info?.generatorBusyPct ?? '?'} % (${t.result.info?.generatorCyclesPerFrame ?? '?'} cycles/frame, off CPU ${t.result.info?.generatorOffCpuPct ?? '?'} %), TX-full drops ${t.result.info?.txFullDrops ?? 0} (longest loss run ${t.result.maxGapMs?.toFixed(2) ?? '?'} ms), preempted ${t.result.info?.generatorLoopPreemptions ?? '?'}`,
      );
    }
    const tput = Number(row.throughput_rx_fps);
    // the PMD share in the fastest trial that passed (frame loss 0), i.e. at the reported rate
    const passed = r.trials.filter((t) => t.valid && t.result.directions.every((d) => d.lostFrames === 0));
    const best = passed.sort((a, b) => b.rateFps - a.rateFps)[0];
    const pmd = best ? pmdProcessing(best.switchCounters, best.result.durationS) : [];
    const busy = pmd.length ? Math.max(...pmd) : null;
    const pmdOf = (t: (typeof r.trials)[number]): number | null => {
      const p = pmdProcessing(t.switchCounters, t.result.durationS);
      return p.length ? Math.max(...p) : null;
    };
    const fullOf = (t: (typeof r.trials)[number]): number => Number(t.result.info?.txFullDrops ?? 0);
    const lossy = r.trials.filter((t) => t.valid && t.result.lostFrames > 0).sort((a, b) => a.rateFps - b.rateFps)[0];
    const placed = r.facts.vswitch_thread_placement;
    return {
      port_type: portType,
      throughput_rx_fps: Number.isFinite(tput) ? Math.round(tput) : null,
      validity: row.validity !== undefined ? String(row.validity) : null,
      validity_reasons: row.validity_reasons !== undefined ? String(row.validity_reasons) : null,
      pmd_busy_pct: busy,
      first_loss: lossy
        ? {
            rate_fps: Math.round(lossy.rateFps),
            lost: lossy.result.lostFrames,
            tx_full_drops: fullOf(lossy),
            pmd_busy_pct: pmdOf(lossy),
            reasons: (lossy.validityReasons ?? []).join(';'),
          }
        : null,
      search: r.trials.map((t) => ({
        rate_fps: Math.round(t.rateFps),
        lost: t.result.lostFrames,
        tx_full_drops: fullOf(t),
        pmd_busy_pct: pmdOf(t),
        max_gap_ms: t.result.maxGapMs !== undefined ? Number(t.result.maxGapMs.toFixed(2)) : null,
        valid: t.valid,
      })),
      counter_check: {
        trials_checked: r.trials.filter((t) => t.counterCheck?.directions.length).length,
        consistent: r.trials.filter((t) => t.counterCheck?.directions.length && t.counterCheck.consistent).length,
        at_reported: best?.counterCheck?.directions.length ? best.counterCheck.directions : null,
      },
      ...(typeof placed === 'string' ? { thread_placement: placed } : {}),
      trials: r.trials.length,
      wall_s: Number(((performance.now() - t0) / 1000).toFixed(1)),
      ...(r.status !== 'passed' ? { error: JSON.stringify(r.error) } : {}),
    };
  } finally {
    rmSync(resultsRoot, { recursive: true, force: true });
  }
}
