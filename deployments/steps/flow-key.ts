/**
 * VSPERF's flow dictionaries (`{'in_port': '1', 'actions': ['output:2'], 'idle_timeout': '0'}`) as
 * ovs-ofctl text, and the check that a flow is present in `ovs-ofctl dump-flows` output. The check
 * compares match fields and actions as sets after the spellings dump-flows uses are unified
 * (`actions=`, `ip`/`udp`/`tcp` shorthands, `udp_dst` = `tp_dst`, `0x800` = `0x0800`).
 */
import type { PyValue } from '../../framework/steps/pyvalue.js';
import { pyStr } from '../../framework/steps/pyvalue.js';
import { VsperfError } from '../../framework/errors.js';

export type FlowDict = Readonly<Record<string, PyValue>>;

export function isFlowDict(v: PyValue): v is FlowDict {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function value(k: string, v: PyValue): string {
  const s = Array.isArray(v) ? v.map((x) => pyStr(x)).join(',') : pyStr(v);
  if (/[\s]/.test(s) || s === '') throw new VsperfError('E_STEP_FLOW', `flow field ${k}=${JSON.stringify(s)}: values must be non-empty and without whitespace`);
  return s;
}

/** ovs-ofctl text: fields in the dictionary's order, then `action=` (add) or nothing (delete key). */
export function flowKey(flow: FlowDict): string {
  const fields = Object.entries(flow)
    .filter(([k]) => k !== 'actions')
    .map(([k, v]) => `${k}=${value(k, v)}`);
  if (flow.actions === undefined) return fields.join(',');
  const actions = Array.isArray(flow.actions) ? flow.actions.map((a) => pyStr(a)) : [pyStr(flow.actions)];
  if (actions.some((a) => /\s/.test(a) || a === '')) throw new VsperfError('E_STEP_FLOW', `flow actions ${JSON.stringify(actions)}: no whitespace allowed`);
  return [...fields, `action=${actions.join(',')}`].join(',');
}

function tokens(text: string): string[] {
  return text.match(/[\w.:=()/]+/g) ?? [];
}

function normalizeDump(line: string): string {
  return line
    .replace(/\bactions=/g, 'action=')
    .replace(/(^|[\s,])ip(?=[\s,]|$)/g, '$1dl_type=0x0800')
    .replace(/(^|[\s,])tcp(?=[\s,]|$)/g, '$1nw_proto=6,dl_type=0x0800')
    .replace(/(^|[\s,])udp(?=[\s,]|$)/g, '$1nw_proto=17,dl_type=0x0800')
    .replace(/\bdl_type=0x800\b/g, 'dl_type=0x0800');
}

/** `90.90.90.90/8` as dump-flows prints it: the network address (`90.0.0.0/8`); `/32` is the address alone. */
function cidrNetwork(text: string): string {
  return text.replace(/\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})\b/g, (_m, a: string, b: string, c: string, d: string, p: string) => {
    const bits = Number(p);
    if (bits >= 32) return `${a}.${b}.${c}.${d}`;
    const ip = ((Number(a) << 24) | (Number(b) << 16) | (Number(c) << 8) | Number(d)) >>> 0;
    const net = bits === 0 ? 0 : (ip & (~0 << (32 - bits))) >>> 0;
    return `${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}/${bits}`;
  });
}

function normalizeSource(key: string): string {
  return cidrNetwork(key)
    .replace(/\bactions=/g, 'action=')
    .replace(/\b(udp|tcp)_(src|dst)=/g, 'tp_$2=')
    .replace(/\b0x800\b/g, '0x0800');
}

/** Whether `flow` (its match and actions; idle_timeout ignored) is one of the dumped flows. */
export function flowPresent(dumpLines: readonly string[], flow: FlowDict): boolean {
  const { idle_timeout: _ignored, ...rest } = flow;
  const want = tokens(normalizeSource(flowKey(rest)));
  return dumpLines.some((line) => {
    const have = new Set(tokens(normalizeDump(line)));
    return want.every((t) => have.has(t));
  });
}
