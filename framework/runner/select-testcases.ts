import { UsageError } from '../errors.js';
import { suggest } from '../util/suggest.js';

export interface SelectOptions {
  /** Positional names: exact testcase names, run in the order given (repeats allowed, as VSPERF). */
  readonly names?: readonly string[];
  /** --tests: comma-separated terms; a term matches names containing it (VSPERF) or, with * ? [, as a glob; '!term' excludes. */
  readonly tests?: string;
  /** --exact-test-name: --tests terms must equal a name. */
  readonly exact?: boolean;
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) throw new UsageError(`unclosed '[' in test pattern "${glob}"`);
      const body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
      re += `[${body.startsWith('!') ? '^' + body.slice(1) : body}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'i');
}

function matcher(term: string, exact: boolean): (name: string) => boolean {
  if (/[*?[]/.test(term)) {
    const re = globToRegExp(term);
    return (n) => re.test(n);
  }
  const t = term.toLowerCase();
  return exact ? (n) => n.toLowerCase() === t : (n) => n.toLowerCase().includes(t);
}

/** Testcase names to run, in run order. Throws UsageError when nothing (or an unknown name) is selected. */
export function selectTestcases(all: readonly string[], opts: SelectOptions): string[] {
  const names = opts.names ?? [];
  if (names.length && opts.tests !== undefined) throw new UsageError('give testcases either as positional names or with --tests, not both');
  if (names.length) {
    for (const n of names) {
      if (!all.includes(n)) {
        const s = suggest(n, all);
        throw new UsageError(`unknown testcase "${n}"${s ? `; did you mean "${s}"?` : ''}`, { hint: 'list them with `vsperf --list`' });
      }
    }
    return [...names];
  }
  if (opts.tests === undefined) return [...all];
  const terms = opts.tests
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (!terms.length) throw new UsageError('--tests needs at least one term');
  const include = terms.filter((t) => !t.startsWith('!')).map((t) => matcher(t, !!opts.exact));
  const exclude = terms.filter((t) => t.startsWith('!')).map((t) => matcher(t.slice(1), !!opts.exact));
  const picked = all.filter((n) => (include.length === 0 || include.some((m) => m(n))) && !exclude.some((m) => m(n)));
  if (!picked.length) {
    const s = suggest(terms.find((t) => !t.startsWith('!')) ?? '', all);
    throw new UsageError(`no testcase matches --tests "${opts.tests}"${s ? `; did you mean "${s}"?` : ''}`, { hint: 'list them with `vsperf --list`' });
  }
  return picked;
}
