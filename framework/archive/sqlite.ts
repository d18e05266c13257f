/**
 * The slice of better-sqlite3 (v12) the archive uses, typed here (the package ships no types), and a
 * loader that turns a missing or unbuilt native addon into one clear EnvironmentError.
 */
import { createRequire } from 'node:module';
import { EnvironmentError } from '../errors.js';

export interface RunInfo {
  readonly changes: number;
  readonly lastInsertRowid: number | bigint;
}

export interface Statement<R = unknown> {
  run(...params: unknown[]): RunInfo;
  get(...params: unknown[]): R | undefined;
  all(...params: unknown[]): R[];
}

export interface Db {
  prepare<R = unknown>(sql: string): Statement<R>;
  exec(sql: string): Db;
  pragma(sql: string, opts?: { simple?: boolean }): unknown;
  transaction<A extends unknown[], T>(fn: (...args: A) => T): (...args: A) => T;
  close(): void;
  readonly open: boolean;
}

type DbCtor = new (path: string, opts?: { timeout?: number; readonly?: boolean; fileMustExist?: boolean }) => Db;

let ctor: DbCtor | undefined;

export function openDatabase(path: string, opts: { readonly?: boolean } = {}): Db {
  if (!ctor) {
    try {
      ctor = createRequire(import.meta.url)('better-sqlite3') as DbCtor;
    } catch (e) {
      throw new EnvironmentError(`the results archive needs better-sqlite3, which did not load: ${(e as Error).message.split('\n')[0]}`, {
        hint: 'run `npm run setup` (step 35-native-addons builds it from source with the Node headers)',
        cause: e,
      });
    }
  }
  return new ctor(path, { timeout: 10_000, ...(opts.readonly ? { readonly: true, fileMustExist: true } : {}) });
}
