// CI check (npm run lint): the generated gRPC code in trafficgen/grpc/gen/ is what `buf generate`
// makes from the proto today. Generates into a temporary directory and compares file by file.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const grpcDir = fileURLToPath(new URL('../trafficgen/grpc/', import.meta.url));
const bin = fileURLToPath(new URL('../node_modules/.bin/', import.meta.url));

function files(dir) {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
}

const out = mkdtempSync(join(tmpdir(), 'vsperf-proto-'));
try {
  execFileSync(join(bin, 'buf'), ['generate', '--output', out], {
    cwd: grpcDir,
    stdio: 'inherit',
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
  });
  const fresh = new Map(files(join(out, 'gen')).map((f) => [relative(join(out, 'gen'), f), readFileSync(f, 'utf8')]));
  const kept = new Map(files(join(grpcDir, 'gen')).map((f) => [relative(join(grpcDir, 'gen'), f), readFileSync(f, 'utf8')]));
  const differ = [...new Set([...fresh.keys(), ...kept.keys()])].filter((f) => fresh.get(f) !== kept.get(f));
  if (differ.length) {
    console.error(`trafficgen/grpc/gen/ does not match the proto: ${differ.join(', ')} (run npm run proto and commit the result)`);
    process.exit(1);
  }
  console.log(`trafficgen/grpc/gen/ matches the proto (${fresh.size} file(s))`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
