/**
 * fast-check arbitraries producing Python source text in the conf dialect: literals in every
 * spelling Python has (hex/octal/binary/underscored ints, big ints, floats, escaped and raw strings,
 * implicit concatenation), containers, arithmetic and the few calls the dialect allows. The
 * differential test feeds the same text to CPython and to the interpreter.
 */
import fc from 'fast-check';

const digits = (n: bigint, radix: number): string => (n < 0n ? -n : n).toString(radix);

/** Underscores between digits, as Python allows (single, never leading or trailing). */
function underscored(s: string, seed: number): string {
  if (s.length < 2 || seed % 3 !== 0) return s;
  const at = 1 + (seed % (s.length - 1));
  return `${s.slice(0, at)}_${s.slice(at)}`;
}

export const intLit: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: 2n ** 70n }), fc.constantFrom(2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 64n)),
    fc.constantFrom(10, 16, 8, 2),
    fc.nat(100),
    fc.boolean(),
  )
  .map(([n, radix, seed, upper]) => {
    const body = underscored(digits(n, radix), seed);
    const prefix = radix === 16 ? '0x' : radix === 8 ? '0o' : radix === 2 ? '0b' : '';
    const p = upper ? prefix.toUpperCase() : prefix;
    return `${p}${radix === 16 && upper ? body.toUpperCase() : body}`;
  });

export const floatLit: fc.Arbitrary<string> = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true, min: 0 }).map((x) => {
    const s = String(x);
    return /[.e]/.test(s) ? s : `${s}.0`;
  }),
  fc
    .tuple(fc.nat(9999), fc.nat(9999), fc.integer({ min: -30, max: 30 }), fc.constantFrom('a', 'b', 'c', 'd'))
    .map(([i, f, e, form]) => (form === 'a' ? `${i}.${f}` : form === 'b' ? `.${f}e${e}` : form === 'c' ? `${i}.` : `${i}E+${Math.abs(e)}`)),
  fc.constantFrom('1_000.000_1', '1e-5', '0.0001', '1e16', '123456789012345678.0', '5e-324', '1.7976931348623157e308', '0.1', '2.675', '1e22'),
);

const charArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'Z', ' ', '0', '.', '/', '$', '#', '-', '[', '{', 'é', '€', '\u00a0', '𝄞', '\u200b') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '\\n',
      '\\t',
      '\\r',
      '\\\\',
      "\\'",
      '\\"',
      '\\a',
      '\\b',
      '\\f',
      '\\v',
      '\\0',
      '\\012',
      '\\7',
      '\\377',
      '\\400',
      '\\x41',
      '\\xff',
      '\\u00e9',
      '\\u20ac',
      '\\U0001d11e',
      '\\ud800',
      '\\d',
      '\\w',
      '\\s',
      '\\.',
      '\\q',
      '\\(',
      '\\\n',
    ),
  },
);

export const strLit: fc.Arbitrary<string> = fc
  .tuple(fc.array(charArb, { maxLength: 8 }), fc.constantFrom("'", '"', "'''", '"""'), fc.constantFrom('', '', 'u', 'r', 'R'))
  .map(([chars, q, prefix]) => {
    let body = chars.join('');
    if (prefix.toLowerCase() === 'r') body = body.replace(/\\+$/, '').replace(/\\\n/g, 'x');
    // A quote char of the delimiter may only appear escaped.
    body = body.replace(new RegExp(`(?<!\\\\)${q[0]}`, 'g'), `\\${q[0]}`);
    if (q.length === 1) body = body.replace(/(?<!\\)\n/g, '\\n');
    if (body.endsWith(q[0]!) && q.length === 3) body += ' ';
    return `${prefix}${q}${body}${q}`;
  });

export const concatStr: fc.Arbitrary<string> = fc.array(strLit, { minLength: 2, maxLength: 3 }).map((xs) => xs.join(' '));

const scalar = fc.oneof(
  { weight: 3, arbitrary: intLit },
  { weight: 2, arbitrary: floatLit },
  { weight: 3, arbitrary: strLit },
  { weight: 1, arbitrary: concatStr },
  { weight: 1, arbitrary: fc.constantFrom('True', 'False', 'None') },
);

const { value: literal } = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: scalar },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }).chain((xs) => fc.boolean().map((t) => `[${xs.join(', ')}${t && xs.length ? ',' : ''}]`)) },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }).map((xs) => (xs.length === 1 ? `(${xs[0]},)` : `(${xs.join(', ')})`)) },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.tuple(fc.oneof(strLit, fc.nat(20).map(String)), tie('value')), { maxLength: 4 })
        .map((kv) => `{${kv.map(([k, v]) => `${k}: ${v}`).join(', ')}}`),
    },
  ),
}));

export { literal };

const num = fc.oneof(intLit, floatLit, fc.integer({ min: -50, max: 50 }).map(String));
const smallInt = fc.integer({ min: -70, max: 70 }).map((n) => (n < 0 ? `(${n})` : String(n)));
const list = fc.array(scalar, { maxLength: 4 }).map((xs) => `[${xs.join(', ')}]`);
const pathPart = fc.constantFrom("'a'", "'/b'", "'c/'", "'..'", "'.'", "''", "'//x'", "'d.e.f'", "'/'", "'a/./b/../c'", "'.hidden'", "'///y'");

export const expression: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: literal },
  { weight: 2, arbitrary: fc.tuple(num, fc.constantFrom('+', '-', '*', '/', '//', '%'), num).map(([a, op, b]) => `${a} ${op} ${b}`) },
  { weight: 1, arbitrary: fc.tuple(num, num, num).map(([a, b, c]) => `-${a} * (${b} - ${c}) + ${a} // 3`) },
  { weight: 1, arbitrary: fc.tuple(smallInt, fc.integer({ min: 0, max: 40 })).map(([a, b]) => `${a} ** ${b}`) },
  { weight: 1, arbitrary: fc.tuple(intLit, fc.integer({ min: 0, max: 80 }), fc.constantFrom('<<', '>>')).map(([a, b, op]) => `${a} ${op} ${b}`) },
  { weight: 1, arbitrary: fc.tuple(list, list).map(([a, b]) => `${a} + ${b}`) },
  { weight: 1, arbitrary: fc.tuple(strLit, strLit).map(([a, b]) => `${a} + ${b}`) },
  { weight: 1, arbitrary: fc.tuple(list, fc.integer({ min: -6, max: 6 })).map(([a, i]) => `${a}[${i}]`) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(strLit, fc.integer({ min: -4, max: 4 }), fc.integer({ min: -4, max: 4 }), fc.constantFrom(1, 2, -1))
      .map(([s, a, b, c]) => `${s}[${a}:${b}:${c}]`),
  },
  { weight: 2, arbitrary: literal.map((x) => `str(${x})`) },
  { weight: 1, arbitrary: fc.oneof(num, strLit).map((x) => `int(${x})`) },
  { weight: 1, arbitrary: fc.oneof(num, fc.constantFrom("' 1_0 '", "'-3'", "'1e3'", "'inf'", "' -nan '", "'0x1'")).map((x) => `float(${x})`) },
  { weight: 1, arbitrary: intLit.map((x) => `hex(${x}) + hex(-${x})`) },
  { weight: 1, arbitrary: fc.tuple(floatLit, fc.integer({ min: 0, max: 6 })).map(([x, n]) => `round(${x}, ${n})`) },
  { weight: 1, arbitrary: fc.oneof(floatLit, fc.constantFrom('0.5', '1.5', '2.5', '-2.5', '2.675', '-0.5')).map((x) => `round(${x})`) },
  { weight: 1, arbitrary: fc.oneof(strLit, list).map((x) => `len(${x})`) },
  { weight: 2, arbitrary: fc.array(pathPart, { minLength: 1, maxLength: 4 }).map((xs) => `os.path.join(${xs.join(', ')})`) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('normpath', 'dirname', 'basename', 'splitext'), fc.array(pathPart, { minLength: 1, maxLength: 3 }))
      .map(([f, xs]) => `os.path.${f}(${xs.join(' + ')})`),
  },
  { weight: 1, arbitrary: fc.tuple(scalar, scalar).map(([a, b]) => `'{} and {}/{{x}}'.format(${a}, ${b})`) },
  { weight: 1, arbitrary: fc.tuple(literal, literal).map(([a, b]) => `'{1}-{0}-{n!r}'.format(${a}, ${b}, n=${a})`) },
  { weight: 1, arbitrary: literal.map((x) => `copy.deepcopy(${x})`) },
);
