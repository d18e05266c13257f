/** A scripted fake QMP server on a unix socket, for client tests. */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Cmd {
  readonly execute: string;
  readonly id?: string;
  readonly arguments?: Record<string, unknown>;
}

export type Script = (cmd: Cmd, conn: FakeConn) => void | Promise<void>;

export class FakeConn {
  constructor(readonly sock: Socket) {}
  send(obj: unknown): void {
    this.sock.write(typeof obj === 'string' ? obj : `${JSON.stringify(obj)}\n`);
  }
  reply(cmd: Cmd, value: unknown = {}): void {
    this.send({ return: value, id: cmd.id });
  }
  error(cmd: Cmd, cls: string, desc: string): void {
    this.send({ error: { class: cls, desc }, id: cmd.id });
  }
  event(name: string, data: Record<string, unknown> = {}, seconds = 1795615920, microseconds = 925320): void {
    this.send({ event: name, data, timestamp: { seconds, microseconds } });
  }
  end(): void {
    this.sock.end();
  }
}

export const GREETING = { QMP: { version: { qemu: { micro: 22, minor: 2, major: 7 }, package: 'Debian 1:7.2+dfsg-7+deb12u18+b3' }, capabilities: ['oob'] } };

export class FakeQmpServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'vsv-qmp-'));
  readonly path = join(this.dir, 'qmp.sock');
  readonly received: Cmd[] = [];
  private server: Server | undefined;
  private readonly conns = new Set<Socket>();
  /** Greeting line sent on connect (a string is sent raw; null sends nothing). */
  greeting: unknown = GREETING;

  constructor(private script: Script) {}

  setScript(s: Script): void {
    this.script = s;
  }

  start(): Promise<void> {
    return new Promise((resolve) => {
      this.server = createServer((sock) => {
        this.conns.add(sock);
        sock.on('close', () => this.conns.delete(sock));
        sock.on('error', () => undefined);
        const conn = new FakeConn(sock);
        if (this.greeting !== null) conn.send(this.greeting);
        let buf = '';
        sock.on('data', (d) => {
          buf += d.toString('utf8');
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            const cmd = JSON.parse(line) as Cmd;
            this.received.push(cmd);
            if (cmd.execute === 'qmp_capabilities') conn.reply(cmd);
            else void this.script(cmd, conn);
          }
        });
      });
      this.server.listen(this.path, () => resolve());
    });
  }

  async stop(): Promise<void> {
    for (const c of this.conns) c.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
