import { writeFileAtomic } from './json-writer.js';
import type { RunResults } from './types.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JUnit XML (one testcase element per vsperf testcase) for CI dashboards. */
export function toJunit(run: RunResults): string {
  const failed = run.testcases.filter((t) => t.status === 'failed').length;
  const total = run.testcases.reduce((a, t) => a + t.wallS, 0);
  const cases = run.testcases.map((t) => {
    const props = t.rows
      .slice(0, 1)
      .flatMap((r) => Object.entries(r).map(([k, v]) => `      <property name="${esc(k)}" value="${esc(String(v))}"/>`))
      .join('\n');
    const body = [
      props ? `    <properties>\n${props}\n    </properties>` : '',
      t.status === 'failed' ? `    <failure type="${esc(t.error?.code ?? 'E_RUN')}" message="${esc(t.error?.message ?? 'failed')}"/>` : '',
      t.simulated ? '    <system-out>SIMULATED: figures computed by the Simulated generator, not measured</system-out>' : '',
    ]
      .filter(Boolean)
      .join('\n');
    return `  <testcase classname="vsperf.${esc(t.deployment)}" name="${esc(t.name)}" time="${t.wallS.toFixed(3)}">\n${body}\n  </testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="vsperf" tests="${run.testcases.length}" failures="${failed}" errors="0" time="${total.toFixed(3)}" timestamp="${esc(run.startTime)}">\n${cases.join('\n')}\n</testsuite>\n`;
}

export function writeJunit(path: string, run: RunResults): void {
  writeFileAtomic(path, toJunit(run));
}
