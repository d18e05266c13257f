import { expect } from 'chai';
import { QmpClient } from '../../../../vnfs/qmp/client.js';
import { QmpCommandError, QmpConnectError, QmpInterruptedError, QmpProtocolError, QmpStateError, QmpTimeoutError } from '../../../../vnfs/qmp/errors.js';
import { AbortedError, VsperfError } from '../../../../framework/errors.js';
import { FakeQmpServer, type Cmd, type FakeConn } from './fake-server.js';
import { rejection } from '../../../helpers/rejection.js';

describe('vnfs/qmp client against a fake QMP server', () => {
  let server: FakeQmpServer;
  let client: QmpClient;

  afterEach(async () => {
    await client?.close();
    await server?.stop();
  });

  async function setup(script: (cmd: Cmd, conn: FakeConn) => void | Promise<void>, opts: ConstructorParameters<typeof QmpClient>[0] = {}): Promise<void> {
    server = new FakeQmpServer(script);
    await server.start();
    client = new QmpClient({ defaultTimeoutMs: 2000, ...opts });
  }

  it('reads the greeting, negotiates, then matches replies by id', async () => {
    await setup((cmd, c) => c.reply(cmd, { status: 'running', running: true }));
    expect(client.state).to.equal('idle');
    await client.connect(server.path);
    expect(client.state).to.equal('running');
    expect(client.version).to.include({ major: 7, minor: 2, micro: 22 });
    expect(server.received[0]).to.deep.include({ execute: 'qmp_capabilities' });
    const st = await client.queryStatus();
    expect(st).to.deep.equal({ status: 'running', running: true });
    expect(server.received[1]!.id).to.match(/^vsperf-\d+$/);
    expect(server.received[1]!.id).to.not.equal(server.received[0]!.id);
  });

  it('routes out-of-order replies to the right callers', async () => {
    const held: Cmd[] = [];
    await setup((cmd, c) => {
      held.push(cmd);
      if (held.length === 3) for (const h of [...held].reverse()) c.reply(h, { echo: h.arguments?.n });
    });
    await client.connect(server.path);
    const rs = await Promise.all([1, 2, 3].map((n) => client.execute<{ echo: number }>('echo', { n })));
    expect(rs.map((r) => r.echo)).to.deep.equal([1, 2, 3]);
  });

  it('separates interleaved events from replies; waitFor created before the trigger sees the event', async () => {
    await setup((cmd, c) => {
      if (cmd.execute === 'stop') {
        c.event('STOP', {}, 1795615923, 802833);
        c.event('MIGRATION', { status: 'active' }, 1795615923, 802900);
        c.reply(cmd);
        c.event('RESUME', {}, 1795615923, 854867);
      }
    });
    await client.connect(server.path);
    const stopped = client.events.waitFor('STOP', { timeoutMs: 1000 });
    const active = client.events.waitFor('MIGRATION', { match: { status: 'active' }, timeoutMs: 1000 });
    const resumed = client.events.waitFor('RESUME', { timeoutMs: 1000 });
    const before = process.hrtime.bigint();
    await client.execute('stop');
    const [s, a, r] = await Promise.all([stopped, active, resumed]);
    expect(s.qemuTsUs).to.equal(1795615923802833);
    expect(a.data).to.deep.equal({ status: 'active' });
    expect((r.qemuTsUs - s.qemuTsUs) / 1000).to.be.closeTo(52.034, 1e-6);
    expect(s.recvHrNs > before).to.equal(true);
    expect(client.events.history.map((e) => e.event)).to.deep.equal(['STOP', 'MIGRATION', 'RESUME']);
    expect(client.events.seen('MIGRATION', { status: 'active' })).to.have.length(1);
  });

  it('a listener queues events between next() calls', async () => {
    await setup((cmd, c) => {
      for (let i = 0; i < 3; i++) c.event('MIGRATION_PASS', { pass: i + 1 });
      c.reply(cmd);
    });
    await client.connect(server.path);
    const l = client.events.listen('MIGRATION_PASS');
    await client.execute('migrate');
    const passes = [];
    for (let i = 0; i < 3; i++) passes.push((await l.next({ timeoutMs: 500 })).data.pass);
    expect(passes).to.deep.equal([1, 2, 3]);
    expect(await rejection(l.next({ timeoutMs: 50 }))).to.be.instanceOf(QmpTimeoutError);
    l.close();
  });

  it('a QEMU error rejects only that call, with class and description', async () => {
    await setup((cmd, c) => (cmd.execute === 'bad' ? c.error(cmd, 'CommandNotFound', 'The command bad has not been found') : c.reply(cmd, 1)));
    await client.connect(server.path);
    const [e, ok] = await Promise.all([rejection(client.execute('bad')), client.execute('good')]);
    expect(e).to.be.instanceOf(QmpCommandError);
    expect(e).to.be.instanceOf(VsperfError);
    expect(e).to.include({ command: 'bad', errorClass: 'CommandNotFound' });
    expect(ok).to.equal(1);
    expect(client.state).to.equal('running');
  });

  it('a garbage line is fatal: pending calls are interrupted and the cause is a protocol error', async () => {
    await setup((_cmd, c) => c.send('this is not json\n'));
    await client.connect(server.path);
    let disconnected: Error | undefined;
    client.onDisconnect((r) => (disconnected = r));
    const e = await rejection(client.execute('query-status'));
    expect(e).to.be.instanceOf(QmpInterruptedError);
    expect((e as Error & { cause?: unknown }).cause).to.be.instanceOf(QmpProtocolError);
    expect(client.state).to.equal('idle');
    expect(client.lastDisconnect).to.be.instanceOf(QmpProtocolError);
    expect(disconnected).to.be.instanceOf(QmpProtocolError);
    expect(await rejection(client.execute('query-status'))).to.be.instanceOf(QmpStateError);
  });

  it('an error without id is fatal (QEMU could not parse our request)', async () => {
    await setup((_cmd, c) => c.send({ error: { class: 'GenericError', desc: 'JSON parse error, invalid keyword' } }));
    await client.connect(server.path);
    const e = await rejection(client.execute('query-status'));
    expect(e).to.be.instanceOf(QmpInterruptedError);
    expect(client.lastDisconnect).to.be.instanceOf(QmpProtocolError);
    expect(client.lastDisconnect!.message).to.match(/error without id/);
  });

  it('EOF in the middle of a command rejects it (and event waiters) with QmpInterruptedError', async () => {
    await setup((cmd, c) => {
      if (cmd.execute === 'migrate') {
        c.send('{"return": {}, "id"'); // half a reply, then EOF
        c.end();
      }
    });
    await client.connect(server.path);
    const resumed = client.events.waitFor('RESUME', { timeoutMs: 5000 });
    // Interrupted, not timed out: the EOF itself ended the call and the waiter, not their 5 s timeouts.
    const e = await rejection(client.execute('migrate', { uri: 'tcp:127.0.0.1:4444' }, { timeoutMs: 5000 }));
    expect(e).to.be.instanceOf(QmpInterruptedError);
    expect(e.message).to.match(/EOF/);
    expect(await rejection(resumed)).to.be.instanceOf(QmpInterruptedError);
    expect(client.state).to.equal('idle');
  });

  it('times out a call, drops the late reply, and keeps the session usable', async () => {
    await setup((cmd, c) => {
      if (cmd.execute === 'slow') setTimeout(() => c.reply(cmd, 'late'), 150);
      else c.reply(cmd, 'fast');
    });
    await client.connect(server.path);
    // A timeout error at all shows the timer fired before the reply (sent 150 ms in) could resolve the call.
    const e = await rejection(client.execute('slow', undefined, { timeoutMs: 50 }));
    expect(e).to.be.instanceOf(QmpTimeoutError);
    expect(e).to.include({ command: 'slow', ms: 50 });
    await new Promise((r) => setTimeout(r, 200)); // late reply arrives and is dropped
    expect(await client.execute('other')).to.equal('fast');
    expect(client.state).to.equal('running');
  });

  it('an AbortSignal cancels a call', async () => {
    await setup(() => undefined);
    await client.connect(server.path);
    const ac = new AbortController();
    const p = client.execute('never', undefined, { timeoutMs: 5000, signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    expect(await rejection(p)).to.be.instanceOf(AbortedError);
  });

  it('close() is idempotent, interrupts pending calls and guards state', async () => {
    await setup(() => undefined);
    expect(await rejection(client.execute('query-status'))).to.be.instanceOf(QmpStateError);
    await client.connect(server.path);
    expect(await rejection(client.connect(server.path))).to.be.instanceOf(QmpStateError);
    const p = client.execute('never');
    await client.close();
    await client.close();
    expect(await rejection(p)).to.be.instanceOf(QmpInterruptedError);
    expect(client.state).to.equal('idle');
    expect(client.lastDisconnect).to.equal(undefined);
    // reconnect works after close
    await client.connect(server.path);
    expect(client.state).to.equal('running');
  });

  it('quit() treats EOF before the reply as success', async () => {
    await setup((cmd, c) => {
      if (cmd.execute === 'quit') c.end();
    });
    await client.connect(server.path);
    await client.quit({ timeoutMs: 1000 });
    expect(client.state).to.equal('idle');
  });

  it('connect failures are QmpConnectError with the cause: no socket, no greeting, bad greeting, old QEMU', async () => {
    await setup(() => undefined);
    const none = await rejection(client.connect(`${server.dir}/missing.sock`, { timeoutMs: 500 }));
    expect(none).to.be.instanceOf(QmpConnectError);
    expect(client.state).to.equal('idle');

    server.greeting = null;
    const silent = await rejection(client.connect(server.path, { timeoutMs: 100 }));
    expect(silent).to.be.instanceOf(QmpConnectError);
    expect((silent as Error & { cause?: unknown }).cause).to.be.instanceOf(QmpTimeoutError);

    server.greeting = 'hello there\n';
    const bad = await rejection(client.connect(server.path, { timeoutMs: 500 }));
    expect(bad).to.be.instanceOf(QmpConnectError);
    expect((bad as Error & { cause?: unknown }).cause).to.be.instanceOf(QmpProtocolError);

    server.greeting = { QMP: { version: { qemu: { major: 2, minor: 5, micro: 0 } }, capabilities: [] } };
    const old = await rejection(client.connect(server.path, { timeoutMs: 500 }));
    expect(old).to.be.instanceOf(QmpConnectError);
    expect(old.message).to.match(/older than 2\.12/);
    expect(client.state).to.equal('idle');
  });

  it('an over-long line from the server ends the session with a protocol error', async () => {
    await setup((cmd, c) => c.send(`{"return": "${'x'.repeat(5000)}", "id": "${cmd.id}"}\n`), { maxLineBytes: 1024 });
    await client.connect(server.path);
    expect(await rejection(client.execute('big'))).to.be.instanceOf(QmpInterruptedError);
    expect(client.lastDisconnect).to.be.instanceOf(QmpProtocolError);
  });
});
