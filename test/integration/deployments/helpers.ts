/** Shared plumbing for the deployment integration tests: a DriverContext on the real host, a frame sender, the leftover audit. */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Config } from '../../../framework/config/load.js';
import type { JsonObject } from '../../../framework/config/settings.js';
import { Journal, type JournalEntry } from '../../../framework/host/journal.js';
import { exec } from '../../../framework/host/exec.js';
import { Registry } from '../../../framework/registry/registry.js';
import type { DriverContext } from '../../../framework/api/driver.js';
import type { Deployment, Topology } from '../../../framework/api/deployment.js';
import { CleanupStack } from '../../../framework/runner/cleanup-stack.js';
import { hostContext } from '../../helpers/driver-context.js';
import { expect } from 'chai';
import { silentLogger } from '../../../framework/log/logger.js';
import { registerBuiltins } from '../../../drivers.js';
import { RunEvents } from '../../../framework/runner/events.js';
import { runTestcases } from '../../../framework/runner/run.js';
import type { TestcaseResult } from '../../../framework/results/types.js';

export const STATE_DIR = '/tmp/vsperf-deployments-test';
process.env.VSPERF_STATE_DIR = STATE_DIR;

export interface TestCtx {
  readonly ctx: DriverContext;
  readonly cleanup: CleanupStack;
  readonly journal: Journal;
  readonly workDir: string;
  readonly registry: Registry;
  /** Unwind the cleanup stack, remove the work dir and the journal; returns unwind errors and journal entries still live before closing. */
  dispose(): Promise<{ errors: string[]; live: JournalEntry[] }>;
}

/** Settings as the runner would resolve them for a p2p testcase, plus overrides (a --test-params-like layer). */
export function testSettings(overrides: JsonObject = {}) {
  // validate: false — other areas' conf files may be mid-edit; our own schema is checked in the unit tests.
  const cfg = new Config({ testParams: [overrides], validate: false });
  const tc = cfg.testcases().find((t) => t.name === 'phy2phy_tput')!;
  return cfg.forTestcase(tc, 0);
}

export function makeCtx(overrides: JsonObject = {}, runId = `vsd-test-${randomBytes(3).toString('hex')}`): TestCtx {
  const { ctx, cleanup, journal, workDir, registry } = hostContext(testSettings(overrides), {
    runId,
    journalDir: join(STATE_DIR, 'journal'),
    workDirPrefix: 'vsd-t',
  });
  return {
    ctx,
    cleanup,
    journal,
    workDir,
    registry,
    async dispose() {
      const errors = (await cleanup.unwind()).map((e) => e.message);
      const live = Journal.read(journal.path);
      rmSync(workDir, { recursive: true, force: true });
      journal.close();
      return { errors, live };
    },
  };
}

const SENDER = `
import socket, struct, sys, time
ifc, n, streams, every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind((ifc, 0))
dst = bytes.fromhex('020000000002'); src = bytes.fromhex('020000000001')
for i in range(n):
    if streams == 0:
        f = dst + src + b'\\x88\\xb5' + struct.pack('!I', i) + bytes(42)
    else:
        udp = struct.pack('!HHHH', 3000, (3001 + i % streams) % 65536, 26, 0) + bytes(18)
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, socket.inet_aton('1.1.1.1'), socket.inet_aton('90.90.90.90'))
        f = dst + src + b'\\x08\\x00' + ip + udp
    s.send(f)
    if i % every == every - 1: time.sleep(0.002)
`;

/**
 * Send `n` 60-byte frames from a generator port (raw ethertype 0x88b5, or UDP to `streams` dst ports
 * 3001+i), pausing 2 ms after every `burst` frames (10 ≈ 5 kfps for slow TCG guests, 50 ≈ 25 kfps).
 */
export async function sendFrames(netns: string, iface: string, n: number, streams = 0, burst = 50): Promise<void> {
  await exec(['ip', 'netns', 'exec', netns, 'python3', '-c', SENDER, iface, String(n), String(streams), String(burst)], { timeoutMs: 60_000 });
}

/** Kernel rx counters of a generator port. */
export async function ifaceCounters(netns: string, iface: string): Promise<{ rxPackets: number; rxBytes: number }> {
  const r = await exec(['ip', 'netns', 'exec', netns, 'cat', `/sys/class/net/${iface}/statistics/rx_packets`, `/sys/class/net/${iface}/statistics/rx_bytes`]);
  const [p, b] = r.stdout.trim().split('\n').map(Number);
  return { rxPackets: p!, rxBytes: b! };
}

export interface Leftovers {
  processes: string[];
  netns: string[];
  links: string[];
  mounts: string[];
  dirs: string[];
}

/** What a test created: sandbox tags (vsd-<tag>, vsd<tag>…) and directories (work dirs, OVS run dirs). */
export interface Scope {
  tags: string[];
  dirs: string[];
}

/** Scope of a set-up deployment: its sandbox tag and OVS run dir (from its facts), plus the test's work dir. */
export function scopeOf(facts: Readonly<Record<string, unknown>>, workDir?: string): Scope {
  const tag = /^vsd-([0-9a-z]+)$/.exec(String(facts.testbed_netns ?? ''))?.[1];
  return { tags: tag ? [tag] : [], dirs: [...(facts.vswitch_run_dir ? [String(facts.vswitch_run_dir)] : []), ...(workDir ? [workDir] : [])] };
}

export function mergeScopes(...s: Scope[]): Scope {
  return { tags: s.flatMap((x) => x.tags), dirs: s.flatMap((x) => x.dirs) };
}

/**
 * Everything of a scope still on the host: processes whose command line names one of its dirs, its
 * netns/links, mounts and dirs. Scoped, because other runs on this host may use the same code (and prefix).
 */
export async function leftovers(scope: Scope): Promise<Leftovers> {
  const hasDir = (text: string): boolean => scope.dirs.some((d) => text.includes(d));
  const hasTag = (name: string): boolean => scope.tags.some((t) => name === `vsd-${t}` || name.startsWith(`vsd-${t}-`) || name.startsWith(`vsd${t}`));
  const processes: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (/\)\s+[ZX]\s/.test(stat)) continue; // zombies hold nothing
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (hasDir(cmd) && /ovs|ovsdb|qemu/.test(cmd)) processes.push(`${pid} ${cmd.slice(0, 120)}`);
    } catch {
      /* gone */
    }
  }
  const ns = (await exec(['ip', 'netns', 'list'])).stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(hasTag);
  const links = (await exec(['ip', '-o', 'link', 'show'])).stdout
    .split('\n')
    .map((l) => /^\d+:\s+([^:@]+)/.exec(l)?.[1] ?? '')
    .filter(hasTag);
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((m) => m && hasDir(m));
  const dirs = scope.dirs.filter((d) => existsSync(d));
  return { processes, netns: ns, links, mounts, dirs };
}

export const NOTHING: Leftovers = { processes: [], netns: [], links: [], mounts: [], dirs: [] };

/**
 * One test's sandbox testbed: `use` makes its context, `deploy` builds and sets up a deployment and notes
 * the names it made; `release` (in afterEach, also after a failed test) disposes of the context and
 * checks that every journalled resource and everything under those names is gone.
 */
export class SandboxFixture {
  private t: TestCtx | undefined;
  /** What the last deployment made (its sandbox tags, bridges, work dir). */
  scope: Scope | undefined;

  use(overrides: JsonObject = {}): TestCtx {
    this.t = makeCtx(overrides);
    return this.t;
  }

  async deploy(name: string): Promise<{ dep: Deployment; topo: Topology }> {
    const t = this.t;
    if (!t) throw new Error('SandboxFixture.deploy before use');
    const dep = await (await t.registry.create('deployment', name, t.ctx)).build(t.ctx);
    const topo = await dep.setup(t.ctx.signal);
    this.scope = scopeOf(topo.facts, t.workDir);
    return { dep, topo };
  }

  async release(): Promise<void> {
    if (this.t) {
      const { errors, live } = await this.t.dispose();
      this.t = undefined;
      expect(errors).to.deep.equal([]);
      // Every journalled resource (processes, netns, links, mount, dirs, nr_hugepages) was released.
      expect(live).to.deep.equal([]);
    }
    if (this.scope) {
      const left = await leftovers(this.scope);
      this.scope = undefined;
      expect(left, JSON.stringify(left)).to.deep.equal(NOTHING);
    }
  }
}

export function nrHugepages(): number {
  return Number(readFileSync('/proc/sys/vm/nr_hugepages', 'utf8').trim());
}

export interface CatalogueOptions {
  /** Run as `vsperf --integration` (VSPERF's integration testcases). */
  readonly integration?: boolean;
  /** Conf files layered before the test parameters (testcases of the test's own). */
  readonly confFiles?: readonly string[];
  /** Check the settings against the schema (default false: other areas' conf files may be mid-edit while this runs; the schema has its own unit test). */
  readonly validate?: boolean;
}

/**
 * Runs catalogue testcases `names` through the real runner with `testParams` (results under `resultsRoot`,
 * emptied first) and returns their results; checks the catalogue has exactly those names.
 */
export async function runCatalogue(
  names: readonly string[],
  testParams: JsonObject,
  resultsRoot: string,
  label: string,
  opts: CatalogueOptions = {},
): Promise<TestcaseResult[]> {
  rmSync(resultsRoot, { recursive: true, force: true });
  const integration = opts.integration ?? false;
  const config = new Config({ integration, validate: opts.validate ?? false, confFiles: opts.confFiles ?? [], testParams: [testParams] });
  const registry = new Registry();
  registerBuiltins(registry);
  const tcs = config.testcases().filter((t) => names.includes(t.name));
  expect(tcs.map((t) => t.name).sort()).to.deep.equal([...names].sort());
  const run = await runTestcases({
    config,
    registry,
    testcases: tcs,
    log: silentLogger,
    events: new RunEvents(),
    argv: [label],
    resultsRoot,
    ...(integration ? { integration } : {}),
    signal: new AbortController().signal,
  });
  return run.testcases;
}
