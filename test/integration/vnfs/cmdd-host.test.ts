import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGuestCommand } from '../../../vnfs/qemu/guest-command.js';
import { DriverError } from '../../../framework/errors.js';

/**
 * The guest's command responder (scripts/guest/cmdd.c), built here and run on the host on stdin/stdout
 * behind a Unix socket, as QEMU's chardev presents it: the host client against the real responder,
 * for the cases a guest boot is too slow to repeat (limits, stale replies, a silent port).
 */
describe('vsperf-cmdd (built from scripts/guest/cmdd.c) with the host client', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'vsv-cmdd-'));
  const bin = join(dir, 'vsperf-cmdd');
  const sock = join(dir, 'cmd.sock');
  let server: Server | undefined;
  let daemon: ChildProcess | undefined;
  const conns = new Set<Socket>();

  before(() => {
    const src = new URL('../../../../scripts/guest/cmdd.c', import.meta.url).pathname;
    const cc = spawnSync('gcc', ['-O2', '-Wall', '-Werror', '-o', bin, src], { encoding: 'utf8' });
    expect(cc.status, `gcc: ${cc.stderr}`).to.equal(0);
  });

  /** One responder for the whole test, as in the guest; each connection is piped to it. */
  function serve(onConnect?: (s: Socket) => void): Promise<void> {
    const d = spawn(bin, ['-'], { cwd: dir, stdio: ['pipe', 'pipe', 'inherit'] });
    daemon = d;
    server = createServer((s) => {
      conns.add(s);
      s.on('close', () => conns.delete(s));
      if (onConnect) return onConnect(s);
      s.pipe(d.stdin!, { end: false });
      d.stdout!.pipe(s);
      s.on('close', () => d.stdout!.unpipe(s));
    });
    return new Promise((r) => server!.listen(sock, r));
  }

  afterEach(async () => {
    daemon?.kill('SIGKILL');
    for (const c of conns) c.destroy();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = daemon = undefined;
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs commands one after the other on one responder; exit, signal, timeout and the output limit', async () => {
    await serve();
    const a = await runGuestCommand(sock, 'printf "%s" "$PWD"; echo; kill -TERM $$', { timeoutMs: 5000 });
    expect(a.output).to.equal(`${dir}\n`);
    expect(a.signal).to.equal(15);
    const streamed: string[] = [];
    const b = await runGuestCommand(sock, 'echo 1; sleep 0.3; echo 2', { timeoutMs: 5000, onOutput: (t) => streamed.push(t) });
    expect([b.output, b.exitCode, streamed.join('')]).to.deep.equal(['1\n2\n', 0, '1\n2\n']);
    expect(streamed.length).to.equal(2); // output arrives as it is written, not at the end
    const t = await runGuestCommand(sock, 'sleep 10', { timeoutMs: 300 });
    expect([t.timedOut, t.exitCode]).to.deep.equal([true, undefined]);
    const big = await runGuestCommand(sock, 'while :; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done', { timeoutMs: 20_000 });
    expect(big.truncated).to.equal(true);
    expect(Buffer.byteLength(big.output)).to.equal(1024 * 1024);
  });

  it('passes output on as text also where the guest cut it inside a UTF-8 character', async () => {
    // A scripted responder: the two bytes of "é" arrive in separate output lines, as two reads of the pipe can give them.
    await serve((s) => {
      let buf = '';
      s.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const [kind, id] = buf.slice(0, i).split(' ');
          buf = buf.slice(i + 1);
          if (kind === 'P') s.write(`A ${id} vsperf-cmdd 1\n`);
          const b64 = (...bytes: number[]): string => Buffer.from(bytes).toString('base64');
          if (kind === 'R') s.write(`O ${id} ${b64(0xc3)}\nO ${id} ${b64(0xa9, 0x0a)}\nX ${id} exit 0 0\n`);
        }
      });
    });
    const streamed: string[] = [];
    const r = await runGuestCommand(sock, 'echo é', { timeoutMs: 5000, onOutput: (t) => streamed.push(t) });
    expect([r.output, streamed.join('')]).to.deep.equal(['é\n', 'é\n']);
  });

  it('ignores replies that belong to a command an earlier connection gave up on', async () => {
    await serve();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const gaveUp = await runGuestCommand(sock, 'sleep 1; echo late', { timeoutMs: 5000, signal: ac.signal }).catch((e: unknown) => e);
    expect((gaveUp as Error).name).to.match(/Abort/);
    const next = await runGuestCommand(sock, 'echo mine', { timeoutMs: 5000 });
    expect(next.output).to.equal('mine\n');
  });

  it('a port where nothing answers is a DriverError naming the missing responder; no socket is one too', async () => {
    await serve(() => undefined); // accepts and stays silent, like a guest image without vsperf-cmdd
    const err = await runGuestCommand(sock, 'true', { timeoutMs: 1000, pingTimeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DriverError);
    expect((err as Error).message).to.match(/does not answer on its command port .*vsperf-cmdd/);
    const none = await runGuestCommand(join(dir, 'absent.sock'), 'true', { timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(none).to.be.instanceOf(DriverError);
    expect((none as Error).message).to.match(/absent\.sock: .*ENOENT/);
  });
});
