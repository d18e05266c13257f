/**
 * What a driver does to a host, whichever host it is: run a command, start a long-running process,
 * look at and make files, mount. `localOps(host)` is this machine (through Host: journalled, on the
 * cleanup stack); a RemoteHost is another one over SSH (journalled with the host's name). A driver
 * written against HostOps (OVS, a QEMU guest) runs unchanged on either.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Child } from './child.js';
import { exec, type ExecOptions, type ExecResult } from './exec.js';
import type { Host } from './host.js';
import type { JournalEntry } from './journal.js';

/** A long-running process on some host (a local Child, or a remote process held by an ssh channel). */
export interface HostProcess {
  readonly pid: number;
  readonly running: boolean;
  readonly exitStatus: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  tail(lines?: number): string;
  /** Events: 'unexpected-exit' (code, signal) when it ends without expectExit()/stop(). */
  on(event: 'unexpected-exit', fn: (code: number | null, signal: string | null) => void): unknown;
  expectExit(): void;
  waitExit(): Promise<unknown>;
  stop(graceMs?: number): Promise<void>;
}

export interface HostSpawnOptions {
  /** Variables added to the process's environment. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly label?: string;
  readonly graceMs?: number;
  readonly tailChars?: number;
  /** Local file the process's output is appended to. */
  readonly logFile?: string;
}

export interface HostOps {
  /** 'local' or the TESTBED_HOSTS name. */
  readonly name: string;
  /** `env` adds variables to the command's environment. */
  exec(argv: readonly string[], opts?: Omit<ExecOptions, 'env'> & { env?: Readonly<Record<string, string>> }): Promise<ExecResult>;
  spawn(argv: readonly string[], opts?: HostSpawnOptions): Promise<HostProcess>;
  exists(path: string): Promise<boolean>;
  /** '' when the file does not exist. */
  readFile(path: string): Promise<string>;
  writeFile(path: string, text: string): Promise<void>;
  /** A directory of ours, removed at cleanup. */
  makeDir(path: string): Promise<() => Promise<void>>;
  mount(argv: readonly string[], path: string): Promise<() => Promise<void>>;
  /** Journal a resource of this host and register its release. */
  track(entry: JournalEntry, label: string, release: () => Promise<void> | void): () => Promise<void>;
  nextId(prefix: string): string;
}

/** This machine, through Host. */
export function localOps(host: Host): HostOps {
  return {
    name: 'local',
    exec: (argv, opts = {}) => exec(argv, { ...opts, ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}) }),
    spawn: (argv, opts = {}) =>
      host.spawn(argv, {
        ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
        ...(opts.cwd ? { cwd: opts.cwd } : {}),
        ...(opts.label ? { label: opts.label } : {}),
        ...(opts.graceMs !== undefined ? { graceMs: opts.graceMs } : {}),
        ...(opts.tailChars ? { tailChars: opts.tailChars } : {}),
        ...(opts.logFile ? { logFile: opts.logFile } : {}),
      }) as Promise<Child>,
    exists: async (path) => existsSync(path),
    readFile: async (path) => {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return '';
      }
    },
    writeFile: async (path, text) => writeFileSync(path, text),
    makeDir: async (path) => host.makeDir(path),
    mount: (argv, path) => {
      mkdirSync(path, { recursive: true });
      return host.mount(argv, path);
    },
    track: (entry, label, release) => host.track(entry, label, release),
    nextId: (prefix) => host.journal.nextId(prefix),
  };
}
