/**
 * A testcase's TestSteps inside the runner: the step objects the framework provides itself
 * (trafficgen, settings, tools, log, namespace, veth) joined with those of the deployment (vswitch, vnfN, VNFn), and
 * the results VSPERF reports for it: the traffic rows of every `trafficgen send_traffic`, and for
 * integration testcases a `status`/`details` pair on each row (or one row of its own).
 */
import { UsageError, VsperfError } from '../errors.js';
import type { Host } from '../host/host.js';
import type { Logger } from '../log/logger.js';
import type { Json, JsonObject, Settings } from '../config/settings.js';
import type { MethodologyOutput, TrialRecord } from '../methodology/context.js';
import type { ResultRow } from '../methodology/types.js';
import { logTarget, settingsTarget, toolsTarget } from '../steps/builtin-objects.js';
import { NetnsSteps } from '../steps/netns-objects.js';
import type { PyValue } from '../steps/pyvalue.js';
import { runTestSteps, type StepRunResult } from '../steps/run-steps.js';
import type { ParsedStep } from '../steps/steps.js';
import type { StepObjects, StepTarget } from '../steps/types.js';
import { capacityShortfall, describeShortfall, type RowEvidence } from '../steps/capacity.js';
import { rowEvidence } from './row-evidence.js';
import type { Topology, VSwitch } from '../api/deployment.js';

/** One shell word: quoted when it holds anything a shell would split or expand. */
const shellWord = (w: string): string => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

/**
 * Settings VSPERF computes at run time from the vSwitch it started, as the vSwitch in use provides
 * them: TOOLS (conf/00_common.conf builds it from PATHS: the tools' command lines, which reach the
 * private instance through the environment of the step's commands, and its run directory), 01b's
 * `_OVSDPDK_VSWITCH_LOG` (the running ovs-vswitchd's log; the catalogue's value is only a
 * placeholder for it), and NICS (VSPERF's list of the NICs in use; here the deployment's ports).
 */
export function runtimeSettings(vs: VSwitch | undefined, nics?: readonly JsonObject[]): Record<string, PyValue> {
  const tools: Record<string, PyValue> = {};
  if (vs?.toolArgv) for (const t of ['ovs-vsctl', 'ovs-ofctl', 'ovs-appctl'] as const) tools[t] = vs.toolArgv(t).map(shellWord).join(' ');
  if (vs?.runDir) tools.ovs_var_tmp = vs.runDir;
  return {
    TOOLS: tools,
    ...(vs?.logFile ? { _OVSDPDK_VSWITCH_LOG: vs.logFile() } : {}),
    ...(nics ? { NICS: nics.map((n) => ({ ...n })) as PyValue } : {}),
  };
}

const isDict = (v: PyValue | undefined): v is Record<string, PyValue> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * A name as VSPERF's `S.getValue` gives it to a step: a value set by an earlier step; else, while
 * the name is in TEST_PARAMS, the testcase's Parameters (and --test-params); a step takes names out
 * of TEST_PARAMS with `settings resetValue NAME` or by replacing TEST_PARAMS (`settings setValue
 * TEST_PARAMS ""`, as VSPERF's testcases do), and then the new TEST_PARAMS or the value below shows:
 * the run-time one (NICS…) or the conf files'. Other names: run-time values, the settings, and the
 * VSPERF names without effect here.
 */
export function stepSetting(
  name: string,
  overlay: ReadonlyMap<string, PyValue>,
  runtime: Readonly<Record<string, PyValue>>,
  settings: Settings,
  reset: ReadonlySet<string> = new Set(),
): PyValue | undefined {
  if (overlay.has(name)) return overlay.get(name);
  const view = settings.vsperf;
  const tpReplaced = overlay.has('TEST_PARAMS');
  if (tpReplaced) {
    const tp = overlay.get('TEST_PARAMS');
    if (isDict(tp) && Object.hasOwn(tp, name)) return tp[name];
  }
  if (view.testParams.has(name) && (tpReplaced || reset.has(name)))
    return Object.hasOwn(runtime, name) ? runtime[name] : ((view.testParams.get(name) as PyValue | undefined) ?? undefined);
  const configured = (): PyValue | undefined =>
    settings.has(name) ? (settings.get(name) as PyValue) : Object.hasOwn(view.withoutEffect, name) ? (view.withoutEffect[name] as PyValue) : undefined;
  if (view.testParams.has(name)) return configured();
  return Object.hasOwn(runtime, name) ? runtime[name] : configured();
}

export interface StepsTestcaseOptions {
  readonly steps: readonly ParsedStep[];
  /** Integration testcase: every step is validated, and status/details are reported. */
  readonly integration: boolean;
  readonly settings: Settings;
  readonly topology?: Topology;
  /** Runs the testcase's methodology with these settings (send_traffic); undefined = no generator. */
  readonly traffic?: (s: Settings) => Promise<MethodologyOutput>;
  /** Why traffic cannot be sent, when `traffic` is undefined. */
  readonly noTrafficReason?: string;
  readonly validateRows: (rows: readonly ResultRow[]) => { code: string; message: string } | undefined;
  readonly log: Logger;
  readonly host: Host;
  readonly workDir: string;
  readonly signal: AbortSignal;
  readonly waitForUser?: (prompt: string) => Promise<void>;
}

export interface StepsTestcaseOutput {
  readonly status: StepRunResult;
  readonly sentTraffic: boolean;
  readonly rows: ResultRow[];
  readonly trials: TrialRecord[];
  /** Settings as the steps left them (setValue), for a methodology run after the steps. */
  readonly settings: Settings;
}

export async function runStepsTestcase(o: StepsTestcaseOptions): Promise<StepsTestcaseOutput> {
  const overlay = new Map<string, PyValue>();
  // Values the running switch provides win over the conf files' (which cannot know them); setValue wins over both.
  const runtime = runtimeSettings(o.topology?.vswitch, o.topology?.nics);
  const current = (): Settings => (overlay.size ? o.settings.with(Object.fromEntries(overlay) as JsonObject, 'TestSteps settings setValue') : o.settings);
  // VSPERF's resetValue takes a name out of TEST_PARAMS; a value a step set stays.
  const reset = new Set<string>();
  const stepSettings = {
    get: (name: string): PyValue | undefined => stepSetting(name, overlay, runtime, o.settings, reset),
    set: (name: string, v: PyValue) => void overlay.set(name, v),
    reset: (name: string) => void reset.add(name),
  };
  const rows: ResultRow[] = [];
  const trials: TrialRecord[] = [];
  // VSPERF's get_results is the last send_traffic's rows (its configure() empties the list before each
  // send): a testcase that sends twice reads the second trial, not the first again. The report keeps all.
  let lastRows: ResultRow[] = [];
  // What each traffic row's trial showed of the sandbox: a failing check on it may be the sandbox's.
  const evidence = new WeakMap<object, RowEvidence>();
  let sentTraffic = false;
  const withVnf = (o.topology?.guests?.length ?? 0) > 0 || o.steps.some((st) => st.family.toLowerCase() === 'vnf');
  const trafficgen: StepTarget = {
    async call(method, args) {
      if (method === 'get_results') return lastRows as unknown as PyValue;
      if (method !== 'send_traffic') throw new UsageError(`trafficgen ${method} is not supported in vsperf-ts (send_traffic and get_results are)`);
      if (!o.traffic) throw new UsageError(`trafficgen send_traffic: ${o.noTrafficReason ?? 'no traffic generator in this mode'}`);
      const t = args[0];
      const extra = t && typeof t === 'object' && !Array.isArray(t) ? (t as JsonObject) : {};
      sentTraffic = true;
      const out = await o.traffic(current().with({ TRAFFIC: extra as Json } as JsonObject, 'TestSteps trafficgen send_traffic'));
      lastRows = out.rows;
      for (const row of out.rows) {
        const e = rowEvidence(row, out.trials, withVnf);
        if (e) evidence.set(row, e);
      }
      rows.push(...out.rows);
      trials.push(...out.trials);
      return out.rows as unknown as PyValue;
    },
    canValidate: (m) => m === 'send_traffic' || m === 'get_results',
    async validate(method, result) {
      if (method === 'get_results') return Array.isArray(result);
      if (!Array.isArray(result) || result.length === 0) return false;
      // VSPERF's rule (nothing forwarded fails the step), with the reason in the step's one line.
      const bad = o.validateRows(result as unknown as ResultRow[]);
      if (bad) throw new VsperfError('E_STEP_VALIDATION', `${bad.code}: ${bad.message}`);
      return true;
    },
  };
  const netns = new NetnsSteps(o.host);
  const own: Record<string, StepTarget> = {
    trafficgen,
    namespace: netns.namespace(),
    veth: netns.veth(),
    settings: settingsTarget(stepSettings),
    tools: toolsTarget({
      log: o.log,
      host: o.host,
      cwd: o.workDir,
      timeoutS: Number(o.settings.getOr('TEST_STEP_SHELL_TIMEOUT_S', 120)),
      signal: o.signal,
      ...(o.topology?.vswitch?.toolEnv ? { env: o.topology.vswitch.toolEnv() } : {}),
      ...(o.topology?.vswitch?.toolNetns?.() ? { netns: o.topology.vswitch.toolNetns()! } : {}),
      ...(o.topology?.vswitch?.settleAfterTool ? { settle: (argv, signal) => o.topology!.vswitch!.settleAfterTool!(argv, signal) } : {}),
    }),
    log: logTarget(o.log),
  };
  const objects: StepObjects = {
    target(object) {
      const mine = own[object];
      if (mine) return mine;
      const dep = o.topology?.stepObject?.(object);
      if (dep !== undefined) return dep;
      return `step object ${object} is not available in this deployment`;
    },
  };
  const status = await runTestSteps({
    steps: o.steps,
    objects,
    check: o.integration,
    log: o.log,
    signal: o.signal,
    setting: stepSettings.get,
    stepDelayS: Number(o.settings.getOr('TEST_STEP_DELAY', 0)),
    ...(o.waitForUser ? { waitForUser: o.waitForUser } : {}),
    explainFailure: (step, ctx) => {
      if (step.object !== 'tools' || step.method !== 'assert' || typeof step.params[0] !== 'string') return undefined;
      const s = capacityShortfall(step.params[0], ctx, (row) => evidence.get(row));
      return s && { code: 'E_SANDBOX_CAPACITY', message: describeShortfall(s) };
    },
  });
  return { status, sentTraffic, rows, trials, settings: current() };
}

/** VSPERF's integration report: status and details on every traffic row, or a row of their own. */
export function integrationRows(rows: readonly ResultRow[], status: StepRunResult): ResultRow[] {
  const s = { status: status.ok ? 'OK' : 'FAILED', details: status.details };
  return rows.length ? rows.map((r) => ({ ...s, ...r })) : [s as ResultRow];
}
