import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../../../framework/host/exec.js';
import { IxRest, refsIn, toRef } from '../../../../trafficgen/grpc/backends/ixnetwork/rest.js';
import { rejection } from '../../../helpers/rejection.js';

type Seen = { path: string; key: string | undefined; body: string };

async function serve(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void,
  tls?: { key: Buffer; cert: Buffer },
): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const h = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', key: req.headers['x-api-key'] as string | undefined, body });
      handler(req, res, body);
    });
  };
  const server = tls ? https.createServer(tls, h) : http.createServer(h);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

const json = (res: http.ServerResponse, status: number, body: unknown): void =>
  void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

describe('trafficgen/grpc IxNetwork REST client: links, redirects, TLS', function () {
  this.timeout(20_000);

  it('reduces absolute and /ixnetworkweb links to the relative /api/v1 reference', () => {
    expect(toRef('https://10.0.0.1/ixnetworkweb/api/v1/sessions/7')).to.equal('/api/v1/sessions/7');
    expect(toRef('https://[::1]:443/api/v1/sessions/7/ixnetwork/vport/1/')).to.equal('/api/v1/sessions/7/ixnetwork/vport/1');
    expect(toRef('/ixnetworkweb/api/v1/sessions/1/ixnetwork/traffic')).to.equal('/api/v1/sessions/1/ixnetwork/traffic');
    expect(toRef('/api/v1/sessions/1')).to.equal('/api/v1/sessions/1');
    expect(refsIn(['http://h:1/ixnetworkweb/api/v1/sessions/1/ixnetwork/vport/2', 'kVoid'])).to.deep.equal(['/api/v1/sessions/1/ixnetwork/vport/2', 'kVoid']);
  });

  it('follows a same-origin 307 keeping method, body and API key; drops the key on a cross-origin redirect', async () => {
    const other = await serve((_q, res) => json(res, 200, { ok: true }));
    const main = await serve((req, res) => {
      if (req.url?.startsWith('/api/')) return void res.writeHead(307, { location: `/ixnetworkweb${req.url}` }).end();
      if (req.url === '/ixnetworkweb/api/v1/away') return void res.writeHead(307, { location: `${other.url}/elsewhere` }).end();
      json(res, 200, { ok: true });
    });
    try {
      const rest = new IxRest({ baseUrl: main.url, apiKey: 'secret-key' });
      await rest.request('PATCH', '/api/v1/x', { a: 1 });
      expect(main.seen.map((s) => [s.path, s.key, s.body])).to.deep.equal([
        ['/api/v1/x', 'secret-key', '{"a":1}'],
        ['/ixnetworkweb/api/v1/x', 'secret-key', '{"a":1}'],
      ]);
      await rest.request('GET', '/api/v1/away');
      expect(other.seen).to.have.length(1);
      expect(other.seen[0]!.key, 'API key sent to another origin').to.equal(undefined);
      // A login body never follows a redirect to another origin.
      const e = await rejection(rest.request('POST', '/api/v1/away', { username: 'admin', password: 'pw' }, { credentialsInBody: true }));
      expect(e.message).to.match(/refusing to send the login to another origin/);
      expect(other.seen).to.have.length(1);
    } finally {
      await main.close();
      await other.close();
    }
  });

  describe('over TLS', () => {
    let dir: string;
    let tls: { key: Buffer; cert: Buffer };
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'vsi-ixtls-'));
      await exec([
        'openssl',
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-keyout',
        join(dir, 'k'),
        '-out',
        join(dir, 'c'),
        '-subj',
        '/CN=ixn',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ]);
      tls = { key: readFileSync(join(dir, 'k')), cert: readFileSync(join(dir, 'c')) };
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('verifies the certificate by default, accepts it with its CA, skips the check only with insecure', async () => {
      const s = await serve((_q, res) => json(res, 200, { ok: true }), tls);
      try {
        const e = await rejection(new IxRest({ baseUrl: s.url }).get('/api/v1/sessions'));
        expect(e.message).to.match(/self.signed|unable to verify|certificate/i);
        expect(await new IxRest({ baseUrl: s.url, caPem: tls.cert }).get('/api/v1/sessions')).to.deep.equal({ ok: true });
        expect(await new IxRest({ baseUrl: s.url, insecure: true }).get('/api/v1/sessions')).to.deep.equal({ ok: true });
      } finally {
        await s.close();
      }
    });

    it('refuses a redirect from https to http', async () => {
      const plain = await serve((_q, res) => json(res, 200, {}));
      const s = await serve((_q, res) => void res.writeHead(307, { location: `${plain.url}/api/v1/x` }).end(), tls);
      try {
        const e = await rejection(new IxRest({ baseUrl: s.url, caPem: tls.cert, apiKey: 'k' }).get('/api/v1/x'));
        expect(e.message).to.match(/refusing a redirect from https to http:/);
        expect(plain.seen).to.have.length(0);
      } finally {
        await s.close();
        await plain.close();
      }
    });
  });
});
