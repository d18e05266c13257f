/**
 * The self-contained HTML report of one results directory: inline CSS and SVG only (no script, no
 * external fonts, images or styles), so it can be mailed, archived by CI and opened offline.
 */
import type { RunResults, TestcaseResult } from '../results/types.js';
import { columnsFor } from '../results/columns.js';
import { METRICS, num } from '../compare/metrics.js';
import { formatMarkdown } from '../compare/format.js';
import type { GateReport } from '../compare/gate.js';
import { esc, lineChart, histogramChart, shortNum, PALETTE, PASS_COLOR, FAIL_COLOR, INVALID_COLOR, type LineSeries, type Point } from './svg.js';
import { classifyTrial, frameSizesOf, lossLimitPct, migrationTimelines, perFrameSize, resultTrial, type MigrationTimeline } from './extract.js';

export interface ReportOptions {
  /** Optional gate verdict to show at the top. */
  readonly gate?: GateReport;
  /** Most histograms drawn per testcase. */
  readonly maxHistograms?: number;
  readonly title?: string;
}

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px;margin:0 0 8px} h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ccc;padding-bottom:4px} h3{font-size:15px;margin:16px 0 6px}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px} th,td{border:1px solid #ccc;padding:3px 7px;text-align:right} th{background:#f2f2f2}
td.l,th.l{text-align:left} .passed{color:#1a7f1a;font-weight:bold} .failed,.aborted{color:#c00;font-weight:bold} .running{color:#a60}
.banner{background:#fff3cd;border:1px solid #e0c060;padding:8px 12px;margin:8px 0;font-weight:bold}
.error{background:#fde2e2;border:1px solid #e09090;padding:8px 12px;margin:8px 0}
.plots{display:flex;flex-wrap:wrap;gap:12px} .plots svg{border:1px solid #ddd;background:#fff}
.meta{font-size:13px;color:#444} .scroll{overflow-x:auto} code{background:#f4f4f4;padding:0 3px}
details{margin:6px 0} pre{background:#f8f8f8;padding:8px;overflow:auto;font-size:12px;max-height:400px}
`;

function fmt(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(+v.toPrecision(7));
  return String(v);
}

function statusSpan(s: string): string {
  return `<span class="${esc(s)}">${esc(s)}</span>`;
}

/** One-line key figure of a testcase for the overview table. */
export function keyFigure(tc: TestcaseResult): string {
  if (tc.status !== 'passed') return tc.error ? `${tc.error.code}: ${tc.error.message}` : 'failed';
  const parts: string[] = [];
  for (const r of tc.rows) {
    const size = num(r.packet_size);
    const pre = size !== undefined ? `${size} B` : '';
    const goal = typeof r.goal === 'string' ? ` ${r.goal}` : '';
    if (num(r.migration_downtime_ms) !== undefined) {
      parts.push(`downtime ${fmt(r.migration_downtime_ms)} ms, outage ${fmt(r.dataplane_outage_ms ?? '?')} ms, total ${fmt(r.migration_total_ms ?? '?')} ms`);
    } else if (num(r.b2b_frames) !== undefined) parts.push(`${pre}: ${shortNum(num(r.b2b_frames)!)} frames`);
    else if (num(r.throughput_rx_fps) !== undefined) {
      const pct = num(r.throughput_rx_percent);
      parts.push(`${pre}${goal}: ${shortNum(num(r.throughput_rx_fps)!)} fps${pct !== undefined ? ` (${pct.toFixed(1)} %)` : ''}`);
    }
  }
  return parts.slice(0, 6).join('; ') + (parts.length > 6 ? '; …' : '');
}

const LABEL_COLS = new Set([
  'type',
  'id',
  'deployment',
  'vswitch',
  'traffic_type',
  'guest_loopback_app',
  'tunnel_type',
  'trafficgen',
  'trafficgen_backend',
  'simulated',
  'start_time',
  'stop_time',
  'test_execution_time',
]);

function rowsTable(tc: TestcaseResult): string {
  if (!tc.rows.length) return '<p class="meta">no result rows</p>';
  const cols = columnsFor(tc.rows);
  // Columns with one value across all rows go in a line above the table.
  const constant = cols.filter((c) => LABEL_COLS.has(c) && new Set(tc.rows.map((r) => String(r[c]))).size === 1);
  const shown = cols.filter((c) => !constant.includes(c));
  const facts = constant.map((c) => `${esc(c)}=<code>${esc(fmt(tc.rows[0]![c]))}</code>`).join(' ');
  const head = shown.map((c) => `<th${METRICS[c] || c === 'packet_size' ? '' : ' class="l"'}>${esc(c)}</th>`).join('');
  const body = tc.rows
    .map((r) => `<tr>${shown.map((c) => `<td${typeof r[c] === 'number' ? '' : ' class="l"'}>${r[c] === undefined ? '' : esc(fmt(r[c]))}</td>`).join('')}</tr>`)
    .join('\n');
  return `${facts ? `<p class="meta">${facts}</p>` : ''}<div class="scroll"><table class="rows"><tr>${head}</tr>\n${body}</table></div>`;
}

function sizeChart(tc: TestcaseResult, cls: string, title: string, yLabel: string, columns: readonly { col: string; name: string }[], yLog = false): string {
  const per = perFrameSize(
    tc,
    columns.map((c) => c.col),
  );
  if (!per.sizes.length || !per.values.size) return '';
  const series: LineSeries[] = [];
  let ci = 0;
  for (const { col, name } of columns) {
    const byGoal = per.values.get(col);
    if (!byGoal) continue;
    for (const [goal, arr] of byGoal) {
      const color = PALETTE[ci++ % PALETTE.length]!;
      const pts: Point[] = [];
      arr.forEach((vals, i) => {
        if (!vals?.length) return;
        const m = vals.reduce((a, b) => a + b, 0) / vals.length;
        const extra = vals.length > 1 ? ` (mean of ${vals.length}: ${vals.map(shortNum).join(', ')})` : '';
        pts.push({ x: i, y: m, title: `${name}${goal ? ` ${goal}` : ''} @ ${per.sizes[i]} B: ${shortNum(m)}${extra}` });
      });
      series.push({ name: goal ? `${name} (${goal})` : name, points: pts, color });
      // Repeats as faint markers.
      const reps: Point[] = [];
      arr.forEach(
        (vals, i) => vals && vals.length > 1 && vals.forEach((v) => reps.push({ x: i, y: v, title: `${name} repeat @ ${per.sizes[i]} B: ${shortNum(v)}` })),
      );
      if (reps.length) series.push({ name: '', points: reps, color, markersOnly: true });
    }
  }
  if (!series.length) return '';
  return lineChart({
    cls: `plot ${cls}`,
    title,
    xLabel: 'frame size (bytes)',
    yLabel,
    series,
    xCategories: per.sizes.map(String),
    yLog,
    data: { testcase: tc.name },
  });
}

function trajectoryCharts(tc: TestcaseResult): string {
  if (tc.trials.length < 1) return '';
  const lim = lossLimitPct(tc);
  const sizes = frameSizesOf(tc);
  const color = { pass: PASS_COLOR, fail: FAIL_COLOR, invalid: INVALID_COLOR };
  const rate: LineSeries[] = [];
  const loss: LineSeries[] = [];
  sizes.forEach((size, si) => {
    const trials = tc.trials.filter((t) => t.frameSize === size);
    if (!trials.length) return;
    const c = PALETTE[si % PALETTE.length]!;
    rate.push({
      name: `${size} B`,
      color: c,
      points: trials.map((t) => {
        const k = classifyTrial(t, lim);
        return {
          x: t.index,
          y: t.rateFps,
          color: color[k],
          title: `trial ${t.index} (${size} B${t.purpose ? `, ${t.purpose}` : ''}): offered ${shortNum(t.rateFps)} fps, achieved ${shortNum(t.result.achievedTxFps)} fps, rx ${shortNum(t.result.rxFps)} fps, loss ${t.result.lossPct.toPrecision(3)} % → ${k}${t.invalidReason ? ` (${t.invalidReason})` : ''}`,
        };
      }),
    });
    loss.push({
      name: `${size} B`,
      color: c,
      points: trials.map((t) => ({
        x: t.index,
        y: t.result.lossPct,
        color: color[classifyTrial(t, lim)],
        title: `trial ${t.index}: loss ${t.result.lossPct.toPrecision(4)} %`,
      })),
    });
  });
  const legend = `<p class="meta">Marker colour: <span style="color:${PASS_COLOR}">● pass</span> (loss ≤ ${lim} %), <span style="color:${FAIL_COLOR}">● fail</span>, <span style="color:${INVALID_COLOR}">● invalid</span> (generator-limited or aborted). Hover a marker for its figures.</p>`;
  return (
    legend +
    '<div class="plots">' +
    lineChart({
      cls: 'plot plot-trajectory',
      title: `${tc.name}: search trajectory (offered rate per trial)`,
      xLabel: 'trial #',
      yLabel: 'offered rate (fps)',
      series: rate,
      data: { testcase: tc.name },
    }) +
    lineChart({
      cls: 'plot plot-trajectory-loss',
      title: `${tc.name}: frame loss per trial`,
      xLabel: 'trial #',
      yLabel: 'loss (%)',
      series: loss,
      data: { testcase: tc.name },
    }) +
    '</div>'
  );
}

function histograms(tc: TestcaseResult, max: number): string {
  const out: string[] = [];
  for (const size of frameSizesOf(tc)) {
    if (out.length >= max) break;
    const t = resultTrial(tc, size);
    const lat = t?.result.latency;
    const h = lat?.histogram;
    if (!t || !lat || !h || !h.counts.length) continue;
    const p = lat.percentilesNs;
    out.push(
      histogramChart({
        cls: 'plot plot-histogram',
        title: `${tc.name}: latency, ${size} B @ ${shortNum(t.rateFps)} fps (trial ${t.index}, ${shortNum(lat.samples)} samples)`,
        lowerNs: h.lowerNs,
        counts: h.counts,
        markers: [
          { label: `avg ${shortNum(lat.avgNs / 1000)} µs`, valueNs: lat.avgNs },
          ...(p.p99 !== undefined ? [{ label: `p99 ${shortNum(p.p99 / 1000)} µs`, valueNs: p.p99 }] : []),
        ],
        data: { testcase: tc.name, 'frame-size': String(size) },
      }),
    );
  }
  return out.length ? `<h3>Latency histograms</h3><div class="plots">${out.join('')}</div>` : '';
}

const EVENT_COLORS: Record<string, string> = { STOP: FAIL_COLOR, RESUME: PASS_COLOR, MIGRATION: '#1f77b4', MIGRATION_PASS: '#7f7f7f' };

/** The receive bins inside a range, merged so a chart never holds more than ~1500 points (frames summed, latency maximised). */
function rxBins(m: MigrationTimeline, zoom?: readonly [number, number]): { x: number; w: number; frames: number; latMs: number }[] {
  if (!m.rx) return [];
  const { binMs, frames } = m.rx;
  const start = m.rx.startMs ?? 0;
  const lat = m.rx.maxLatencyMs;
  const idx = frames.map((_, k) => k).filter((k) => !zoom || (start + k * binMs >= zoom[0] && start + k * binMs <= zoom[1]));
  const f = Math.max(1, Math.ceil(idx.length / 1500));
  const out: { x: number; w: number; frames: number; latMs: number }[] = [];
  for (let j = 0; j < idx.length; j += f) {
    const part = idx.slice(j, j + f);
    out.push({
      x: start + part[0]! * binMs,
      w: part.length * binMs,
      frames: part.reduce((a, k) => a + (frames[k] ?? 0), 0),
      latMs: Math.max(...part.map((k) => lat?.[k] ?? 0)),
    });
  }
  return out;
}

function timelineChart(tc: TestcaseResult, m: MigrationTimeline, i: number, zoom?: readonly [number, number]): string {
  const series: LineSeries[] = [];
  const bins = rxBins(m, zoom);
  if (bins.length) {
    const last = bins[bins.length - 1]!;
    series.push({
      name: `rx frames / s (${shortNum(bins[0]!.w)} ms bins)`,
      color: '#1f77b4',
      step: true,
      points: bins
        .map((b): Point => ({ x: b.x, y: (b.frames * 1000) / b.w, title: `${shortNum(b.x)}–${shortNum(b.x + b.w)} ms: ${b.frames} frames` }))
        .concat([{ x: last.x + last.w, y: (last.frames * 1000) / last.w }]),
    });
  }
  const fig = m.figures;
  const figs = ['totalMs', 'downtimeMs', 'stopResumeMs', 'outageMs', 'rxGapMs', 'maxLatencyMs', 'guestClockStepMs']
    .filter((k) => fig[k] !== undefined)
    .map((k) => `${k}=${shortNum(fig[k]!)}`)
    .join(', ');
  const common = {
    ...(zoom ? { xRange: zoom } : {}),
    xLabel: 'time since the migration started (ms)',
    width: 900,
    bands: m.gaps.map((g) => ({
      x0: g.startMs,
      x1: g.endMs,
      color: FAIL_COLOR,
      title: `receive silence ${shortNum(g.endMs - g.startMs)} ms${g.lostFrames !== undefined ? `, ${g.lostFrames} frames lost in the migration` : ''}`,
    })),
    vlines: m.events
      .filter((e) => zoom !== undefined || e.event === 'STOP' || e.event === 'RESUME' || (e.event === 'MIGRATION' && /setup|completed|failed/.test(e.detail)))
      .map((e) => ({
        x: e.tMs,
        label: `${e.side ? `${e.side} ` : ''}${e.event}${e.detail ? ` ${e.detail}` : ''}`,
        color: EVENT_COLORS[e.event] ?? '#9467bd',
        title: `${e.tMs.toFixed(1)} ms: ${e.side} ${e.event} ${e.detail}`,
      })),
    data: { testcase: tc.name, migration: String(i) },
  };
  const rate = lineChart({
    ...common,
    cls: 'plot plot-timeline',
    title: zoom ? `${tc.name}: migration ${i + 1}, switch-over (zoom)` : `${tc.name}: migration ${i + 1} timeline${figs ? ` (${figs})` : ''}`,
    yLabel: 'received rate (fps)',
    series: series.length ? series : [{ name: '', points: [], color: '#1f77b4' }],
    height: 340,
  });
  if (!bins.some((b) => b.latMs > 0)) return rate;
  // The same bins' largest one-way latency: a delay (frames held, not lost) shows here, not as a gap.
  const latency = lineChart({
    ...common,
    cls: 'plot plot-timeline-latency',
    title: `${tc.name}: migration ${i + 1}, largest latency per bin${zoom ? ' (zoom)' : ''}`,
    yLabel: 'max one-way latency (ms)',
    series: [
      {
        name: 'max latency (ms)',
        color: '#d62728',
        step: true,
        points: bins.map((b): Point => ({ x: b.x, y: b.latMs, title: `${shortNum(b.x)} ms: max ${shortNum(b.latMs)} ms` })),
      },
    ],
    height: 220,
  });
  return rate + latency;
}

function timelines(tc: TestcaseResult): string {
  const ms = migrationTimelines(tc);
  if (!ms.length) return '';
  const events = ms
    .map(
      (m, i) =>
        `<details><summary>migration ${i + 1}: ${m.events.length} QMP events, ${m.gaps.length} traffic gap(s)</summary><table><tr><th>t (ms)</th><th class="l">side</th><th class="l">event</th><th class="l">data</th></tr>${m.events
          .map(
            (e) =>
              `<tr><td>${e.tMs.toFixed(1)}</td><td class="l">${esc(e.side)}</td><td class="l">${esc(e.event)}</td><td class="l">${esc(e.detail)}</td></tr>`,
          )
          .join('')}</table></details>`,
    )
    .join('');
  const charts = ms.map((m, i) => {
    const key = [...m.gaps.flatMap((g) => [g.startMs, g.endMs]), ...m.events.filter((e) => e.event === 'STOP' || e.event === 'RESUME').map((e) => e.tMs)];
    const zoom: [number, number] | undefined = key.length ? [Math.min(...key) - 200, Math.max(...key) + 200] : undefined;
    return timelineChart(tc, m, i) + (zoom ? timelineChart(tc, m, i, zoom) : '');
  });
  return `<h3>Migration timeline: traffic gap vs. QMP events</h3><div class="plots">${charts.join('')}</div>${events}`;
}

/** CPU use per process (and PMD threads) over the testcase, from details.cpu (framework/collectors). */
function cpuChart(tc: TestcaseResult): string {
  const cpu = (tc.details as { cpu?: { samples?: unknown } } | undefined)?.cpu;
  const samples = Array.isArray(cpu?.samples)
    ? (cpu!.samples as { tMs: number; pid: number; name: string; cpuPct: number; threads?: Record<string, number> }[])
    : [];
  if (!samples.length) return '';
  const series = new Map<string, Point[]>();
  for (const s of samples) {
    const key = `${s.name} (${s.pid})`;
    (series.get(key) ?? series.set(key, []).get(key)!).push({ x: s.tMs / 1000, y: s.cpuPct, title: `${key} @ ${(s.tMs / 1000).toFixed(1)} s: ${s.cpuPct} %` });
    for (const [g, v] of Object.entries(s.threads ?? {})) {
      if (g !== 'pmd') continue;
      const k = `${s.name} PMD threads`;
      (series.get(k) ?? series.set(k, []).get(k)!).push({ x: s.tMs / 1000, y: v, title: `${k} @ ${(s.tMs / 1000).toFixed(1)} s: ${v} %` });
    }
  }
  return `<h3>CPU use</h3><div class="plots">${lineChart({
    cls: 'plot plot-cpu',
    title: `${tc.name}: CPU per process`,
    xLabel: 'time (s)',
    yLabel: '% of one CPU',
    series: [...series].map(([name, points]) => ({ name, points })),
    data: { testcase: tc.name },
  })}</div>`;
}

function testcaseSection(tc: TestcaseResult, opts: ReportOptions): string {
  const parts: string[] = [];
  parts.push(
    `<h2 id="tc-${tc.index}">${esc(tc.index)}. ${esc(tc.name)} <small>(${esc(tc.deployment)}, ${esc(tc.trafficType)})</small> ${statusSpan(tc.status)}</h2>`,
  );
  parts.push(
    `<p class="meta">${esc(tc.description)} · ${esc(tc.startTime)} → ${esc(tc.stopTime)} (${esc(fmt(tc.wallS))} s) · ${tc.trials.length} trial(s)${tc.csv ? ` · <code>${esc(tc.csv)}</code>` : ''}</p>`,
  );
  if (tc.simulated) parts.push('<div class="banner">Simulated: these figures were computed by the Simulated generator, not measured.</div>');
  if (tc.error) parts.push(`<div class="error">${esc(tc.error.code)}: ${esc(tc.error.message)}</div>`);
  parts.push(rowsTable(tc));
  const tput = sizeChart(tc, 'plot-throughput', `${tc.name}: throughput per frame size`, 'rx throughput (fps)', [
    { col: 'throughput_rx_fps', name: 'throughput' },
    { col: 'lower_bound_fps', name: 'lower bound' },
  ]);
  const tputPct = sizeChart(tc, 'plot-throughput-pct', `${tc.name}: throughput, % of line rate`, '% of line rate', [
    { col: 'throughput_rx_percent', name: 'throughput' },
  ]);
  const b2b = sizeChart(tc, 'plot-b2b', `${tc.name}: back-to-back burst per frame size`, 'frames', [{ col: 'b2b_frames', name: 'b2b frames' }]);
  const lat = sizeChart(
    tc,
    'plot-latency',
    `${tc.name}: latency per frame size`,
    'latency (ns)',
    [
      { col: 'min_latency_ns', name: 'min' },
      { col: 'avg_latency_ns', name: 'avg' },
      { col: 'p99_latency_ns', name: 'p99' },
      { col: 'max_latency_ns', name: 'max' },
    ],
    true,
  );
  const perSize = tc.trafficType === 'live_migration' ? [] : [tput, tputPct, b2b, lat].filter(Boolean);
  if (perSize.length) parts.push(`<div class="plots">${perSize.join('')}</div>`);
  if (tc.trials.length > 1 || tc.trafficType.includes('throughput') || tc.trafficType.includes('ndr')) {
    const traj = trajectoryCharts(tc);
    if (traj) parts.push(`<h3>Search trajectory (rate and loss of every trial)</h3>${traj}`);
  }
  parts.push(histograms(tc, opts.maxHistograms ?? 6));
  parts.push(timelines(tc));
  parts.push(cpuChart(tc));
  parts.push(`<details><summary>settings of this testcase</summary><pre>${esc(JSON.stringify(tc.settings, null, 2))}</pre></details>`);
  if (Object.keys(tc.facts ?? {}).length)
    parts.push(`<details><summary>deployment facts</summary><pre>${esc(JSON.stringify(tc.facts, null, 2))}</pre></details>`);
  return parts.join('\n');
}

export function renderHtml(results: RunResults, opts: ReportOptions = {}): string {
  const title = opts.title ?? `vsperf-ts report ${results.runId}`;
  const simulated = results.testcases.some((t) => t.simulated);
  const overview = results.testcases
    .map(
      (tc) =>
        `<tr><td>${tc.index}</td><td class="l"><a href="#tc-${tc.index}">${esc(tc.name)}</a></td><td class="l">${esc(tc.deployment)}</td><td class="l">${esc(tc.trafficType)}</td><td class="l">${statusSpan(tc.status)}</td><td>${esc(fmt(tc.wallS))}</td><td>${tc.trials.length}</td><td class="l">${esc(keyFigure(tc))}</td></tr>`,
    )
    .join('\n');
  const gate = opts.gate
    ? `<h2>Regression gate</h2><p class="${opts.gate.passed ? 'passed' : 'failed'}">${opts.gate.passed ? 'PASS' : `FAIL: ${opts.gate.regressions} regression(s)`} against ${esc(opts.gate.baseline.label)}</p><details${opts.gate.passed ? '' : ' open'}><summary>changes</summary><pre>${esc(formatMarkdown(opts.gate))}</pre></details>`
    : '';
  const h = results.host;
  // Host checks that did not pass belong in the header: they qualify every figure below.
  const notPassed = (results.host_checks ?? []).filter((c) => c.status !== 'pass');
  const hostChecks = notPassed.length
    ? `<div class="banner host-checks"><b>Host checks:</b> ${notPassed.map((c) => `${esc(c.status.toUpperCase())} ${esc(c.name)}: ${esc(c.detail)}${c.fix ? ` (${esc(c.fix)})` : ''}`).join('<br>')}</div>`
    : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="vsperf-ts ${esc(results.tool?.version ?? '')}">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body>
<h1>${esc(title)}</h1>
<p class="meta">run <code>${esc(results.runId)}</code> · status ${statusSpan(results.status)} · ${esc(results.startTime)} → ${esc(results.stopTime ?? '…')}<br>
host ${esc(h?.hostname ?? '?')} (${esc(h?.cpuModel ?? '?')}, ${esc(h?.cpus ?? '?')} CPUs, ${esc(h?.memGiB ?? '?')} GiB, kernel ${esc(h?.kernel ?? '?')}, node ${esc(h?.node ?? '?')})<br>
${Object.entries(results.versions ?? {})
  .map(([k, v]) => `${esc(k)} <code>${esc(v)}</code>`)
  .join(' · ')}<br>
command: <code>vsperf ${esc((results.argv ?? []).join(' '))}</code></p>
${hostChecks}
${simulated ? '<div class="banner">This run contains SIMULATED results (computed by the Simulated generator, not measured).</div>' : ''}
${gate}
<h2>Overview</h2>
<table class="overview"><tr><th>#</th><th class="l">testcase</th><th class="l">deployment</th><th class="l">traffic</th><th class="l">status</th><th>wall (s)</th><th>trials</th><th class="l">result</th></tr>
${overview}</table>
${results.testcases.map((tc) => testcaseSection(tc, opts)).join('\n')}
<p class="meta">Generated ${esc(new Date().toISOString())} by vsperf-ts ${esc(results.tool?.version ?? '')}. Self-contained: no scripts, no network access needed.</p>
</body></html>
`;
}
