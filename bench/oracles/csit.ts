/**
 * Bench-only: runs FD.io CSIT's own MLRsearch (Python, csit_mlrsearch.py) as an oracle on trials this
 * process measures. CSIT_MLRSEARCH names the directory holding CSIT's `MLRsearch` package; CSIT's code is
 * never part of this repository or of vsperf-ts' runtime.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { SearchGoal } from '../../framework/methodology/goals.js';

export interface CsitConfig {
  readonly goals: readonly SearchGoal[];
  readonly precedingTargets: number;
  readonly expansionCoefficient: number;
  readonly minLoadFps: number;
  readonly maxLoadFps: number;
}

export interface CsitGoal {
  readonly lower: number | null;
  readonly upper: number | null;
  readonly ct: number | null;
}

/** The directory of CSIT's MLRsearch package from CSIT_MLRSEARCH, or undefined when not set. Throws when set but wrong. */
export function csitDir(): string | undefined {
  const dir = process.env.CSIT_MLRSEARCH;
  if (dir === undefined) return undefined;
  if (!existsSync(join(dir, 'MLRsearch', '__init__.py'))) throw new Error(`CSIT_MLRSEARCH=${dir} does not hold an MLRsearch package`);
  return dir;
}

/** Python source of the pipe adapter (bench/oracles/csit_mlrsearch.py, next to this file's source). */
function adapterPath(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'bench', 'oracles', 'csit_mlrsearch.py'))) {
    const up = dirname(d);
    if (up === d) throw new Error('bench/oracles/csit_mlrsearch.py not found');
    d = up;
  }
  return join(d, 'bench', 'oracles', 'csit_mlrsearch.py');
}

/** Runs CSIT's search; `measure` performs each trial it asks for and returns the frame counts. */
export async function csitSearch(
  dir: string,
  cfg: CsitConfig,
  measure: (loadFps: number, durationS: number) => Promise<{ tx: number; rx: number }>,
): Promise<{ goals?: CsitGoal[]; error?: string }> {
  const child = spawn('python3', [adapterPath()], { env: { ...process.env, CSIT_MLRSEARCH: dir }, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const config = {
    goals: cfg.goals.map((g) => ({
      loss_ratio: g.lossRatio,
      exceed_ratio: g.exceedRatio,
      relative_width: g.relativeWidth,
      initial_trial_duration: g.initialTrialDurationS,
      final_trial_duration: g.finalTrialDurationS,
      duration_sum: g.durationSumS,
    })),
    preceding_targets: cfg.precedingTargets,
    expansion_coefficient: cfg.expansionCoefficient,
    min_load: cfg.minLoadFps,
    max_load: cfg.maxLoadFps,
  };
  child.stdin.write(`${JSON.stringify(config)}\n`);
  for await (const line of lines) {
    const msg = JSON.parse(line) as { load?: number; duration?: number; done?: boolean; goals?: CsitGoal[]; error?: string };
    if (msg.done) {
      child.stdin.end();
      return msg.error !== undefined ? { error: msg.error } : { goals: msg.goals! };
    }
    child.stdin.write(`${JSON.stringify(await measure(msg.load!, msg.duration!))}\n`);
  }
  throw new Error('CSIT oracle ended without a result');
}
