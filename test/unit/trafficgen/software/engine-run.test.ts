/**
 * EngineRun's end of a trial with a hook (--hold): the hook runs once, while the engine holds its ports,
 * outside the trial's own time, bounded below the hold, and never after finish() returned. The engine
 * here is a bash stand-in speaking the line protocol (the real one needs root and ports: the vhost
 * sandbox integration test runs it).
 */
import { expect } from 'chai';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { conformanceHost } from '../../../../framework/conformance/host.js';
import { AbortedError, TimeoutError } from '../../../../framework/errors.js';
import { EngineRun, type EngineRunOptions } from '../../../../trafficgen/software/engine-run.js';
import { RESULT } from './protocol.test.js';

/** $1: hold (result, then wait for "release" up to 20 s) | exit (result, exit at once) | twice (two results, then hold). */
const FAKE = `#!/bin/bash
result='${JSON.stringify(RESULT)}'
echo "$result"
[ "$1" = twice ] && echo "$result"
[ "$1" = exit ] && exit 0
while read -r -t 20 line; do
  if [ "$line" = release ]; then echo released > "$2/released"; exit 0; fi
done
exit 0
`;

describe('EngineRun: the read before the ports are released (--hold)', function () {
  this.timeout(20_000);
  let dir: string;
  let fx: ReturnType<typeof conformanceHost>;
  let engine: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vsperf-engine-run-'));
    engine = join(dir, 'fake-engine');
    writeFileSync(engine, FAKE);
    chmodSync(engine, 0o755);
    fx = conformanceHost('engine-run');
  });
  afterEach(async () => {
    await fx.release();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (mode: string, o: Partial<EngineRunOptions>): Promise<EngineRun> =>
    EngineRun.start({ host: fx.host, enginePath: engine, argv: [mode, dir], operation: 'runTrial', timeoutMs: 300, holdS: 10, ...o });
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  it("a hook slower than the trial's timer does not time the finished trial out; it runs once, while the engine holds", async () => {
    let calls = 0;
    let releasedAtHook = true;
    const run = await start('twice', {
      beforeRelease: async () => {
        calls++;
        releasedAtHook = existsSync(join(dir, 'released'));
        await sleep(800); // longer than timeoutMs (300): that bound is the traffic's, not the read's
      },
    });
    const r = await run.finish();
    expect(r.event).to.equal('result');
    expect(calls, 'hook calls for two result lines').to.equal(1);
    expect(releasedAtHook, 'engine released before the hook ran').to.equal(false);
    expect(existsSync(join(dir, 'released')), 'engine got "release" after the hook').to.equal(true);
  });

  it('an engine that exits right after its result: finish() returns only after the hook ended', async () => {
    let ended = false;
    const run = await start('exit', {
      beforeRelease: async () => {
        await sleep(300);
        ended = true;
      },
    });
    await run.finish();
    expect(ended, 'hook ended when finish() returned').to.equal(true);
  });

  it('a stuck hook after the engine exited still ends the trial on abort (E_ABORTED)', async () => {
    const ac = new AbortController();
    const run = await start('exit', { signal: ac.signal, timeoutMs: 60_000, holdS: 3, beforeRelease: () => new Promise<void>(() => undefined) });
    setTimeout(() => ac.abort(), 300);
    const t0 = performance.now();
    const err = await run.finish().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(AbortedError);
    expect(performance.now() - t0).to.be.below(3000);
  });

  it('a hook slower than the hold allows fails the trial with TimeoutError, and the engine is released', async () => {
    const t0 = performance.now();
    const run = await start('hold', { holdS: 3, beforeRelease: () => sleep(2500) });
    const err = await run.finish().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(TimeoutError);
    expect(String((err as Error).message)).to.match(/read before the ports' release timed out after 1000 ms/);
    expect(performance.now() - t0, 'ms until the failure').to.be.below(4000);
    expect(existsSync(join(dir, 'released'))).to.equal(true);
  });

  it('refuses a hook without a hold long enough to read in', async () => {
    const err = await start('hold', { holdS: 1, beforeRelease: async () => undefined }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(String(err)).to.match(/hold of 1 s leaves the read before the release no time/);
  });
});
