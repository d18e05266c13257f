import { expect } from 'chai';
import fc from 'fast-check';
import { parseTestParams, parseTestParamsOption, paramsForTestcase, parseConfFile } from '../../../../framework/config/test-params.js';
import { parseLiteral, formatLiteral } from '../../../../framework/config/literal.js';
import { ConfSourceError, ParseError } from '../../../../framework/errors.js';
import type { Json } from '../../../../framework/config/settings.js';

describe('test-params parser', () => {
  it('parses the VSPERF examples', () => {
    expect(parseTestParams('TRAFFICGEN_DURATION=10;TRAFFICGEN_PKT_SIZES=(64,128)')).to.deep.equal({ TRAFFICGEN_DURATION: 10, TRAFFICGEN_PKT_SIZES: [64, 128] });
    expect(parseTestParams('TRAFFICGEN_DURATION=10;TRAFFICGEN_PKT_SIZES=(128,);')).to.deep.equal({ TRAFFICGEN_DURATION: 10, TRAFFICGEN_PKT_SIZES: [128] });
    expect(parseTestParams("GUEST_LOOPBACK=['testpmd','l2fwd']")).to.deep.equal({ GUEST_LOOPBACK: ['testpmd', 'l2fwd'] });
    expect(parseTestParams("TRAFFIC={'traffic_type':'rfc2544_continuous','bidir':'False', 'frame_rate':60}")).to.deep.equal({
      TRAFFIC: { traffic_type: 'rfc2544_continuous', bidir: 'False', frame_rate: 60 },
    });
  });

  it('handles True/False/None, negative and float numbers, nested dicts and escapes', () => {
    expect(parseTestParams('A=True;B=False;C=None;D=-1.5e3;E={"x": {"y": [1, (2, 3)]}};F="a=b,c\\n\\d"')).to.deep.equal({
      A: true,
      B: false,
      C: null,
      D: -1500,
      E: { x: { y: [1, [2, 3]] } },
      F: 'a=b,c\n\\d',
    });
  });

  it("keeps VSPERF's string fallback for values that are not literals (never evaluated)", () => {
    expect(parseTestParams('VSWITCH=OvsVanilla;TRAFFICGEN=Software')).to.deep.equal({ VSWITCH: 'OvsVanilla', TRAFFICGEN: 'Software' });
    expect(parseTestParams("X=__import__('os').system('touch /tmp/pwned');Y=open('/etc/passwd').read();Z=(lambda: 1)()")).to.deep.equal({
      X: "__import__('os').system('touch /tmp/pwned')",
      Y: "open('/etc/passwd').read()",
      Z: '(lambda: 1)()',
    });
  });

  it("accepts VSPERF's documented forms: KEY=a,b is a tuple, a bare KEY is True, a name is a string", () => {
    expect(parseTestParams('TRAFFICGEN_PKT_SIZES=2000,9000')).to.deep.equal({ TRAFFICGEN_PKT_SIZES: [2000, 9000] });
    expect(parseTestParams('TUNNEL_TYPE=vxlan;EXIT_ON_TESTCASE_FAILURE')).to.deep.equal({ TUNNEL_TYPE: 'vxlan', EXIT_ON_TESTCASE_FAILURE: true });
    expect(parseTestParams(' X = 5 ;Y=;Z=a,b')).to.deep.equal({ X: 5, Y: true, Z: 'a,b' });
  });

  it('parses the per-testcase list form and repeats the last entry', () => {
    const list = parseTestParamsOption("['TRAFFICGEN_DURATION=10;TRAFFICGEN_PKT_SIZES=(128,)', 'TRAFFICGEN_DURATION=20']");
    expect(list).to.have.length(2);
    expect(paramsForTestcase(list, 0)).to.deep.equal({ TRAFFICGEN_DURATION: 10, TRAFFICGEN_PKT_SIZES: [128] });
    expect(paramsForTestcase(list, 1)).to.deep.equal({ TRAFFICGEN_DURATION: 20 });
    expect(paramsForTestcase(list, 5)).to.deep.equal({ TRAFFICGEN_DURATION: 20 });
  });

  const bad: [string, RegExp][] = [
    ["X='a;b'", /unterminated string/],
    ['X=[1,2', /expected/],
    ["X='unterminated", /unterminated string/],
    ['=5', /setting name/],
    ['X 5', /'X 5' is not a setting name/],
    ['TEST_PARAMS={}', /TEST_PARAMS cannot be set/],
    ['X={"__proto__": 1}', /not supported/],
    ['X=' + '['.repeat(250) + ']'.repeat(250), /nested deeper/],
    ['X=1 2', /expected end of the value/],
    ['X=1e999', /cannot be stored/],
    ['X={1, 2}', /sets are not supported/],
    ['X=18446744073709551616', /beyond 2\^53/],
    ['[1, 2]', /list must hold strings/],
  ];
  for (const [input, re] of bad) {
    it(`rejects ${JSON.stringify(input.slice(0, 50))} with a clear ParseError`, () => {
      expect(() => parseTestParamsOption(input)).to.throw(ParseError, re);
    });
  }

  it('error messages name the offset', () => {
    try {
      parseTestParams('A=1;B=[1,,2]');
      expect.fail('should throw');
    } catch (e) {
      expect(e).to.be.instanceOf(ParseError);
      expect((e as ParseError).position).to.equal(9);
      expect((e as Error).message).to.match(/at offset 9/);
    }
  });

  // Values that survive a JSON round trip (no -0, finite numbers).
  const literal: fc.Arbitrary<Json> = fc.letrec<{ v: Json }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      fc.integer({ min: -1e9, max: 1e9 }),
      fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }).filter((x) => !Object.is(x, -0)),
      fc.string({ maxLength: 12 }),
      fc.array(tie('v'), { maxLength: 4 }),
      fc.dictionary(
        fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !['__proto__', 'constructor', 'prototype'].includes(k)),
        tie('v'),
        { maxKeys: 4 },
      ),
    ),
  })).v;

  it('round-trips every literal value (property)', () => {
    fc.assert(
      fc.property(literal, (v) => {
        expect(parseLiteral(formatLiteral(v))).to.deep.equal(v);
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips KEY=VALUE sets without ";" in strings (property; VSPERF cuts at every ";")', () => {
    fc.assert(
      fc.property(
        fc
          .dictionary(
            fc.stringMatching(/^[A-Z][A-Z0-9_]{0,10}$/).filter((k) => k !== 'TEST_PARAMS'),
            literal,
            { maxKeys: 5 },
          )
          .filter((d) => !JSON.stringify(d).includes(';')),
        (d) => {
          const src = Object.entries(d)
            .map(([k, v]) => `${k}=${formatLiteral(v)}`)
            .join(';');
          expect(parseTestParams(src)).to.deep.equal(d);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never executes code and fails only with ParseError on arbitrary input (property)', () => {
    const marker = '/tmp/vsperf-test-params-pwned';
    (globalThis as Record<string, unknown>).__pwned = false;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 80 }),
          fc.constantFrom(
            `X=__import__('os').system('touch ${marker}')`,
            'X=globalThis.__pwned=true',
            'X=(() => { globalThis.__pwned = true })()',
            "X=require('fs')",
          ),
        ),
        (s) => {
          try {
            parseTestParamsOption(s);
          } catch (e) {
            expect(e).to.be.instanceOf(ParseError);
          }
          expect((globalThis as Record<string, unknown>).__pwned).to.equal(false);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('VSPERF-style .conf files', () => {
  it('parses NAME = literal statements with comments and multi-line values', () => {
    const src = `# custom settings\nTRAFFICGEN = 'Software'   # our generator\nTRAFFICGEN_PKT_SIZES = (64,\n    128)\nTRAFFIC = {\n  'bidir': 'False',  # one way\n}\n`;
    expect(parseConfFile(src)).to.deep.equal({ TRAFFICGEN: 'Software', TRAFFICGEN_PKT_SIZES: [64, 128], TRAFFIC: { bidir: 'False' } });
  });
  it('refuses Python beyond the conf dialect with file:line:col', () => {
    expect(() => parseConfFile('import sys\n', 'a.conf')).to.throw(ConfSourceError, /^a\.conf:1:8: import of 'sys' is not supported/);
    expect(() => parseConfFile('X = 1\nY = os.getcwd()\n', 'a.conf')).to.throw(ConfSourceError, /^a\.conf:2:7: os\.getcwd is not supported/);
    expect(() => parseConfFile('if True:\n  X = 1\n', 'a.conf')).to.throw(ConfSourceError, /^a\.conf:1:1: 'if' statements are not supported/);
  });
});
