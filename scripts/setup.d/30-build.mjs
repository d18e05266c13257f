// TypeScript build (and native parts, via npm run build).
import { existsSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

function newest(dir, ext, acc = 0) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) acc = newest(p, ext, acc);
    else if (ext.some((x) => e.name.endsWith(x))) acc = Math.max(acc, statSync(p).mtimeMs);
  }
  return acc;
}

export const title = 'build (tsc + native engine)';
export async function check(ctx) {
  const stamp = join(ctx.root, 'dist', '.build-stamp');
  if (!existsSync(stamp)) return false;
  return statSync(stamp).mtimeMs >= newest(ctx.root, ['.ts', '.c', '.h', '.proto', '.mjs']);
}
export async function run(ctx) {
  ctx.sh(['npm', 'run', '--silent', 'build']);
}
