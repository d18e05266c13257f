import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// test/unit/trafficgen/software (in dist/ or not) → package root
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, ...Array<string>(here.includes(`${join('dist', 'test')}`) ? 5 : 4).fill('..'));
const engineDir = join(root, 'trafficgen', 'software', 'engine');

function run(cmd: string, args: readonly string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  expect(r.error, `${cmd} is needed (npm run setup installs it)`).to.equal(undefined);
  expect(r.status, `${cmd} ${args.join(' ')}: ${r.stderr}`).to.equal(0);
  return r.stdout;
}

/** The first cycle in `edges` (file → files it calls into), as a path that ends where it starts. */
function findCycle(edges: ReadonlyMap<string, ReadonlySet<string>>): string[] | undefined {
  const done = new Set<string>();
  const visit = (f: string, path: string[]): string[] | undefined => {
    const at = path.indexOf(f);
    if (at >= 0) return [...path.slice(at), f];
    if (done.has(f)) return undefined;
    for (const g of edges.get(f) ?? []) {
      const c = visit(g, [...path, f]);
      if (c) return c;
    }
    done.add(f);
    return undefined;
  };
  for (const f of edges.keys()) {
    const c = visit(f, []);
    if (c) return c;
  }
  return undefined;
}

describe('Software generator engine: dependencies between its C files run one way', () => {
  it('no file calls into a file that calls back into it (symbols of the objects, built with the DPDK backend)', function () {
    this.timeout(120_000);
    // The dpdk loops are only compiled with DPDK: without it they could not show a cycle.
    const dpdk = run('pkg-config', ['--cflags', 'libdpdk']).trim().split(/\s+/).filter(Boolean);
    const dir = mkdtempSync(join(tmpdir(), 'vsg-deps-'));
    try {
      const sources = readdirSync(engineDir).filter((f) => f.endsWith('.c'));
      const defines = new Map<string, string>();
      const uses = new Map<string, string[]>();
      for (const src of sources) {
        const obj = join(dir, src.replace(/\.c$/, '.o'));
        run('gcc', ['-O0', '-c', '-std=gnu11', '-pthread', '-DVSG_HAVE_DPDK', ...dpdk, '-o', obj, join(engineDir, src)]);
        for (const line of run('nm', ['-g', '--defined-only', obj]).split('\n')) {
          const sym = line.trim().split(/\s+/)[2];
          if (sym) defines.set(sym, src);
        }
        uses.set(
          src,
          run('nm', ['-u', obj])
            .split('\n')
            .map((l) => l.trim().split(/\s+/)[1])
            .filter((s): s is string => !!s),
        );
      }
      const edges = new Map<string, Set<string>>();
      for (const [src, syms] of uses) edges.set(src, new Set(syms.map((s) => defines.get(s)).filter((d): d is string => !!d && d !== src)));
      // The check sees the calls it should: the loops count their bursts through rx_demux.c.
      expect([...(edges.get('dpdk_loop.c') ?? [])]).to.include('rx_demux.c');
      expect(findCycle(edges), 'call cycle between engine files').to.equal(undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
