// better-sqlite3 (results archive): npm 11 skips its install script, so build the native addon here,
// from source, against the headers of the Node that runs us (no download: --nodedir points at them).
// Idempotent: the check loads the addon in a child process and runs a query.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';

/** Directory whose include/node/node_api.h belongs to this Node (Debian: /usr; tarball installs: <prefix>). */
function nodeDir() {
  const candidates = [dirname(dirname(process.execPath)), '/usr', '/usr/local'];
  return candidates.find((d) => existsSync(join(d, 'include', 'node', 'node_api.h')));
}

export const title = 'native addon better-sqlite3 (results archive)';

export async function check(ctx) {
  const r = spawnSync(process.execPath, ['-e', "const D=require('better-sqlite3');const d=new D(':memory:');d.prepare('select 1').get();d.close()"], {
    cwd: ctx.root,
    encoding: 'utf8',
  });
  return r.status === 0;
}

export async function run(ctx) {
  const dir = nodeDir();
  if (!dir) throw new Error(`no Node headers found for ${process.execPath} (install the Debian package libnode-dev or nodejs headers)`);
  ctx.log(`building better-sqlite3 from source against ${dir}/include/node`);
  ctx.sh(['npm', 'rebuild', 'better-sqlite3', '--ignore-scripts=false', '--build-from-source', `--nodedir=${dir}`], {
    env: { npm_config_nodedir: dir, npm_config_build_from_source: 'true' },
  });
}
