/**
 * The tables of docs/coming-from-vsperf.md that are written from data, so the page cannot drift from
 * it: VSPERF's command-line options (docs/data/vsperf-options.json), its setting groups (the settings
 * catalogue conf/vsperf-settings.json against conf/schema), its performance testcases (VSPERF's own
 * 01_testcases.conf, kept in test/fixtures/vsperf, against our catalogue) and every integration
 * testcase (our --integration catalogue, with how it ended on the sandbox, docs/data/integration-status.json,
 * written by scripts/dev/integration-status.mjs). Each table sits between
 * `<!-- BEGIN GENERATED name -->` and `<!-- END GENERATED name -->`; scripts/dev/coming-from-vsperf-tables.mjs
 * rewrites them, test/unit/docs/coming-from-vsperf.test.ts fails when the page and the data disagree.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Config } from '../../framework/config/load.js';

export interface OptionStatus {
  readonly option: string;
  readonly status: 'works' | 'accepted without effect' | 'not supported';
  readonly note?: string;
}

export interface IntegrationRun {
  readonly status: string;
  readonly reason?: string;
  readonly wallS?: number;
  readonly commit?: string;
  readonly date?: string;
  readonly loadavg?: string;
  /** --test-params the run was given (variants: what the other vSwitch needed). */
  readonly testParams?: string;
}

/** docs/data/integration-status.json: runs as VSPERF defines the testcases, and runs under another vSwitch (`--vswitch`). */
export interface IntegrationStatusData {
  readonly testcases: Record<string, IntegrationRun>;
  /** testcase → vSwitch → run. */
  readonly variants?: Record<string, Record<string, IntegrationRun>>;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function optionsTable(root: string): string {
  const doc = JSON.parse(readFileSync(join(root, 'docs/data/vsperf-options.json'), 'utf8')) as { options: OptionStatus[] };
  const rows = doc.options.map((o) => `| \`${o.option}\` | ${o.status}${o.note ? `: ${cell(o.note)}` : ''} |`);
  return ['| VSPERF option | status here |', '| --- | --- |', ...rows].join('\n');
}

export function settingGroupsTable(root: string): string {
  const cat = JSON.parse(readFileSync(join(root, 'conf/vsperf-settings.json'), 'utf8')) as { settings: Record<string, { file: string }> };
  const config = new Config({ confDir: join(root, 'conf') });
  const described = config.schema.keys();
  const groups = new Map<string, { with: string[]; without: number }>();
  for (const [name, s] of Object.entries(cat.settings)) {
    const g = groups.get(s.file) ?? { with: [], without: 0 };
    if (described.has(name)) g.with.push(name);
    else g.without++;
    groups.set(s.file, g);
  }
  const rows = [...groups.entries()]
    .sort(([a], [b]) => (a.startsWith('vsperf') ? 1 : b.startsWith('vsperf') ? -1 : a.localeCompare(b)))
    .map(([file, g]) => `| ${file} | ${g.with.length} | ${g.without} | ${g.with.sort().join(', ')} |`);
  return ['| VSPERF file (setting group) | with effect | without effect | settings with effect |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** VSPERF's performance testcases, in its file's order (every `Name` of its 01_testcases.conf). */
export function vsperfPerformanceTestcases(root: string): string[] {
  return vsperfPerformanceDeployments(root).map(([n]) => n);
}

/** [name, Deployment] of each testcase in VSPERF's 01_testcases.conf (the Deployment that follows its Name). */
function vsperfPerformanceDeployments(root: string): Array<[string, string]> {
  const text = readFileSync(join(root, 'test/fixtures/vsperf/conf/01_testcases.conf'), 'utf8');
  const names = [...text.matchAll(/^\s*["']Name["']\s*:\s*["']([^"']+)["']/gm)];
  return names.map((m, i) => {
    const chunk = text.slice(m.index, names[i + 1]?.index ?? text.length);
    return [m[1]!, /["']Deployment["']\s*:\s*["']([^"']+)["']/.exec(chunk)?.[1] ?? ''];
  });
}

const VPP = 'not supported: needs VPP (VppDpdkVhost), which vsperf-ts has no driver for';

export function performanceTable(root: string): string {
  const ours = new Map(new Config({ confDir: join(root, 'conf') }).testcases().map((t) => [t.name, t]));
  const rows = vsperfPerformanceDeployments(root).map(([name, deployment]) => {
    const t = ours.get(name);
    const status = t ? 'works (conf/01_testcases.json)' : /vpp/i.test(name) ? VPP : 'not supported: not in the catalogue';
    return `| \`${name}\` | ${t?.Deployment ?? deployment} | ${status} |`;
  });
  return ['| testcase | deployment | status here |', '| --- | --- | --- |', ...rows].join('\n');
}

function integrationStatus(root: string): IntegrationStatusData {
  const p = join(root, 'docs/data/integration-status.json');
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as IntegrationStatusData) : { testcases: {} };
}

/** How one integration testcase stands here: ran (and how it ended), or why it was not run. */
export function integrationStatusText(name: string, vswitch: string, run: IntegrationRun | undefined): string {
  if (/vpp/i.test(name) || /vpp/i.test(vswitch)) return VPP;
  if (!run) return 'not run on the sandbox in this session (time; run `node scripts/dev/integration-status.mjs ' + name + '`)';
  const when = `${run.date ?? ''}, ${run.commit ?? ''}, load ${run.loadavg ?? '?'}`;
  // A run with --test-params (as VSPERF's conf file says to run it) says so: its defaults may not pass.
  const params = run.testParams ? ` with \`--test-params ${cell(run.testParams)}\`` : '';
  if (run.status === 'passed') return `works: passed on the sandbox${params} in ${run.wallS ?? '?'} s (${when})`;
  return `fails here: ${cell(run.reason ?? run.status)} (${when})`;
}

/** The testcase's runs under other vSwitches (`--vswitch`), appended to its status; '' when there are none. */
export function integrationVariantsText(variants: Record<string, IntegrationRun> | undefined): string {
  return Object.entries(variants ?? {})
    .map(([vswitch, run]) => {
      const params = run.testParams ? ` with \`--test-params ${cell(run.testParams)}\`` : '';
      return `; with \`--vswitch ${vswitch}\`${params}: ${integrationStatusText('', vswitch, run)}`;
    })
    .join('');
}

export function integrationTable(root: string): string {
  const { testcases: runs, variants = {} } = integrationStatus(root);
  const tcs = new Config({ confDir: join(root, 'conf'), integration: true }).testcases();
  const rows = tcs.map((t) => {
    const vswitch = String((t.Parameters as Record<string, unknown>).VSWITCH ?? '');
    return `| \`${t.name}\` | ${t.Deployment} | ${integrationStatusText(t.name, vswitch, runs[t.name])}${integrationVariantsText(variants[t.name])} |`;
  });
  return ['| testcase | deployment | status here |', '| --- | --- | --- |', ...rows].join('\n');
}

export const TABLES: Record<string, (root: string) => string> = {
  options: optionsTable,
  'setting-groups': settingGroupsTable,
  'performance-testcases': performanceTable,
  'integration-testcases': integrationTable,
};

const block = (name: string): RegExp => new RegExp(`(<!-- BEGIN GENERATED ${name} -->\\n)([\\s\\S]*?)(\\n<!-- END GENERATED ${name} -->)`);

/** The page's generated blocks (name → text), as they are on the page. */
export function pageBlocks(page: string): Record<string, string | undefined> {
  return Object.fromEntries(Object.keys(TABLES).map((n) => [n, block(n).exec(page)?.[2]]));
}

/** The page with every generated block rewritten from the data. */
export function regenerate(page: string, root: string): string {
  let out = page;
  for (const [name, make] of Object.entries(TABLES)) {
    if (!block(name).test(out)) throw new Error(`docs/coming-from-vsperf.md has no block "${name}" (<!-- BEGIN GENERATED ${name} -->)`);
    const text = make(root);
    out = out.replace(block(name), (_m, a: string, _b: string, c: string) => `${a}${text}${c}`);
  }
  return out;
}
