/**
 * Differential test of the conf dialect interpreter against CPython (Debian python3, test only):
 * VSPERF's own conf files run in one shared namespace, and a few thousand generated expressions.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { PROJECT_ROOT } from '../../../../framework/config/load.js';
import { ConfNamespace } from '../../../../framework/config/pyconf/interpret.js';
import { ConfSourceError } from '../../../../framework/errors.js';
import type { Json } from '../../../../framework/config/settings.js';
import { expression } from './py-gen.js';

const FIXTURES = join(PROJECT_ROOT, 'test', 'fixtures');
export const VSPERF_CONF = join(FIXTURES, 'vsperf', 'conf');

function oracle<T>(request: object): T {
  const out = execFileSync('python3', [join(FIXTURES, 'pyconf-oracle.py')], { input: JSON.stringify(request), maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(out.toString('utf8')) as T;
}

/** VSPERF's files in the order VSPERF loads them: conf/, then conf/integration/ (--integration). */
export function vsperfConfFiles(): string[] {
  const list = (d: string): string[] =>
    readdirSync(d)
      .filter((f) => /^\d+[a-z]?_.*\.conf$/.test(f))
      .sort()
      .map((f) => join(d, f));
  return [...list(VSPERF_CONF), ...list(join(VSPERF_CONF, 'integration'))];
}

function hasMarker(v: Json): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (!Array.isArray(v) && ('$big' in v || '$float' in v || '$unsupported' in v)) return true;
  return Object.values(v).some(hasMarker);
}

describe('conf dialect: differential test against CPython', function () {
  this.timeout(120_000);

  it("gives the values CPython gives for every VSPERF conf file, run in VSPERF's order in one namespace", () => {
    const files = vsperfConfFiles();
    const initial = { RESULTS_PATH: '/tmp/vsperf-results', LOG_TIMESTAMP: '2020-12-01_11-49-12' };
    const expected = oracle<Record<string, Json>[]>({ mode: 'files', files, initial });
    const ns = new ConfNamespace({ initial, cwd: PROJECT_ROOT });
    expect(files.length).to.equal(18);
    files.forEach((f, i) => {
      ns.runFile(readFileSync(f, 'utf8'), f);
      expect(ns.snapshot(), f).to.deep.equal(expected[i]);
    });
    // Not vacuous: the last snapshot holds VSPERF's whole catalogue.
    const last = expected[expected.length - 1]!;
    expect(Object.keys(last).length).to.be.greaterThan(250);
    expect((last.INTEGRATION_TESTS as Json[]).length).to.be.greaterThan(120);
  });

  it('gives the values CPython gives for 3000 generated expressions (literals, arithmetic, strings, calls)', () => {
    const exprs = fc.sample(expression, { numRuns: 3000, seed: 14 });
    const expected = oracle<({ value: Json } | { error: string })[]>({ mode: 'exprs', exprs });
    let errors = 0;
    let refused = 0;
    exprs.forEach((src, i) => {
      const want = expected[i]!;
      let got: { value: Json } | { error: string };
      try {
        const r = new ConfNamespace({ cwd: PROJECT_ROOT }).runFile(`V = ${src}\n`, 'gen.conf');
        got = { value: r.values.V ?? null };
      } catch (e) {
        if (!(e instanceof ConfSourceError)) throw e;
        got = { error: e.message };
      }
      const ctx = `V = ${src}\nCPython: ${JSON.stringify(want)}\nours: ${JSON.stringify(got)}`;
      if ('error' in want) {
        errors++;
        expect(got, ctx).to.have.property('error');
      } else if (hasMarker(want.value)) {
        refused++;
        expect(got, ctx).to.have.property('error');
      } else expect(got, ctx).to.deep.equal(want);
    });
    // The sample exercises both sides: mostly values, some Python errors, some refused values (ints > 2^53).
    expect(exprs.length - errors - refused).to.be.greaterThan(2000);
    expect(refused).to.be.greaterThan(20);
  });
});
