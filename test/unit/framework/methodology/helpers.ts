/** Test helpers: a MethodologyContext on the Simulated generator with the shipped defaults. */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Settings, deepMerge, type JsonObject } from '../../../../framework/config/settings.js';
import { silentLogger } from '../../../../framework/log/logger.js';
import { RunEvents } from '../../../../framework/runner/events.js';
import type { MethodologyContext } from '../../../../framework/methodology/context.js';
import { SimulatedGenerator, type GeneratorShortfall } from '../../../../trafficgen/simulated/driver.js';
import { SimulatedDut, type DutOptions } from '../../../../trafficgen/simulated/dut.js';
import type { PortSpec } from '../../../../framework/api/trafficgen.js';
import type { TrialOutcome, TrialRequest } from '../../../../framework/methodology/types.js';
import type { TrialResult } from '../../../../framework/api/trafficgen.js';

function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'conf', '03_traffic.json'))) {
    const up = dirname(d);
    if (up === d) throw new Error('repo root not found');
    d = up;
  }
  return d;
}

export function defaults(): JsonObject {
  const root = repoRoot();
  let v: JsonObject = {};
  for (const f of ['03_traffic.json', '03_traffic_methodology.json', '03_traffic_simulated.json']) {
    v = deepMerge(v, JSON.parse(readFileSync(join(root, 'conf', f), 'utf8')) as JsonObject);
  }
  return v;
}

export function settings(over: JsonObject = {}): Settings {
  return new Settings(deepMerge(defaults(), over), new Map(Object.keys(over).map((k) => [k, '--test-params'])));
}

export const PORTS: PortSpec[] = [
  { name: 'sim0', speedMbps: 10_000 },
  { name: 'sim1', speedMbps: 10_000 },
];

export async function simContext(
  dut: DutOptions,
  over: JsonObject = {},
  generatorMaxFps?: number,
  shortfall?: GeneratorShortfall,
): Promise<{ ctx: MethodologyContext; gen: SimulatedGenerator }> {
  const gen = new SimulatedGenerator(new SimulatedDut(dut), {
    ...(generatorMaxFps !== undefined ? { generatorMaxFps } : {}),
    ...(shortfall ? { shortfall } : {}),
  });
  await gen.connect(PORTS);
  const ctx: MethodologyContext = {
    testcase: 'unit',
    settings: settings(over),
    generator: gen,
    ports: PORTS,
    log: silentLogger,
    signal: new AbortController().signal,
    events: new RunEvents(),
  };
  return { ctx, gen };
}

/** A synthetic outcome for pure search tests: loss ratio `lr` at the requested rate. */
export function outcome(req: TrialRequest, lr: number, opts: { limitedAt?: number } = {}): TrialOutcome {
  const achieved = opts.limitedAt !== undefined ? Math.min(req.rateFps, opts.limitedAt) : req.rateFps;
  const durationS = req.durationS ?? (req.frames !== undefined ? req.frames / Math.max(1, achieved) : 1);
  const tx = req.frames ?? Math.max(1, Math.round(achieved * durationS));
  const rx = Math.round(tx * (1 - lr));
  const limited = achieved < req.rateFps * 0.999;
  const result: TrialResult = {
    txFrames: tx,
    rxFrames: rx,
    lostFrames: tx - rx,
    reordered: 0,
    duplicated: 0,
    foreign: 0,
    txBytes: tx * 64,
    rxBytes: rx * 64,
    offeredFps: req.rateFps,
    achievedTxFps: achieved,
    rxFps: rx / durationS,
    lossPct: tx > 0 ? ((tx - rx) / tx) * 100 : 0,
    durationS,
    wallS: 0,
    generatorLimited: limited,
    directions: [],
    simulated: true,
  };
  return limited ? { request: req, result, valid: false, invalidReason: 'generator-limited' } : { request: req, result, valid: true };
}

/** 64-byte line rate of a 10G port (fps per direction). */
export const LINE_64 = 10_000e6 / (84 * 8);
