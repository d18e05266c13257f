/**
 * Plot primitives that emit inline SVG strings: no scripts, no fonts or styles fetched from anywhere,
 * so a report opens offline in any browser. Every text is escaped; hover text uses SVG <title>.
 */

export function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
export const PASS_COLOR = '#2ca02c';
export const FAIL_COLOR = '#d62728';
export const INVALID_COLOR = '#7f7f7f';

/** Compact number for axis labels: 1.5M, 250k, 12.5, 0.001. */
export function shortNum(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  const trim = (s: string): string => s.replace(/\.0+$/, '').replace(/(\.\d*?)0+$/, '$1');
  if (a >= 1e9) return `${trim((x / 1e9).toFixed(2))}G`;
  if (a >= 1e6) return `${trim((x / 1e6).toFixed(2))}M`;
  if (a >= 1e3) return `${trim((x / 1e3).toFixed(2))}k`;
  if (a >= 1 || a === 0) return trim(x.toFixed(2));
  return trim(x.toPrecision(2));
}

/** About `count` round tick values covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0];
  if (max === min) {
    const d = Math.abs(max) || 1;
    min -= d * 0.5;
    max += d * 0.5;
  }
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const start = Math.floor(min / step) * step;
  const ticks: number[] = [];
  for (let v = start; v <= max + step * 1e-9; v += step) ticks.push(Math.abs(v) < step * 1e-9 ? 0 : +v.toPrecision(12));
  if (ticks[ticks.length - 1]! < max) ticks.push(+(ticks[ticks.length - 1]! + step).toPrecision(12));
  return ticks;
}

export interface Point {
  readonly x: number;
  readonly y: number;
  /** Marker fill (pass/fail colouring); defaults to the series colour. */
  readonly color?: string;
  /** Hover text. */
  readonly title?: string;
}

export interface LineSeries {
  readonly name: string;
  readonly points: readonly Point[];
  readonly color?: string;
  readonly dashed?: boolean;
  /** Draw only markers (scatter). */
  readonly markersOnly?: boolean;
  /** Draw as a step line (value holds until the next point). */
  readonly step?: boolean;
}

export interface Band {
  readonly x0: number;
  readonly x1: number;
  readonly color: string;
  readonly title: string;
}

export interface VLine {
  readonly x: number;
  readonly label: string;
  readonly color: string;
  readonly title?: string;
}

export interface ChartSpec {
  /** CSS class(es) on the <svg>, e.g. "plot plot-throughput". */
  readonly cls: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  /** Categorical x axis: point x values are indexes into this list. */
  readonly xCategories?: readonly string[];
  readonly yLog?: boolean;
  readonly yMin?: number;
  /** Fixed x range (zoomed views); default: the data's extent. */
  readonly xRange?: readonly [number, number];
  readonly bands?: readonly Band[];
  readonly vlines?: readonly VLine[];
  readonly width?: number;
  readonly height?: number;
  readonly data?: Readonly<Record<string, string>>;
}

const M = { left: 70, right: 20, top: 34, bottom: 46 };

function dataAttrs(d?: Readonly<Record<string, string>>): string {
  return d
    ? Object.entries(d)
        .map(([k, v]) => ` data-${k}="${esc(v)}"`)
        .join('')
    : '';
}

/** Line/scatter chart with axes, grid, legend, optional bands (shaded x ranges) and labelled vertical lines. */
export function lineChart(spec: ChartSpec): string {
  const W = spec.width ?? 640;
  const H = spec.height ?? 320;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const pts = spec.series.flatMap((s) => s.points).filter((p) => !spec.xRange || (p.x >= spec.xRange[0] && p.x <= spec.xRange[1]));
  const xs = pts
    .map((p) => p.x)
    .concat(
      (spec.bands ?? []).flatMap((b) => [b.x0, b.x1]),
      (spec.vlines ?? []).map((v) => v.x),
    );
  const ysRaw = pts.map((p) => p.y);
  const cats = spec.xCategories;
  let xMin = cats ? -0.5 : spec.xRange ? spec.xRange[0] : Math.min(...xs);
  let xMax = cats ? cats.length - 0.5 : spec.xRange ? spec.xRange[1] : Math.max(...xs);
  if (!Number.isFinite(xMin) || !Number.isFinite(xMax)) [xMin, xMax] = [0, 1];
  if (xMin === xMax) [xMin, xMax] = [xMin - 1, xMax + 1];
  const yLog = spec.yLog === true && ysRaw.some((y) => y > 0);
  const tf = (y: number): number => (yLog ? Math.log10(Math.max(y, 1e-12)) : y);
  const ysPos = yLog ? ysRaw.filter((y) => y > 0) : ysRaw;
  let yMin = ysPos.length ? Math.min(...ysPos.map(tf)) : 0;
  let yMax = ysPos.length ? Math.max(...ysPos.map(tf)) : 1;
  if (!yLog) yMin = Math.min(spec.yMin ?? 0, yMin);
  let yTicks: number[];
  if (yLog) {
    yMin = Math.floor(yMin);
    yMax = Math.ceil(yMax === yMin ? yMax + 1 : yMax);
    yTicks = [];
    for (let e = yMin; e <= yMax; e++) yTicks.push(e);
  } else {
    yTicks = niceTicks(yMin, yMax === yMin ? yMin + 1 : yMax);
    yMin = yTicks[0]!;
    yMax = yTicks[yTicks.length - 1]!;
  }
  const sx = (x: number): number => M.left + ((x - xMin) / (xMax - xMin)) * pw;
  const sy = (y: number): number => M.top + ph - ((tf(y) - yMin) / (yMax - yMin || 1)) * ph;
  const syT = (t: number): number => M.top + ph - ((t - yMin) / (yMax - yMin || 1)) * ph;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="${esc(spec.cls)}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(spec.title)}"${dataAttrs(spec.data)}>`,
  );
  out.push(`<title>${esc(spec.title)}</title>`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(spec.title)}</text>`);
  // Bands below everything.
  for (const b of spec.bands ?? []) {
    const x0 = sx(Math.min(b.x0, b.x1));
    const w = Math.max(1.5, sx(Math.max(b.x0, b.x1)) - x0);
    out.push(
      `<rect class="band" x="${x0.toFixed(1)}" y="${M.top}" width="${w.toFixed(1)}" height="${ph}" fill="${b.color}" fill-opacity="0.25"><title>${esc(b.title)}</title></rect>`,
    );
  }
  // Grid and y axis.
  for (const t of yTicks) {
    const y = syT(t);
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${M.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="11">${esc(yLog ? shortNum(10 ** t) : shortNum(t))}</text>`);
  }
  // X axis ticks.
  if (cats) {
    cats.forEach((c, i) => {
      const x = sx(i);
      out.push(`<text x="${x.toFixed(1)}" y="${M.top + ph + 16}" text-anchor="middle" font-size="11">${esc(c)}</text>`);
    });
  } else {
    for (const t of niceTicks(xMin, xMax, 6)) {
      if (t < xMin - 1e-9 || t > xMax + 1e-9) continue;
      const x = sx(t);
      out.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${M.top + ph}" y2="${M.top + ph + 4}" stroke="#333"/>`);
      out.push(`<text x="${x.toFixed(1)}" y="${M.top + ph + 16}" text-anchor="middle" font-size="11">${esc(shortNum(t))}</text>`);
    }
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${H - 8}" text-anchor="middle" font-size="12">${esc(spec.xLabel)}</text>`);
  out.push(
    `<text transform="translate(14 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(spec.yLabel)}${yLog ? ' (log)' : ''}</text>`,
  );
  // Vertical event lines with labels (alternating heights so close events stay readable).
  // Labels go in lanes: a label takes the first lane whose previous label ends left of it.
  const laneEnd: number[] = [];
  const vl = [...(spec.vlines ?? [])].filter((v) => v.x >= xMin && v.x <= xMax).sort((a, b) => a.x - b.x);
  for (const v of vl) {
    const x = sx(v.x);
    const w = v.label.length * 5.6 + 6;
    let lane = laneEnd.findIndex((end) => end < x);
    if (lane < 0) lane = laneEnd.length;
    laneEnd[lane] = x + 3 + w;
    const right = x + 3 + w > M.left + pw;
    out.push(
      `<line class="vline" x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${M.top}" y2="${M.top + ph}" stroke="${v.color}" stroke-dasharray="4 3"><title>${esc(v.title ?? v.label)}</title></line>`,
    );
    out.push(
      `<text x="${(right ? x - 3 : x + 3).toFixed(1)}" y="${M.top + 12 + (lane % 12) * 12}" font-size="10" fill="${v.color}"${right ? ' text-anchor="end"' : ''}>${esc(v.label)}</text>`,
    );
  }
  // Series.
  spec.series.forEach((s, si) => {
    const color = s.color ?? PALETTE[si % PALETTE.length]!;
    const visible = s.points.filter((p) => Number.isFinite(p.y) && (!yLog || p.y > 0) && (cats !== undefined || (p.x >= xMin && p.x <= xMax)));
    if (!s.markersOnly && visible.length > 1) {
      let d = '';
      visible.forEach((p, i) => {
        const X = sx(p.x).toFixed(1);
        const Y = sy(p.y).toFixed(1);
        if (i === 0) d += `M${X} ${Y}`;
        else if (s.step) d += ` H${X} V${Y}`;
        else d += ` L${X} ${Y}`;
      });
      out.push(`<path class="series" d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    }
    if (!s.step || s.markersOnly) {
      for (const p of visible) {
        out.push(
          `<circle class="marker" cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="${s.markersOnly ? 4 : 3}" fill="${p.color ?? color}" stroke="#fff" stroke-width="0.5"><title>${esc(p.title ?? `${s.name}: ${shortNum(p.y)}`)}</title></circle>`,
        );
      }
    }
  });
  // Legend (top right, inside the plot).
  const named = spec.series.filter((s) => s.name);
  named.forEach((s, i) => {
    const color = s.color ?? PALETTE[spec.series.indexOf(s) % PALETTE.length]!;
    const y = spec.vlines?.length ? M.top + ph - 8 - (named.length - 1 - i) * 14 : M.top + 10 + i * 14;
    const x = M.left + pw - 150;
    out.push(`<rect x="${x}" y="${y - 8}" width="10" height="10" fill="${color}"/>`);
    out.push(`<text x="${x + 14}" y="${y + 1}" font-size="11">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('');
}

export interface HistogramSpec {
  readonly cls: string;
  readonly title: string;
  readonly lowerNs: readonly number[];
  readonly counts: readonly number[];
  readonly color?: string;
  readonly width?: number;
  readonly height?: number;
  readonly data?: Readonly<Record<string, string>>;
  /** Percentile markers (value in ns). */
  readonly markers?: readonly { label: string; valueNs: number }[];
}

/** Latency histogram: one bar per bucket, log-scaled counts, bucket bounds in µs on the x axis. */
export function histogramChart(h: HistogramSpec): string {
  const W = h.width ?? 640;
  const H = h.height ?? 280;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const n = h.counts.length;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="${esc(h.cls)}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(h.title)}"${dataAttrs(h.data)}>`,
  );
  out.push(`<title>${esc(h.title)}</title><rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(h.title)}</text>`);
  if (n === 0) {
    out.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle" font-size="12">no latency samples</text></svg>`);
    return out.join('');
  }
  const maxC = Math.max(1, ...h.counts);
  const top = Math.ceil(Math.log10(maxC + 1));
  const sy = (c: number): number => M.top + ph - (c > 0 ? (Math.log10(c + 1) / top) * ph : 0);
  const bw = pw / n;
  for (let e = 0; e <= top; e++) {
    const y = M.top + ph - (e / top) * ph;
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${M.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="11">${esc(shortNum(10 ** e))}</text>`);
  }
  const color = h.color ?? PALETTE[0]!;
  h.counts.forEach((c, i) => {
    const x = M.left + i * bw;
    const y = sy(c);
    const upper = h.lowerNs[i + 1];
    const range = upper !== undefined ? `${shortNum(h.lowerNs[i]! / 1000)}–${shortNum(upper / 1000)} µs` : `≥ ${shortNum(h.lowerNs[i]! / 1000)} µs`;
    out.push(
      `<rect class="bar" x="${(x + 0.5).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${(M.top + ph - y).toFixed(1)}" fill="${color}"><title>${esc(`${range}: ${c} frames`)}</title></rect>`,
    );
  });
  const every = Math.max(1, Math.ceil(n / 8));
  for (let i = 0; i < n; i += every) {
    const x = M.left + i * bw;
    out.push(`<text x="${x.toFixed(1)}" y="${M.top + ph + 16}" text-anchor="middle" font-size="11">${esc(shortNum(h.lowerNs[i]! / 1000))}</text>`);
  }
  const lo = h.lowerNs[0]!;
  const hi = h.lowerNs[n - 1]! + (n > 1 ? h.lowerNs[n - 1]! - h.lowerNs[n - 2]! : 1);
  for (const [i, m] of (h.markers ?? []).entries()) {
    if (m.valueNs < lo || m.valueNs > hi) continue;
    const x = M.left + ((m.valueNs - lo) / (hi - lo || 1)) * pw;
    out.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${M.top}" y2="${M.top + ph}" stroke="${FAIL_COLOR}" stroke-dasharray="3 3"/>`);
    out.push(`<text x="${(x + 3).toFixed(1)}" y="${M.top + 12 + i * 12}" font-size="10" fill="${FAIL_COLOR}">${esc(m.label)}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${H - 8}" text-anchor="middle" font-size="12">latency (µs, bucket lower bound)</text>`);
  out.push(`<text transform="translate(14 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">frames (log)</text>`);
  out.push('</svg>');
  return out.join('');
}
