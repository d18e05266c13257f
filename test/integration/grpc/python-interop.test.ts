/**
 * A foreign client: Debian's python3-grpcio (the gRPC C core, not grpc-js) drives a real shim over
 * TLS with a token. Stubs come from descriptor sets built by buf (Debian's protoc is too old for
 * proto3 `optional`) through scripts/proto-stubs-python.py: the route docs/ixia.md gives vendors.
 * A missing python3 or python3-grpcio is a failure (npm run setup installs them), never a skip.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../../framework/host/exec.js';
import { makePki, pidAlive, ROOT, startShim, type RunningShim, type TestPki } from './helpers.js';
import { API_MAJOR, API_MINOR } from '../../../trafficgen/grpc/convert.js';

const PYTHON = '/usr/bin/python3'; // Debian's, where apt puts python3-grpcio (not a pyenv or venv one)
const BUF = join(ROOT, 'node_modules', '.bin', 'buf');

describe('tgshim: a Python grpcio client over TLS + token (foreign client interop)', function () {
  this.timeout(90_000);
  let pki: TestPki;
  let dir: string;
  let shim: RunningShim | undefined;

  before(async () => {
    pki = await makePki();
    dir = mkdtempSync(join(tmpdir(), 'vsi-py-'));
  });
  after(async () => {
    await shim?.stop();
    pki.remove();
    rmSync(dir, { recursive: true, force: true });
    if (shim) expect(pidAlive(shim.child.pid)).to.equal(false);
  });

  it('health, GetInfo, auth failures, Reserve, RunTrial, RunTrials, INVALID_ARGUMENT, StartContinuous/StopContinuous, Release', async () => {
    for (const [input, out] of [
      [join(ROOT, 'trafficgen', 'grpc', 'proto'), 'tgshim.binpb'],
      [join(ROOT, 'node_modules', 'grpc-health-check', 'proto'), 'health.binpb'],
    ] as const) {
      const b = await exec([BUF, 'build', input, '-o', join(dir, out)]);
      expect(b.code, b.stderr).to.equal(0);
    }
    const gen = await exec([PYTHON, join(ROOT, 'scripts', 'proto-stubs-python.py'), join(dir, 'stubs'), join(dir, 'tgshim.binpb'), join(dir, 'health.binpb')]);
    expect(gen.code, `stub generation failed (is python3-protobuf installed? npm run setup):\n${gen.stderr}`).to.equal(0);
    shim = await startShim(['--generator', 'Simulated', '--tls-cert', pki.serverCert, '--tls-key', pki.serverKey, '--token-file', pki.tokenFile]);
    const r = await exec(
      [PYTHON, join(ROOT, 'test', 'integration', 'grpc', 'python', 'interop_client.py'), join(dir, 'stubs'), shim.address, pki.caCert, pki.token],
      { timeoutMs: 60_000 },
    );
    expect(r.code, `python client failed (is python3-grpcio installed? npm run setup):\n${r.stderr}`).to.equal(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(out.health).to.equal('SERVING');
    expect(out.info).to.deep.include({ api_major: API_MAJOR, api_minor: API_MINOR, backend: 'software', multistream: true });
    expect(out.auth).to.deep.equal({ missing: 'UNAUTHENTICATED', wrong: 'UNAUTHENTICATED', run_trials_stream: 'UNAUTHENTICATED' });
    expect(out.reserve).to.deep.equal({ lease_s: 60, session_len: 36 });
    expect(out.run_trial).to.deep.equal({ results: 1, tx: 50_000, rx: 50_000 });
    expect(out.run_trials).to.deep.equal([1000, 2000, 3000]);
    expect(out.invalid).to.equal('INVALID_ARGUMENT');
    expect((out.continuous as { tx: number }).tx).to.be.greaterThan(10_000);
    expect(out.after_release).to.equal('NOT_FOUND');
  });
});
