import type { RunEvents } from '../runner/events.js';

const fmtS = (s: number): string =>
  s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`
      : `${s.toFixed(0)}s`;
const fmtRate = (fps: number): string =>
  fps >= 1e6 ? `${(fps / 1e6).toFixed(3)} Mfps` : fps >= 1e3 ? `${(fps / 1e3).toFixed(1)} kfps` : `${fps.toFixed(0)} fps`;

/**
 * Progress on a TTY: one status line rewritten in place (testcase, trial, rate, loss, elapsed/estimate).
 * Elsewhere (CI logs): one plain line per trial and testcase.
 */
export function attachProgress(events: RunEvents, out: NodeJS.WriteStream = process.stderr): { clearLine(): void } {
  const tty = !!out.isTTY;
  let runStart = Date.now();
  let estimate = 0;
  let current = '';
  let tcIndex = 0;
  let tcTotal = 0;
  let status = '';
  const draw = (): void => {
    if (!tty) return;
    const elapsed = (Date.now() - runStart) / 1000;
    const line = `[${tcIndex + 1}/${tcTotal}] ${current} ${status} | ${fmtS(elapsed)}${estimate ? ` / ~${fmtS(estimate)}` : ''}`;
    out.write(`\r\x1b[2K${line.slice(0, (out.columns ?? 120) - 1)}`);
  };
  const clearLine = (): void => {
    if (tty) out.write('\r\x1b[2K');
  };
  const say = (msg: string): void => {
    clearLine();
    out.write(msg + '\n');
    draw();
  };
  events.on('run:start', (e) => {
    runStart = Date.now();
    estimate = e.estimateS ?? 0;
    tcTotal = e.testcases.length;
    say(`vsperf: ${e.testcases.length} testcase(s): ${e.testcases.join(', ')}; results in ${e.resultsDir}${estimate ? `; estimated ${fmtS(estimate)}` : ''}`);
  });
  events.on('testcase:start', (e) => {
    tcIndex = e.index;
    current = e.name;
    status = 'starting';
    say(`vsperf: [${e.index + 1}/${tcTotal}] ${e.name} (${e.deployment})`);
  });
  events.on('testcase:phase', (e) => {
    status = e.phase;
    if (!tty) out.write(`vsperf:   ${e.name}: ${e.phase}\n`);
    draw();
  });
  events.on('trial:start', (e) => {
    status = `${e.frameSize}B trial ${e.index + 1} @ ${fmtRate(e.request.rateFps)}${e.request.purpose ? ` (${e.request.purpose})` : ''}`;
    draw();
  });
  events.on('trial:progress', (e) => {
    const c = e.counters;
    status = `@ ${fmtRate(e.request.rateFps)} ${c.elapsedS.toFixed(1)}s tx ${c.txFrames} rx ${c.rxFrames}`;
    draw();
  });
  events.on('trial:end', (e) => {
    const r = e.outcome.result;
    const msg = `vsperf:   trial ${e.index + 1} ${e.frameSize}B @ ${fmtRate(e.outcome.request.rateFps)}: tx ${r.txFrames} rx ${r.rxFrames} loss ${r.lossPct.toFixed(4)}%${e.outcome.valid ? '' : ` INVALID (${e.outcome.invalidReason})`}${r.simulated ? ' [simulated]' : ''}`;
    if (tty) {
      status = msg.replace('vsperf:   ', '');
      draw();
    } else out.write(msg + '\n');
  });
  events.on('testcase:end', (e) => {
    const first = e.rows[0];
    const head = first
      ? Object.entries(first)
          .filter(([k]) =>
            ['packet_size', 'throughput_rx_fps', 'frame_loss_percent', 'b2b_frames', 'conditional_throughput_fps', 'dataplane_outage_ms', 'simulated'].includes(
              k,
            ),
          )
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')
      : '';
    say(
      `vsperf: [${e.index + 1}/${tcTotal}] ${e.name}: ${e.status.toUpperCase()} in ${fmtS(e.wallS)}${head ? ` (${head})` : ''}${e.error ? `: ${e.error.code}: ${e.error.message.split('\n')[0]}` : ''}`,
    );
  });
  events.on('run:end', (e) => {
    say(`vsperf: ${e.passed} passed, ${e.failed} failed; results in ${e.resultsDir}`);
  });
  const timer = tty ? setInterval(draw, 500) : undefined;
  timer?.unref();
  return { clearLine };
}
