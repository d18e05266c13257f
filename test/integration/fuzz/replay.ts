/**
 * Seeds for the fuzz suite. Each CI run draws a new seed (more inputs over time); a failure prints the
 * seed, the shrunk counterexample's path and the command that replays exactly that case:
 *   VSPERF_FUZZ_SEED=<seed> VSPERF_FUZZ_PATH=<path> npx mocha dist/test/integration/fuzz/<file>.test.js
 * VSPERF_FUZZ_RUNS scales the number of runs and the time budget (e.g. 10 for a long local session).
 */
import fc from 'fast-check';

export const FUZZ_SEED = process.env.VSPERF_FUZZ_SEED ? Number(process.env.VSPERF_FUZZ_SEED) : (Date.now() ^ (process.pid << 10)) | 0;
const PATH = process.env.VSPERF_FUZZ_PATH;
const SCALE = Number(process.env.VSPERF_FUZZ_RUNS ?? 1) || 1;

/**
 * Runs `property` up to `numRuns` times (scaled), stopping early after `budgetMs` so the suite stays
 * bounded on a loaded machine; on failure throws with the seed and the replay command.
 */
export async function fuzz<T>(file: string, property: fc.IAsyncProperty<T> | fc.IProperty<T>, numRuns: number, budgetMs = 25_000): Promise<void> {
  const out = await fc.check(property as fc.IAsyncProperty<T>, {
    seed: FUZZ_SEED,
    numRuns: Math.max(1, Math.round(numRuns * SCALE)),
    ...(PATH ? { path: PATH } : {}),
    interruptAfterTimeLimit: budgetMs * SCALE,
    markInterruptAsFailure: false,
  });
  if (!out.failed) return;
  const replay = `VSPERF_FUZZ_SEED=${out.seed} VSPERF_FUZZ_PATH=${out.counterexamplePath ?? ''} npx mocha dist/test/integration/fuzz/${file}`;
  const err = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
  throw new Error(
    `fuzz failure (seed ${out.seed}) after ${out.numRuns} run(s)\ncounterexample: ${JSON.stringify(out.counterexample)?.slice(0, 2000)}\n${err}\nreplay: ${replay}`,
  );
}
