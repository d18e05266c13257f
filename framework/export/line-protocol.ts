/**
 * InfluxDB line protocol (1.x): `measurement,tag=v field=1.5,text="x" <ns timestamp>`.
 * Escaping per the InfluxDB 1.x reference: measurement escapes comma and space; tag keys, tag values
 * and field keys escape comma, equals sign and space; string field values escape `"` and `\`.
 */
import type { RunResults } from '../results/types.js';
import { METRICS, num } from '../compare/metrics.js';

export type FieldValue = number | string | boolean;

export interface Point {
  readonly measurement: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly fields: Readonly<Record<string, FieldValue>>;
  /** Nanoseconds since the epoch. */
  readonly timeNs: bigint;
}

export function escMeasurement(s: string): string {
  return s.replace(/[\n\r\t]/g, ' ').replace(/[, ]/g, (c) => `\\${c}`);
}

export function escKey(s: string): string {
  return s.replace(/[\n\r\t]/g, ' ').replace(/[,= ]/g, (c) => `\\${c}`);
}

export function escString(s: string): string {
  return `"${s.replace(/[\n\r]/g, ' ').replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function fieldValue(v: FieldValue): string | undefined {
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return undefined;
    // Always floats: a field must keep one type across points, and integers would clash with 1.5 later.
    const s = String(v);
    return /[.eE]/.test(s) ? s : `${s}.0`;
  }
  return escString(v);
}

export function formatPoint(p: Point): string | undefined {
  const tags = Object.entries(p.tags)
    .filter(([, v]) => v !== '')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `,${escKey(k)}=${escKey(v)}`)
    .join('');
  const fields = Object.entries(p.fields)
    .map(([k, v]) => {
      const f = fieldValue(v);
      return f === undefined ? undefined : `${escKey(k)}=${f}`;
    })
    .filter((x): x is string => x !== undefined);
  if (!fields.length) return undefined;
  return `${escMeasurement(p.measurement)}${tags} ${fields.join(',')} ${p.timeNs}`;
}

function ns(iso: string | undefined, fallback: string): bigint {
  const ms = Date.parse(iso ?? '');
  return BigInt(Number.isNaN(ms) ? Date.parse(fallback) : ms) * 1_000_000n;
}

export interface ExportOptions {
  /** Measurement prefix: <prefix>_result, <prefix>_trial, <prefix>_run. */
  readonly prefix?: string;
  readonly trials?: boolean;
}

/**
 * Points of a run: one `<prefix>_run` point, one `<prefix>_result` point per result row (numeric
 * columns as fields; testcase, deployment, frame size, goal… as tags) and optionally one
 * `<prefix>_trial` point per trial. Timestamps: testcase stop time (+ row index in ns so rows of one
 * testcase never overwrite each other), trial start time.
 */
export function runToPoints(r: RunResults, opts: ExportOptions = {}): Point[] {
  const prefix = opts.prefix ?? 'vsperf';
  const host = r.host?.hostname ?? '';
  const common = { run_id: r.runId, host };
  const points: Point[] = [];
  points.push({
    measurement: `${prefix}_run`,
    tags: { ...common, status: r.status },
    fields: {
      testcases: r.testcases.length,
      passed: r.testcases.filter((t) => t.status === 'passed').length,
      failed: r.testcases.filter((t) => t.status === 'failed').length,
      wall_s: r.testcases.reduce((a, t) => a + (t.wallS ?? 0), 0),
      tool_version: r.tool?.version ?? '',
    },
    timeNs: ns(r.startTime, r.startTime),
  });
  for (const tc of r.testcases) {
    const tcTags = { ...common, testcase: tc.name, deployment: tc.deployment, traffic_type: tc.trafficType, simulated: tc.simulated ? 'true' : 'false' };
    const base = ns(tc.stopTime, r.startTime);
    tc.rows.forEach((row, i) => {
      const fields: Record<string, FieldValue> = {};
      for (const [k, v] of Object.entries(row)) {
        const n = typeof v === 'boolean' ? undefined : num(v);
        if (
          n !== undefined &&
          (k in METRICS || k.endsWith('_fps') || k.endsWith('_ns') || k.endsWith('_ms') || k.endsWith('_percent') || k.endsWith('_frames'))
        )
          fields[k] = n;
        else if (typeof v === 'boolean' && k !== 'simulated') fields[k] = v;
      }
      delete fields.packet_size;
      fields.status = tc.status;
      const tags: Record<string, string> = { ...tcTags };
      for (const t of ['packet_size', 'goal', 'vswitch', 'trafficgen', 'guest_loopback_app'] as const)
        if (row[t] !== undefined && row[t] !== 'Unknown') tags[t] = String(row[t]);
      points.push({ measurement: `${prefix}_result`, tags, fields, timeNs: base + BigInt(i) });
    });
    if (tc.status === 'failed') {
      points.push({
        measurement: `${prefix}_result`,
        tags: tcTags,
        fields: { status: 'failed', error: tc.error ? `${tc.error.code}: ${tc.error.message}` : 'failed' },
        timeNs: base,
      });
    }
    if (opts.trials !== false) {
      for (const t of tc.trials) {
        const res = t.result;
        const fields: Record<string, FieldValue> = {
          index: t.index,
          offered_fps: t.rateFps,
          achieved_tx_fps: res.achievedTxFps,
          rx_fps: res.rxFps,
          loss_percent: res.lossPct,
          tx_frames: res.txFrames,
          rx_frames: res.rxFrames,
          duration_s: res.durationS,
          valid: t.valid,
        };
        if (res.latency && res.latency.samples > 0) {
          fields.min_latency_ns = res.latency.minNs;
          fields.avg_latency_ns = res.latency.avgNs;
          fields.max_latency_ns = res.latency.maxNs;
          for (const [p, v] of Object.entries(res.latency.percentilesNs)) fields[`${p.replace('.', '_')}_latency_ns`] = v;
        }
        if (res.maxGapMs !== undefined) fields.max_gap_ms = res.maxGapMs;
        points.push({
          measurement: `${prefix}_trial`,
          tags: { ...tcTags, packet_size: String(t.frameSize), ...(t.purpose ? { purpose: t.purpose } : {}) },
          fields,
          timeNs: ns(t.startedAt, r.startTime) + BigInt(t.index % 1000),
        });
      }
    }
  }
  return points;
}

export function toLineProtocol(points: readonly Point[]): string {
  const lines = points.map(formatPoint).filter((l): l is string => l !== undefined);
  return lines.length ? lines.join('\n') + '\n' : '';
}
