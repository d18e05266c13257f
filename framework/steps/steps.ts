/**
 * VSPERF's TestSteps: a testcase as a list of `[object, method, params…]` steps (testcases/testcase.py
 * step_run, docs/testing/user/userguide/teststeps.rst). Each step may start with `#alias`, its object
 * may carry `!` (do not validate this step), and a last string parameter `|regex` filters the step's
 * output line by line. This module parses and checks the list (at load time, for --dry-run and before
 * anything starts) and turns a step into the call the executor makes.
 */
import { ConfigError } from '../errors.js';
import { checkExpressionSyntax } from './expr.js';
import { stepReferences } from './macros.js';
import { StepExprError, type PyValue } from './pyvalue.js';

/**
 * VSPERF's IVswitch interface (vswitches/vswitch.py): the vSwitch methods every vSwitch has, each with
 * a `validate_<method>` check there.
 */
export const IVSWITCH_METHODS: readonly string[] = [
  'add_switch',
  'del_switch',
  'add_phy_port',
  'add_vport',
  'del_port',
  'add_flow',
  'del_flow',
  'dump_flows',
  'add_connection',
  'del_connection',
  'dump_connections',
  'get_ports',
];

/** VSPERF method names per step object (what a testcase may call; what runs here is up to the target). */
export const STEP_METHODS: Readonly<Record<string, readonly string[]>> = {
  vswitch: [
    ...IVSWITCH_METHODS,
    'restart',
    'add_tunnel_port',
    'add_veth_pair_port',
    'add_route',
    'set_tunnel_arp',
    'enable_stp',
    'disable_stp',
    'enable_rstp',
    'disable_rstp',
    'run_vppctl',
  ],
  vnf: ['start', 'stop', 'execute', 'execute_and_wait', 'wait'],
  VNF: ['execute', 'execute_and_wait', 'wait'],
  trafficgen: ['send_traffic', 'send_traffic_async', 'get_results', 'stop_traffic'],
  settings: ['getValue', 'setValue', 'resetValue'],
  tools: ['assert', 'eval', 'exec_shell', 'exec_shell_background', 'exec_python'],
  namespace: ['create_namespace', 'delete_namespace', 'assign_port_to_namespace', 'add_ip_to_namespace_eth', 'reset_port_to_root'],
  veth: ['add_veth_port', 'del_veth_port', 'bring_up_eth_port'],
  log: ['debug', 'info', 'warning', 'error', 'critical'],
};

/** Objects without a method: `sleep N`, `wait` (for Enter). `pdb` is omitted on purpose. */
const BARE = new Set(['sleep', 'wait']);

export interface ParsedStep {
  readonly index: number;
  readonly alias?: string;
  /** Object as written without `!` (vswitch, vnf1, VNF0, tools…). */
  readonly object: string;
  /** Object family: vnf1 → vnf, VNF0 → VNF. */
  readonly family: string;
  readonly method: string;
  readonly params: readonly PyValue[];
  /** `!` given: never validated, even in integration testcases. */
  readonly noCheck: boolean;
  /** Regex (Python syntax) of a trailing `|…` parameter, before macro expansion. */
  readonly filter?: string;
  /** The step as written, for logs and results. */
  readonly text: string;
}

export function familyOf(object: string): string {
  if (/^vnf[\w]*$/.test(object)) return 'vnf';
  if (/^VNF\d+$/.test(object)) return 'VNF';
  return object;
}

function stepText(raw: readonly PyValue[]): string {
  return raw.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ');
}

/** One step as written → its parts; a ConfigError naming testcase, step and what is wrong. */
export function parseStep(raw: PyValue, index: number, where: string): ParsedStep {
  const fail = (msg: string): never => {
    throw new ConfigError(`${where}.TestSteps[${index}]`, where, msg);
  };
  if (!Array.isArray(raw) || raw.length === 0) return fail('a step is a non-empty list [object, method, params…]');
  let parts = [...(raw as readonly PyValue[])];
  let alias: string | undefined;
  if (typeof parts[0] === 'string' && parts[0].startsWith('#')) {
    alias = parts[0].slice(1);
    if (/^\d+$/.test(alias)) fail(`step alias can't be an integer value (#${alias})`);
    if (!/^[\w\-:]+$/.test(alias)) fail(`step alias #${alias} may only hold letters, digits, _, - and :`);
    parts = parts.slice(1);
  }
  let filter: string | undefined;
  const last = parts[parts.length - 1];
  if (parts.length > 1 && typeof last === 'string' && last.startsWith('|')) {
    filter = last.slice(1);
    parts = parts.slice(0, -1);
  }
  const head = parts[0];
  if (typeof head !== 'string' || head === '' || head === '!')
    return fail('the first element must name the step object (vswitch, vnf, trafficgen, settings, tools, …)');
  const noCheck = head.startsWith('!');
  const object = noCheck ? head.slice(1) : head;
  const family = familyOf(object);
  if (object === 'pdb') fail('pdb (the Python debugger) is not available in vsperf-ts; use ["wait"] to pause, or log steps');
  let method = '';
  if (BARE.has(object)) {
    if (object === 'sleep' && !(parts.length === 2 && /^\d+$/.test(String(parts[1])))) fail('sleep takes one whole number of seconds: ["sleep", "10"]');
    if (object === 'wait' && parts.length !== 1) fail('wait takes no parameters');
  } else {
    const methods = STEP_METHODS[family];
    if (!methods) fail(`unknown step object "${object}" (known: ${[...Object.keys(STEP_METHODS), ...BARE].join(', ')})`);
    if (typeof parts[1] !== 'string') fail(`step object ${object} needs a method name as second element`);
    method = parts[1] as string;
    if (!methods!.includes(method)) fail(`${object} has no method "${method}" (known: ${methods!.join(', ')})`);
  }
  return {
    index,
    ...(alias !== undefined ? { alias } : {}),
    object,
    family,
    method,
    params: parts.slice(BARE.has(object) ? 1 : 2),
    noCheck,
    ...(filter !== undefined ? { filter } : {}),
    text: stepText(raw as readonly PyValue[]),
  };
}

/**
 * Parse and check a whole TestSteps list as VSPERF would at run time, but before anything starts:
 * unique aliases, `#STEP[n]` references only to earlier steps (or known aliases), expressions of
 * assert/eval that parse, filters that compile.
 */
export function parseTestSteps(raw: PyValue, where: string): ParsedStep[] {
  if (!Array.isArray(raw)) throw new ConfigError(`${where}.TestSteps`, where, 'must be a list of steps');
  const steps: ParsedStep[] = [];
  const aliases = new Map<string, number>();
  for (const [i, r] of (raw as readonly PyValue[]).entries()) {
    const s = parseStep(r, i, where);
    const fail = (msg: string): never => {
      throw new ConfigError(`${where}.TestSteps[${i}]`, where, msg);
    };
    if (s.alias !== undefined) {
      if (aliases.has(s.alias)) fail(`step alias ${s.alias} has been used already for step ${aliases.get(s.alias)}`);
      aliases.set(s.alias, i);
    }
    for (const ref of stepReferences([...s.params, ...(s.filter !== undefined ? [s.filter] : [])])) {
      if (aliases.has(ref)) continue;
      if (!/^-?\d+$/.test(ref)) fail(`#STEP[${ref}] names no earlier step alias`);
      const n = Number(ref);
      if (n >= i || -n > i) fail(`#STEP[${ref}] refers to a step that has not run yet (this is step ${i})`);
    }
    if (s.family === 'tools' && (s.method === 'assert' || s.method === 'eval')) {
      if (typeof s.params[0] !== 'string') fail(`tools ${s.method} takes one expression string`);
      try {
        // Macros are replaced by values when the step runs; a placeholder keeps the syntax check honest.
        checkExpressionSyntax((s.params[0] as string).replace(/#STEP\[[\w\-:]+\](\[[\w\-'"]+\])*/g, '0').replace(/\$[\w-]+(\[[\w[\]\-'"]+\])*/g, '0'));
      } catch (e) {
        if (e instanceof StepExprError) fail(e.message);
        throw e;
      }
    }
    if (s.filter !== undefined && !s.filter.includes('#STEP') && !s.filter.includes('$')) {
      try {
        pyRegex(s.filter);
      } catch (e) {
        fail(`bad output filter |${s.filter}: ${(e as Error).message}`);
      }
    }
    steps.push(s);
  }
  return steps;
}

/** A Python regular expression as a JS RegExp (named groups and \A \Z spelled the JS way). */
export function pyRegex(src: string, flags = ''): RegExp {
  const js = src
    .replace(/\(\?P<(\w+)>/g, '(?<$1>')
    .replace(/\(\?P=(\w+)\)/g, '\\k<$1>')
    .replace(/\\A/g, '^')
    .replace(/\\Z/g, '$');
  return new RegExp(js, flags);
}

/** Python re.findall on one line: whole matches, the one group, or tuples of groups. */
function findall(re: RegExp, line: string): PyValue[] {
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
  const out: PyValue[] = [];
  for (const m of line.matchAll(g)) {
    if (m.length === 1) out.push(m[0]);
    else if (m.length === 2) out.push(m[1] ?? '');
    else out.push(m.slice(1).map((x) => x ?? ''));
    if (m[0] === '') g.lastIndex++;
  }
  return out;
}

/** VSPERF's filter_output: a string is filtered line by line; lists item by item (nested). */
export function filterOutput(output: PyValue, regex: string): PyValue {
  const re = pyRegex(regex);
  if (typeof output === 'string') return output.split(/\r?\n/).flatMap((line) => findall(re, line));
  if (Array.isArray(output)) return output.map((x) => filterOutput(x, regex));
  throw new StepExprError(`only strings and lists can be filtered by |${regex}, but the step returned ${output === null ? 'None' : typeof output}`);
}
