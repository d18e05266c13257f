/**
 * Fault test: fast-check fuzzing of the `--test-params` parser and the config loader
 * (framework/config/*) for a fixed number of runs with a fixed seed. Any input ends either in a value
 * or in one typed, positioned error — never a crash of another kind, a hang, or a polluted prototype.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTestParams, parseTestParamsOption, parseConfFile } from '../../../framework/config/test-params.js';
import { Config } from '../../../framework/config/load.js';
import { ConfSourceError, ParseError, VsperfError } from '../../../framework/errors.js';

const SEED = 20261125;
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Strings that look like test-params: settings, literals, separators and hostile bits. */
const token = fc.oneof(
  fc.constantFrom('TRAFFICGEN_DURATION', 'TRAFFIC', 'TRAFFICGEN_PKT_SIZES', '__proto__', 'constructor', 'TEST_PARAMS', 'x', '_'),
  fc.constantFrom('=', ';', ',', ':', '(', ')', '[', ']', '{', '}', "'", '"', '\\', ' ', '\n', '#'),
  fc.constantFrom(
    'True',
    'False',
    'None',
    '1e309',
    '-0',
    '0x10',
    '1_000',
    "'a'",
    '"b"',
    "'\\x41'",
    '__import__("os")',
    'eval(1)',
    'lambda: 1',
    '#EVAL(1)',
    '$(id)',
    '`id`',
  ),
  fc.integer().map(String),
  fc.double({ noNaN: false }).map(String),
  fc.string({ maxLength: 8 }),
);
const paramsLike = fc.array(token, { maxLength: 40 }).map((xs) => xs.join(''));

function isJson(v: unknown, depth = 0): boolean {
  if (depth > 40) return false;
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every((x) => isJson(x, depth + 1));
  if (typeof v === 'object') return Object.getPrototypeOf(v) === Object.prototype && Object.values(v as object).every((x) => isJson(x, depth + 1));
  return false;
}

/** One value or one typed, positioned, one-line error. (A parse that hangs fails by the suite's timeout.) */
function checkParse(src: string, parse: (s: string) => unknown): void {
  try {
    const v = parse(src);
    expect(isJson(v), `non-JSON value from ${JSON.stringify(src)}`).to.equal(true);
  } catch (e) {
    expect(e, `${(e as Error)?.name}: ${(e as Error)?.message} for ${JSON.stringify(src)}`).to.satisfy(
      (x: unknown) => x instanceof ParseError || x instanceof ConfSourceError,
    );
    if (e instanceof ParseError) expect(e.position).to.be.within(0, src.length);
    else {
      const ce = e as ConfSourceError;
      expect(ce.line).to.be.within(1, src.split(/\r\n?|\n/).length + 1);
      expect(ce.col).to.be.at.least(1);
    }
    expect((e as Error).message.split('\n')).to.have.length(1);
  }
}

describe('fault: fuzzing the config loader and the --test-params parser (fast-check)', function () {
  this.timeout(300_000);
  let dir: string;
  before(() => (dir = mkdtempSync('/tmp/vsr-fuzz-')));
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    expect((Object.prototype as Record<string, unknown>).polluted).to.equal(undefined);
    expect(({} as Record<string, unknown>).TRAFFICGEN_DURATION).to.equal(undefined);
  });

  it('parseTestParams: grammar-shaped and arbitrary strings → object with valid keys, or ParseError (3000 runs)', () => {
    fc.assert(
      fc.property(fc.oneof(paramsLike, fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 60 })), (src) => {
        checkParse(src, (s) => {
          const v = parseTestParams(s);
          for (const k of Object.keys(v)) expect(k).to.match(KEY);
          expect(Object.keys(v)).to.not.include('TEST_PARAMS');
          return v;
        });
      }),
      { numRuns: 3000, seed: SEED },
    );
  });

  it('parseTestParamsOption and .conf files: value, or ParseError / ConfSourceError at file:line:col (2000 runs each)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          paramsLike,
          fc.string({ maxLength: 120 }).map((s) => `['${s}']`),
        ),
        (src) => checkParse(src, parseTestParamsOption),
      ),
      { numRuns: 2000, seed: SEED },
    );
    const confLike = fc.array(fc.oneof(token, fc.constantFrom('\n', 'A = ', 'import os\n', 'B = [1,\n 2]\n')), { maxLength: 30 }).map((xs) => xs.join(''));
    fc.assert(
      fc.property(confLike, (src) => checkParse(src, parseConfFile)),
      { numRuns: 2000, seed: SEED },
    );
  });

  it('well-formed params round-trip: KEY=<int>;KEY2=(list) parse to those values (1000 runs)', () => {
    const key = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,15}$/).filter((k) => k !== 'TEST_PARAMS');
    fc.assert(
      fc.property(key, fc.integer({ min: -1e9, max: 1e9 }), fc.array(fc.integer({ min: 0, max: 9000 }), { minLength: 1, maxLength: 5 }), (k, n, list) => {
        const v = parseTestParams(`${k}=${n};${k}_L=(${list.join(',')}${list.length === 1 ? ',' : ''})`);
        expect(v).to.deep.equal({ [k]: n, [`${k}_L`]: list });
      }),
      { numRuns: 1000, seed: SEED },
    );
  });

  it('Config with a fuzzed --conf-file (JSON values and VSPERF .conf text) loads or throws one VsperfError (150 runs)', () => {
    const jsonValue = fc.jsonValue({ maxDepth: 3 });
    const confObject = fc.dictionary(
      fc.oneof(
        fc.constantFrom(
          'TRAFFICGEN_DURATION',
          'TRAFFIC',
          'TESTCASES',
          'SUITES',
          'COMPARE_THRESHOLDS',
          'RESULTS_ARCHIVE',
          '__proto__',
          'PERFORMANCE_TESTS',
          'LOADGEN_CONFIG',
        ),
        fc.string({ maxLength: 10 }),
      ),
      jsonValue,
      { maxKeys: 4 },
    );
    let loaded = 0;
    let rejected = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          confObject.map((o) => ({ ext: 'json', text: JSON.stringify(o) })),
          fc.string({ maxLength: 80 }).map((t) => ({ ext: 'json', text: t })),
          paramsLike.map((t) => ({ ext: 'conf', text: t.replace(/;/g, '\n') })),
        ),
        ({ ext, text }) => {
          const file = join(dir, `fuzz.${ext}`);
          writeFileSync(file, text);
          try {
            const c = new Config({ confFiles: [file] });
            c.testcases();
            loaded++;
          } catch (e) {
            expect(e, `${(e as Error)?.name}: ${(e as Error)?.message} for ${text.slice(0, 120)}`).to.be.instanceOf(VsperfError);
            expect((e as VsperfError).exitCode).to.equal(2);
            rejected++;
          }
        },
      ),
      { numRuns: 150, seed: SEED },
    );
    // The generators reach both outcomes (the property is not vacuous).
    expect(loaded).to.be.greaterThan(0);
    expect(rejected).to.be.greaterThan(0);
  });
});
