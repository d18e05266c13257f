import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { evalExpression } from '../../../../framework/steps/expr.js';
import { pyRepr, StepExprError, type PyValue } from '../../../../framework/steps/pyvalue.js';

/** Python's own eval() as the oracle: repr() of each result, or the exception's class name. */
function pythonEval(exprs: readonly string[]): string[] {
  const prog =
    'import json,sys\nout=[]\nfor e in json.load(sys.stdin):\n    try:\n        out.append(repr(eval(e, {"__builtins__": {"len": len, "int": int, "float": float, "str": str, "abs": abs, "round": round, "min": min, "max": max, "bool": bool, "sum": sum}})))\n    except Exception as x:\n        out.append("!" + type(x).__name__)\nprint(json.dumps(out))\n';
  return JSON.parse(execFileSync('python3', ['-c', prog], { input: JSON.stringify(exprs) }).toString()) as string[];
}

/** Whole floats print as ints here: step values are JS numbers (no int/float split); see pyvalue.ts. */
const wholeFloat = (s: string): string => s.replace(/\b(\d+)\.0\b/g, '$1');

function ours(e: string): string {
  try {
    return pyRepr(evalExpression(e));
  } catch (x) {
    if (x instanceof StepExprError) return '!' + (/^(\w+Error)/.exec(x.message)?.[1] ?? 'Error');
    throw x;
  }
}

describe('step expressions (tools assert / eval)', () => {
  it('evaluates the comparisons VSPERF integration testcases use', () => {
    expect(evalExpression('5 == 5')).to.equal(true);
    expect(evalExpression("len(['dpdk0'])==1")).to.equal(true);
    expect(evalExpression('"cir: 1000" in "QoS: dpdk0 egress-policer\\ncir: 1000"')).to.equal(true);
    expect(evalExpression('"0" not in "1 2 3"')).to.equal(true);
    expect(evalExpression("float({'frame_loss_percent': '0.0'}[\"frame_loss_percent\"]) == 0")).to.equal(true);
    expect(evalExpression("int('9000')==9000")).to.equal(true);
    expect(evalExpression('abs(1-float("980")*1000/float(1000000))')).to.be.closeTo(0.02, 1e-12);
    expect(evalExpression('str("None") != "None"')).to.equal(false);
    expect(evalExpression('\'a/b/c.ko\'.split("/")[-1].split(".")[0]')).to.equal('c');
    expect(evalExpression('1 < 2 < 3')).to.equal(true);
    expect(evalExpression('not len([])')).to.equal(true);
  });

  it('refuses what is not a comparison: names, attributes, other calls', () => {
    for (const e of ['__import__("os")', 'open("/etc/passwd")', 'x', '(1).real', '[].__class__', 'exec("1")', 'lambda: 1']) {
      expect(() => evalExpression(e), e).to.throw(StepExprError);
    }
  });

  it('agrees with Python on the catalogue forms and on errors', () => {
    const cases = [
      '5 == 5',
      "'5' == 5",
      "'5' > 1",
      '2 > 1',
      '"1" + "2"',
      '[1, 2] + [3]',
      'len("abc") == 3',
      'len(5)',
      '[1,2][5]',
      "{'a': 1}['b']",
      '1/0',
      '7 // 2',
      '-7 // 2',
      '-7 % 3',
      '2 ** 10',
      'round(2.5)',
      'round(3.5)',
      'round(0.125, 2)',
      'int("  42 ")',
      'int("4.2")',
      'float("1e3")',
      'float("x")',
      '"a" in ["a", "b"]',
      '"c" in {"c": 1}',
      '1 in "abc"',
      'not 0 and 1',
      '0 or "x"',
      'None is None',
      'True == 1',
      'min(3, 1, 2)',
      'max([1, 5, 2])',
      'sum([1, 2.5])',
      "'ab' * 3",
      '"x" < "y" <= "y"',
      'str(1.5)',
      "str([1, 'a'])",
      'abs(-3)',
      '"a\\tb"',
      "'it''s'",
      "r'\\d+'",
    ];
    const py = pythonEval(cases);
    cases.forEach((c, i) => expect(wholeFloat(ours(c)), c).to.equal(wholeFloat(py[i]!)));
  });

  it('agrees with Python on generated arithmetic and comparisons', function () {
    this.timeout(20000);
    const num = fc.oneof(fc.integer({ min: -1000, max: 1000 }).map(String), fc.constantFrom('0.5', '2.25', '1e3', '-3.75'));
    const atom = fc.oneof(
      num,
      num.map((n) => `"${n}"`).map((s) => `float(${s})`),
      num.map((n) => `abs(${n})`),
    );
    const expr = fc
      .tuple(atom, fc.constantFrom('+', '-', '*', '/', '//', '%'), atom, fc.constantFrom('==', '!=', '<', '>', '<=', '>='), atom)
      .map(([a, op, b, cmp, c]) => `${a} ${op} ${b} ${cmp} ${c}`);
    const samples = fc.sample(expr, { numRuns: 400, seed: 14 });
    const py = pythonEval(samples);
    samples.forEach((c, i) => expect(wholeFloat(ours(c)), c).to.equal(wholeFloat(py[i]!)));
  });

  it('repr() of results matches Python for values steps paste into later steps', () => {
    const values: PyValue[] = [['dpdk0', 1], { a: 'b', n: null, t: true }, "it's", 'say "hi"', [[]], 'tab\there'];
    const py = pythonEval(values.map((v) => JSON.stringify(v).replace(/null/g, 'None').replace(/true/g, 'True')));
    values.forEach((v, i) => expect(pyRepr(v)).to.equal(py[i]));
  });
});
