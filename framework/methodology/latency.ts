/**
 * rfc2544_latency (RFC 2544 §26.2, VSPERF LTD.PacketDelayVariation): first the RFC 2544 throughput with
 * VSPERF's binary search, then latency trials of TRAFFICGEN_LATENCY_DURATION seconds at each fraction
 * TRAFFICGEN_LATENCY_LOAD_PCT (% of the found throughput), TRAFFICGEN_LATENCY_TRIALS times each. One row
 * per frame size and load: min of minima, sample-weighted mean, max of maxima, and percentiles (from
 * merged histograms when the generator gives them, else sample-weighted percentile means).
 */
import type { Methodology, TrialRecord } from './context.js';
import { TrialRunner } from './trial-runner.js';
import { frameSizes } from './traffic-spec.js';
import { fpsToMbps, round, searchColumns } from './rows.js';
import { int, num, numList } from './options.js';
import { runBinarySearch, statusText } from './throughput.js';
import { CapabilityError } from '../errors.js';
import type { LatencyStats } from '../api/trafficgen.js';
import type { ResultRow } from './types.js';

const PCT_COLUMNS: Record<string, string> = {
  p50: 'p50_latency_ns',
  p90: 'p90_latency_ns',
  p99: 'p99_latency_ns',
  'p99.9': 'p99_9_latency_ns',
  'p99.99': 'p99_99_latency_ns',
};

/** Merge latency of several trials. Percentiles come from the merged histogram when every trial has one. */
export function mergeLatency(list: readonly LatencyStats[]): LatencyStats | undefined {
  const xs = list.filter((l) => l.samples > 0);
  if (xs.length === 0) return undefined;
  const n = xs.reduce((a, l) => a + l.samples, 0);
  const percentilesNs: Record<string, number> = {};
  const keys = Object.keys(PCT_COLUMNS).filter((k) => xs.every((l) => l.percentilesNs[k] !== undefined));
  if (xs.length === 1) Object.assign(percentilesNs, xs[0]!.percentilesNs);
  else if (xs.every((l) => l.histogram && l.histogram.lowerNs.length > 0)) {
    // Merge the histograms and read each quantile, interpolating inside its bucket.
    const buckets = new Map<number, number>();
    for (const l of xs) l.histogram!.lowerNs.forEach((lo, i) => buckets.set(lo, (buckets.get(lo) ?? 0) + (l.histogram!.counts[i] ?? 0)));
    const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
    const total = sorted.reduce((a, [, c]) => a + c, 0);
    const top = Math.max(...xs.map((l) => l.maxNs));
    for (const [k, q] of [
      ['p50', 0.5],
      ['p90', 0.9],
      ['p99', 0.99],
      ['p99.9', 0.999],
      ['p99.99', 0.9999],
    ] as const) {
      let acc = 0;
      for (let i = 0; i < sorted.length; i++) {
        const [lo, c] = sorted[i]!;
        if (c > 0 && acc + c >= q * total) {
          const hi = sorted[i + 1]?.[0] ?? top;
          percentilesNs[k] = lo + ((q * total - acc) / c) * (hi - lo);
          break;
        }
        acc += c;
      }
    }
  } else {
    for (const k of keys) percentilesNs[k] = xs.reduce((a, l) => a + l.percentilesNs[k]! * l.samples, 0) / n;
  }
  return {
    minNs: Math.min(...xs.map((l) => l.minNs)),
    avgNs: xs.reduce((a, l) => a + l.avgNs * l.samples, 0) / n,
    maxNs: Math.max(...xs.map((l) => l.maxNs)),
    percentilesNs,
    samples: n,
  };
}

export const latency: Methodology = async (ctx) => {
  const rows: ResultRow[] = [];
  const trials: TrialRecord[] = [];
  const counter = { next: 0 };
  if (!ctx.generator.capabilities().latency) throw new CapabilityError(ctx.generator.name, 'latency', 'rfc2544_latency needs per-frame latency');
  const loadsPct = numList(ctx.settings, 'TRAFFICGEN_LATENCY_LOAD_PCT', [100], 1e-6, 100);
  const durationS = num(ctx.settings, 'TRAFFICGEN_LATENCY_DURATION', 120, 1e-3);
  const reps = int(ctx.settings, 'TRAFFICGEN_LATENCY_TRIALS', 1, 1, 10_000);
  for (const size of frameSizes(ctx.settings)) {
    const runner = new TrialRunner(ctx, size, counter);
    await runner.learn();
    const searchFrom = runner.trials.length;
    const tput = await runBinarySearch(ctx, runner);
    const searchEnd = runner.trials.length;
    const tputFps = tput.best ? (tput.bestPct / 100) * runner.lineRateFps : 0;
    for (const pct of loadsPct) {
      const from = runner.trials.length;
      const base: ResultRow = { packet_size: size, latency_load_pct: pct, throughput_rx_fps: tput.best ? round(tput.best.result.rxFps) : 0 };
      if (!tput.best || tputFps <= 0) {
        rows.push({ ...base, ...searchColumns(runner.trials.slice(searchFrom), `no throughput found, no latency measured (${statusText(tput)})`) });
        continue;
      }
      const rateFps = (pct / 100) * tputFps;
      const outs = [];
      for (let i = 0; i < reps; i++) outs.push(await runner.measure({ rateFps, durationS, purpose: `latency ${pct} %`, latency: true }));
      const valid = outs.filter((o) => o.valid);
      const lat = mergeLatency(valid.map((o) => o.result.latency).filter((l): l is LatencyStats => l !== undefined));
      const txFps = valid.length ? valid.reduce((a, o) => a + o.result.achievedTxFps, 0) / valid.length : 0;
      const lossPct = valid.length ? valid.reduce((a, o) => a + o.result.lossPct, 0) / valid.length : 100;
      const row: ResultRow = {
        ...base,
        tx_rate_fps: round(txFps),
        tx_rate_mbps: round(fpsToMbps(txFps, runner.l2FrameSize)),
        tx_rate_percent: round((txFps / runner.lineRateFps) * 100),
        frame_loss_percent: round(lossPct, 6),
      };
      if (lat) {
        row.min_latency_ns = round(lat.minNs);
        row.avg_latency_ns = round(lat.avgNs);
        row.max_latency_ns = round(lat.maxNs);
        for (const [k, col] of Object.entries(PCT_COLUMNS)) if (lat.percentilesNs[k] !== undefined) row[col] = round(lat.percentilesNs[k]!);
      }
      const notes = [
        `throughput ${statusText(tput)}`,
        ...(valid.length < outs.length
          ? [`${outs.length - valid.length} of ${outs.length} latency trials invalid (${outs.find((o) => !o.valid)?.invalidReason})`]
          : []),
        ...(lat ? [] : ['the generator returned no latency samples']),
      ];
      rows.push({ ...row, ...searchColumns([...runner.trials.slice(searchFrom, searchEnd), ...runner.trials.slice(from)], notes.join('; ')) });
    }
    trials.push(...runner.trials);
  }
  return { rows, trials };
};
