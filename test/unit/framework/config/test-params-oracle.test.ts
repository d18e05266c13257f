/**
 * --test-params against VSPERF's own parse_param_string (its Python source, kept as a fixture, run by
 * Debian python3 through test/fixtures/pyconf-oracle.py): the same strings give the same settings, and
 * where VSPERF would crash or later refuse the name, vsperf-ts gives a ParseError.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { PROJECT_ROOT } from '../../../../framework/config/load.js';
import { parseTestParams } from '../../../../framework/config/test-params.js';
import { ParseError } from '../../../../framework/errors.js';
import type { Json } from '../../../../framework/config/settings.js';
import { literal } from './py-gen.js';

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

function hasMarker(v: Json): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (!Array.isArray(v) && ('$big' in v || '$float' in v || '$unsupported' in v)) return true;
  return Object.values(v).some(hasMarker);
}

const key = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('TRAFFICGEN_PKT_SIZES', 'TUNNEL_TYPE', 'EXIT_ON_TESTCASE_FAILURE', 'TRAFFIC', 'X', 'a_b1') },
  { weight: 1, arbitrary: fc.constantFrom(' X ', 'X Y', '5', 'TEST_PARAMS', '\tX', '', 'é') },
);
const value = fc.oneof(
  { weight: 5, arbitrary: literal.filter((s) => !s.includes(';')) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '2000,9000',
      'vxlan',
      'a,b',
      '1,',
      '(1)',
      '()',
      '[a]',
      'x if y else z',
      '1 == 2',
      'not x',
      'lambda: 1',
      '-5',
      '--5',
      '-True',
      '+1.5',
      '-(1)',
      '1_0',
      '0777',
      '1 2',
      "'a",
      'f"x"',
      "'x' 'y'",
      'None',
      'os.getcwd()',
      '1+2',
      '2**3',
      '{}',
      '{1: 2}',
      '{"a": [1, (2,)]}',
      "b'x'",
      '1j',
      '{1, 2}',
      '[1, 2',
      'a=b',
      ' 7 ',
      '"a=b"',
      '\t[1]',
      'x.y',
      'a[0]',
      "'\\d+'",
      '1e999',
      '99999999999999999999',
    ),
  },
);
const segment = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(key, value).map(([k, v]) => `${k}=${v}`) },
  { weight: 1, arbitrary: key },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '=', '=5', 'X=') },
);
const params = fc.array(segment, { minLength: 1, maxLength: 4 }).chain((xs) => fc.constantFrom(';', '; ', ' ;').map((sep) => xs.join(sep)));

describe("--test-params: differential test against VSPERF's parse_param_string (python3)", function () {
  this.timeout(60_000);

  it('2000 generated strings give what parse_param_string gives, or a ParseError where VSPERF fails', () => {
    const values = fc.sample(params, { numRuns: 2000, seed: 1414 });
    const out = execFileSync('python3', [join(PROJECT_ROOT, 'test', 'fixtures', 'pyconf-oracle.py')], { input: JSON.stringify({ mode: 'params', values }) });
    const expected = JSON.parse(out.toString('utf8')) as ({ value: Record<string, Json> } | { error: string })[];
    let same = 0;
    values.forEach((src, i) => {
      const want = expected[i]!;
      let got: { value: Json } | { error: string };
      try {
        got = { value: parseTestParams(src) };
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        got = { error: e.message };
      }
      const ctx = `${JSON.stringify(src)}\nVSPERF: ${JSON.stringify(want)}\nours: ${JSON.stringify(got)}`;
      const refused = 'error' in want || hasMarker(want.value) || Object.keys(want.value).some((k) => !KEY.test(k) || k === 'TEST_PARAMS');
      if (refused) expect(got, ctx).to.have.property('error');
      else {
        expect(got, ctx).to.deep.equal(want);
        same++;
      }
    });
    expect(same).to.be.greaterThan(1000);
  });
});
