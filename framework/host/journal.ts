import { appendFileSync, readFileSync, readdirSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { makeDirectory } from './paths.js';
import { join } from 'node:path';

/**
 * Host resources a run created, written to disk the moment they exist, so that the janitor of the next
 * run can remove them after a crash or SIGKILL. One JSON object per line; removal is recorded too.
 */
type Resource =
  | { kind: 'process'; id: string; pid: number; startTicks: number; argv0: string }
  // A process being started: the file will name it ("pid startTicks") before it execs; journalled before
  // the spawn so that a vsperf killed before the pid came back still leaves a way to the process.
  | { kind: 'pidfile'; id: string; path: string }
  | { kind: 'netns'; id: string; name: string }
  | { kind: 'link'; id: string; name: string; netns?: string }
  | { kind: 'dir'; id: string; path: string }
  | { kind: 'file'; id: string; path: string }
  | { kind: 'mount'; id: string; path: string }
  | { kind: 'sysctl'; id: string; path: string; restore: string }
  | { kind: 'xdp'; id: string; iface: string; netns?: string }
  // How to reach a remote host again (the janitor reconnects with it); releases nothing itself.
  | { kind: 'ssh'; id: string; name: string; address: string; port?: number; user: string; keyFile: string; knownHosts: string };

/** `host`: the resource lives on that remote host (its 'ssh' entry says how to reach it); absent = here. */
export type JournalEntry = Resource & { host?: string };

type Line = { op: 'add'; entry: JournalEntry } | { op: 'del'; id: string };

export function stateDir(): string {
  return process.env.VSPERF_STATE_DIR || '/tmp/vsperf-ts';
}

export class Journal {
  readonly path: string;
  private seq = 0;

  constructor(
    readonly runId: string,
    dir = join(stateDir(), 'journal'),
  ) {
    makeDirectory('state directory (VSPERF_STATE_DIR)', dir);
    this.path = join(dir, `${runId}.jsonl`);
    writeFileSync(this.path, '', { flag: 'a' });
  }

  nextId(prefix: string): string {
    return `${prefix}-${++this.seq}`;
  }

  add(entry: JournalEntry): void {
    appendFileSync(this.path, JSON.stringify({ op: 'add', entry } satisfies Line) + '\n');
  }

  remove(id: string): void {
    appendFileSync(this.path, JSON.stringify({ op: 'del', id } satisfies Line) + '\n');
  }

  /** Called when a run ended: the file goes once nothing is left to clean; what failed to release stays for the janitor. */
  close(): void {
    if (Journal.read(this.path).length === 0) rmSync(this.path, { force: true });
  }

  /** Live entries of a journal file, oldest first. Corrupt lines (a crash mid-write) are skipped. */
  static read(path: string): JournalEntry[] {
    const live = new Map<string, JournalEntry>();
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return [];
    }
    for (const raw of text.split('\n')) {
      if (!raw.trim()) continue;
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        continue;
      }
      if (line.op === 'add') live.set(line.entry.id, line.entry);
      else if (line.op === 'del') live.delete(line.id);
    }
    return [...live.values()];
  }

  static list(dir = join(stateDir(), 'journal')): string[] {
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith('.jsonl'))
      .map((f) => join(dir, f));
  }
}
