/**
 * Helpers for the tgshim tests: throw-away certificates made with the openssl CLI (argv only, into a
 * temp dir that the test removes), a shim started as a real child process, and a leftover audit.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exec } from '../../../framework/host/exec.js';
import { Child } from '../../../framework/host/child.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const SHIM_BIN = join(ROOT, 'bin', 'vsperf-tgshim.js');
export const STATE_DIR = '/tmp/vsperf-vsi-test';
process.env.VSPERF_STATE_DIR = STATE_DIR;

export interface TestPki {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A second CA the shim does not trust. */
  readonly otherCaCert: string;
  readonly otherClientCert: string;
  readonly otherClientKey: string;
  readonly tokenFile: string;
  readonly token: string;
  pem(path: string): Buffer;
  remove(): void;
}

/** The shim's TLS (server certificate, client CA) and token arguments for this PKI, then `extra`. */
export function tlsShimArgs(k: TestPki, extra: readonly string[] = []): string[] {
  return ['--tls-cert', k.serverCert, '--tls-key', k.serverKey, '--tls-client-ca', k.caCert, '--token-file', k.tokenFile, ...extra];
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'];

export async function makePki(): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'vsi-pki-'));
  const p = (f: string): string => join(dir, f);
  const ca = async (name: string): Promise<void> => {
    await exec(['openssl', 'req', '-x509', ...EC, '-keyout', p(`${name}.key`), '-out', p(`${name}.crt`), '-subj', `/CN=vsi-${name}`]);
  };
  const leaf = async (name: string, caName: string, cn: string, san?: string): Promise<void> => {
    await exec([
      'openssl',
      'req',
      '-x509',
      ...EC,
      '-keyout',
      p(`${name}.key`),
      '-out',
      p(`${name}.crt`),
      '-subj',
      `/CN=${cn}`,
      ...(san ? ['-addext', `subjectAltName=${san}`] : []),
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-CA',
      p(`${caName}.crt`),
      '-CAkey',
      p(`${caName}.key`),
    ]);
  };
  await ca('ca');
  await ca('otherca');
  await leaf('server', 'ca', 'localhost', 'DNS:localhost,IP:127.0.0.1');
  await leaf('client', 'ca', 'vsi-client');
  await leaf('otherclient', 'otherca', 'vsi-intruder');
  const token = 'vsi-token-0123456789abcdef';
  writeFileSync(p('token'), `${token}\n`, { mode: 0o600 });
  return {
    dir,
    caCert: p('ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    otherCaCert: p('otherca.crt'),
    otherClientCert: p('otherclient.crt'),
    otherClientKey: p('otherclient.key'),
    tokenFile: p('token'),
    token,
    pem: (path) => readFileSync(path),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface RunningShim {
  readonly child: Child;
  readonly port: number;
  readonly address: string;
  /** Lines the shim logged (stderr). */
  output(): string;
  stop(): Promise<void>;
}

/** Start bin/vsperf-tgshim.js with `args` (+ --listen 127.0.0.1:0 unless given); wait for "listening". */
export async function startShim(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<RunningShim> {
  const listen = args.includes('--listen') ? [] : ['--listen', '127.0.0.1:0'];
  const child = await Child.start([process.execPath, SHIM_BIN, ...listen, ...args], {
    env: { ...process.env, VSPERF_STATE_DIR: STATE_DIR, ...env },
    tailChars: 64 * 1024,
  });
  let out = '';
  child.on('output', (s: string) => (out += s));
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`shim did not start within 20 s:\n${out}`)), 20_000);
    const check = (): void => {
      const m = /\{"event":"listening","port":(\d+)\}/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    };
    child.on('output', check);
    void child.waitExit().then((st) => {
      clearTimeout(t);
      reject(new Error(`shim exited (${st.code ?? st.signal}) before listening:\n${out}`));
    });
    check();
  });
  return {
    child,
    port,
    address: `127.0.0.1:${port}`,
    output: () => out,
    stop: () => child.stop(5000),
  };
}

/** True when a process with this pid exists. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
