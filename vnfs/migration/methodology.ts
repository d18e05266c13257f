/**
 * traffic_type `live_migration` (testcases pvp_live_migration, pvp_live_migration_idle): the pvp guest
 * is migrated MIGRATION_REPEAT times between two QEMU instances on this host (ping-pong between the
 * deployment's vhost ports and a second set added here), each time under continuous traffic from the
 * generator (MIGRATION_TRAFFIC_FPS through the forwarding guest, or only a MIGRATION_PROBE_FPS probe for
 * the idle variant). Per migration: QEMU total/setup/downtime, STOP(src)→RESUME(dst) from QMP event
 * timestamps, data-plane outage (longest gap in the received sequence) and lost frames at the offered
 * rate, RAM transferred; min/median/max over the repeats; pass/fail against MIGRATION_TARGET_*.
 */
import type { Methodology, MethodologyContext, MethodologyOutput, TrialRecord } from '../../framework/methodology/context.js';
import { frameSizes, trafficFromSettings } from '../../framework/methodology/traffic-spec.js';
import { CapabilityError, UsageError, errorMessage } from '../../framework/errors.js';
import { sleep } from '../../framework/host/proc.js';
import type { Logger } from '../../framework/log/logger.js';
import type { MigrationPorts } from '../../framework/api/deployment.js';
import type { ContinuousRun, TrafficGenerator, TrafficSpec, TrialResult } from '../../framework/api/trafficgen.js';
import { isMigratable, type GuestNic, type MigratableVnf, type MigrationPlan, type MigrationRoute, type QemuInstanceHandle } from '../types.js';
import { migrateOnce, ensureSourceRunning, type MigrationFigures } from './migrate.js';
import { migrationOptions, type MigrationOptions } from './options.js';
import { round, summarize, type MigrationRecord } from './summary.js';
import { MigrationError } from './errors.js';
import { receiverFigures } from './receiver.js';
import { migrationRecord, migrationRows, outageFromLoss, receiverEntry, targetsOf } from './rows.js';
import { clockAcrossMigration, readGuestClock, type ClockAcross } from './guest-clock.js';
import { trialVerdict, validityThresholds, type Verdict } from '../../framework/fidelity/verdict.js';
import type { TrialConditions } from '../../framework/fidelity/conditions.js';

/** Zero or multicast MACs are not valid source addresses (a bridge drops such frames). */
export function badSourceMac(mac: string): boolean {
  const b = mac.split(/[:-]/).map((h) => parseInt(h, 16));
  return b.length !== 6 || b.some((x) => !Number.isFinite(x)) || b.every((x) => x === 0) || (b[0]! & 1) === 1;
}

/** A kernel oops/panic or a virtqueue error on the guest's serial console, or QEMU gone. */
export function guestFault(inst: QemuInstanceHandle): string | undefined {
  if (!inst.alive) return `QEMU ${inst.name} is gone: ${inst.logTail(5)}`;
  const line = inst
    .serial()
    .split('\n')
    .find((l) => /Kernel panic|BUG:|is not a head|general protection fault|double fault|Oops/.test(l));
  return line?.trim();
}

/** What every step of one live_migration testcase works with. */
interface MigrationRun {
  readonly ctx: MethodologyContext;
  readonly opts: MigrationOptions;
  readonly guest: MigratableVnf;
  readonly gen: TrafficGenerator & Required<Pick<TrafficGenerator, 'startContinuous'>>;
  readonly log: Logger;
  readonly spec: TrafficSpec;
  readonly frameSize: number;
  readonly directions: number;
  /** The deployment's ports (set A) and the destination ports added for the migration (set B): the guest ping-pongs between them. */
  readonly portsA: readonly GuestNic[];
  readonly portsB: readonly GuestNic[];
  /** Peer-to-peer: the guest's own plan (the other host each time) instead of set A/set B. */
  readonly plan?: MigrationPlan;
  /** Set B was prepared for its first device before the first migration (MIGRATION_PREPARE_PORTS): how long it took (ms). */
  readonly portsPreparedMs?: number;
}

/** One completed migration: its record and what results.json keeps beside it. */
interface Migrated {
  readonly record: MigrationRecord;
  readonly figures: MigrationFigures;
  readonly receiver: Record<string, unknown>;
  readonly trial: TrialRecord;
  readonly verdict: Verdict;
}

/** What one migration under traffic measured. */
interface UnderTraffic {
  readonly fig: MigrationFigures;
  readonly traffic: TrialResult;
  readonly trafficStopMs: number;
  /** The guest clock on the source before and the destination after (guest-clock verdict). */
  readonly clock: ClockAcross;
  /** Host conditions during the traffic (cpu-contention, co-located, …). */
  readonly conditions?: TrialConditions;
  /** Peer-to-peer: the fabric's relearn on the destination's uplink (ms). */
  readonly fabricRelearnMs?: number;
}

export const liveMigration: Methodology = async (ctx) => {
  const opts = migrationOptions(ctx.settings);
  const { guest, addMigrationPorts, gen } = prerequisites(ctx);
  const log = ctx.log.child('migration');
  const frameSize = frameSizes(ctx.settings)[0] ?? 64;
  // Peer-to-peer the guest brings its plan (a site per host); on one host the deployment adds set B.
  const plan = guest.migrationPlan?.(opts.peerPort ?? 4444);
  const spec = peerTraffic(ctx, migrationTraffic(ctx, opts, frameSize, log), plan, log);
  const portsA = guest.nics;
  const portsB = plan ? undefined : await addMigrationPorts!(portsA);
  if (portsB) log.info(portsB.summary);
  const run: MigrationRun = {
    ctx,
    opts,
    guest,
    gen,
    log,
    spec,
    frameSize,
    directions: spec.bidir ? 2 : 1,
    portsA,
    portsB: portsB?.nics ?? [],
    ...(plan ? { plan } : {}),
    ...(portsB?.preparedMs !== undefined ? { portsPreparedMs: Math.round(portsB.preparedMs) } : {}),
  };
  await guestSettling(run);
  const done: Migrated[] = [];
  try {
    for (let i = 0; i < opts.repeat; i++) done.push(await migrateUnderTraffic(run, i));
  } finally {
    if (portsB) await removePortsB(run, portsB);
    await plan?.release();
  }
  return migrationOutput(run, done);
};

/** A QEMU guest, a deployment that can move its ports, a generator with continuous traffic. */
function prerequisites(ctx: MethodologyContext): {
  guest: MigratableVnf;
  addMigrationPorts: ((nics: readonly GuestNic[]) => Promise<MigrationPorts>) | undefined;
  gen: MigrationRun['gen'];
} {
  const topo = ctx.topology;
  const guest = topo?.guests?.find(isMigratable) as MigratableVnf | undefined;
  if (!topo || !guest) throw new UsageError(`${ctx.testcase}: live_migration needs a deployment with a QEMU guest (Deployment pvp, VNF QemuDpdkVhostUser)`);
  if (!topo.addMigrationPorts && !guest.migrationPlan)
    throw new UsageError(`${ctx.testcase}: live_migration needs a vSwitch with a bridge and vhost-user ports to move the guest's ports (VSWITCH=OvsDpdkVhost)`);
  const gen = ctx.generator;
  if (!gen.capabilities().continuous || !gen.startContinuous)
    throw new CapabilityError(gen.name, 'continuous traffic', 'live_migration measures the data-plane outage on continuous traffic');
  return { guest, addMigrationPorts: topo.addMigrationPorts && ((nics) => topo.addMigrationPorts!(nics)), gen: gen as MigrationRun['gen'] };
}

/** Peer-to-peer: frames are addressed to the guest's MAC, so the fabric delivers them to the host the guest runs on. */
function peerTraffic(ctx: MethodologyContext, spec: TrafficSpec, plan: MigrationPlan | undefined, log: Logger): TrafficSpec {
  if (!plan?.ingressMac) return spec;
  if (spec.bidir) throw new UsageError(`${ctx.testcase}: MIGRATION_BIDIR is not supported peer-to-peer (the fabric delivers one direction to the guest's MAC)`);
  log.info(`traffic addressed to the guest's MAC ${plan.ingressMac}: the fabric delivers it to the host the guest runs on`);
  return { ...spec, stream: { ...spec.stream, l2: { ...spec.stream.l2, dstMac: plan.ingressMac } } };
}

/** TRAFFIC at MIGRATION_TRAFFIC_FPS (or the idle probe rate), MIGRATION_BIDIR, with the receiver's latency clock on. */
function migrationTraffic(ctx: MethodologyContext, opts: MigrationOptions, frameSize: number, log: Logger): TrafficSpec {
  const traffic = trafficFromSettings(ctx.settings, frameSize, { unit: 'fps' as const, value: opts.rateFps });
  // A Linux-bridge guest drops frames whose source MAC is zero or multicast (VSPERF's default l2 MACs
  // are 00:00:00:00:00:00); with bidir the reverse direction uses dstmac as source. Use valid,
  // locally administered MACs then, and say so.
  const l2 = traffic.stream.l2;
  const stream =
    badSourceMac(l2.srcMac) || (traffic.bidir && badSourceMac(l2.dstMac))
      ? { ...traffic.stream, l2: { srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02' } }
      : traffic.stream;
  if (stream !== traffic.stream) log.info(`TRAFFIC.l2 MACs ${l2.srcMac}/${l2.dstMac} cannot cross a guest bridge: using 02:00:00:00:00:01/02`);
  // MIGRATION_BIDIR (default false): one direction through the guest, or both (the outage is then the
  // longest gap of either direction, the loss is over both).
  // Latency on: the receiver's clock (per-frame latency, 1 ms bins) is what shows a delayed, not lost, frame.
  return { ...traffic, stream, bidir: opts.bidir, latency: true };
}

async function guestSettling({ ctx, opts }: MigrationRun): Promise<void> {
  if (opts.settleMs <= 0) return;
  ctx.events.emit('testcase:phase', { name: ctx.testcase, phase: `guest settling ${opts.settleMs / 1000} s` });
  await sleep(opts.settleMs, ctx.signal);
}

function onPortsA(run: MigrationRun, inst: QemuInstanceHandle): boolean {
  return inst.nics[0]?.socketPath === run.portsA[0]?.socketPath;
}

/** Migration i: destination QEMU on the other set of ports, migrate under traffic, switch over, check the guest, record. */
async function migrateUnderTraffic(run: MigrationRun, i: number): Promise<Migrated> {
  const { ctx, opts, guest } = run;
  const src = guest.current;
  const route = routeFrom(run, src);
  const n = i + 1;
  ctx.events.emit('testcase:phase', { name: ctx.testcase, phase: `migration ${n}/${opts.repeat} (${route.direction})` });
  const dst = await guest.startIncoming(route.nics, ctx.signal, undefined, { paused: opts.verifyRam });
  const startedAt = new Date().toISOString();
  const measured = await migrateWithTraffic(run, route, src, dst, n);
  guest.switchTo(dst);
  await src.stop();
  await dst.refreshSerial?.();
  checkGuestSurvived(measured.fig, dst, `${n}/${opts.repeat} (${route.direction})`);
  const at = {
    index: n,
    direction: route.direction,
    ...(route.hostPair ? { hostPair: route.hostPair } : {}),
    ...(measured.fabricRelearnMs !== undefined ? { fabricRelearnMs: measured.fabricRelearnMs } : {}),
  };
  return recordMigration(run, at, measured, startedAt);
}

/** Where the guest goes from `src`: the other set of ports on this host, or the plan's other host. */
function routeFrom(run: MigrationRun, src: QemuInstanceHandle): MigrationRoute {
  if (run.plan) return run.plan.next(src);
  return onPortsA(run, src) ? { nics: run.portsB, direction: 'A→B' } : { nics: run.portsA, direction: 'B→A' };
}

/** Continuous traffic: warm-up, the migration, cool-down, stop. On failure the destination goes and the source is made to run again. */
async function migrateWithTraffic(
  run: MigrationRun,
  route: MigrationRoute,
  src: QemuInstanceHandle,
  dst: QemuInstanceHandle,
  n: number,
): Promise<UnderTraffic> {
  const { ctx, opts, log } = run;
  let cont: ContinuousRun | undefined;
  let relearn: ((waitMs: number) => Promise<{ relearnMs?: number }>) | undefined;
  const endConditions = ctx.conditions?.start();
  try {
    cont = await run.gen.startContinuous(run.spec, ctx.signal);
    await sleep(opts.warmupMs, ctx.signal);
    // The warm-up's latency is the reference: later than 10 × its p99 counts as delayed.
    await cont.mark?.();
    const clockBefore = await readGuestClock(src, log, ctx.signal);
    relearn = await route.observeRelearn?.();
    const fig = await migrateOnce(src, dst, route.peer ? { ...opts, peer: route.peer } : opts, run.guest.workDir, log, ctx.signal);
    await sleep(opts.cooldownMs, ctx.signal);
    const trafficStopMs = Date.now();
    const traffic = await cont.stop();
    const conditions = endConditions?.();
    // The destination's clock only now, after the traffic window: read right after RESUME, the query ran
    // the guest's serial driver and clock daemon on its one vCPU (under TCG: code translated afresh)
    // while that vCPU was to resume forwarding, i.e. inside the outage being measured. The step
    // (after − before offsets) is the same a second later: the guest clock runs at the host's rate.
    const clock = clockAcrossMigration(clockBefore, await readGuestClock(dst, log, ctx.signal));
    const fabricRelearnMs = (await relearn?.(0))?.relearnMs;
    return { fig, traffic, trafficStopMs, clock, ...(conditions ? { conditions } : {}), ...(fabricRelearnMs !== undefined ? { fabricRelearnMs } : {}) };
  } catch (e) {
    endConditions?.(); // stops the sampler
    await relearn?.(0).catch(() => undefined);
    await cont?.stop().catch(() => undefined);
    await dst.stop().catch(() => undefined);
    const state = await ensureSourceRunning(src, log);
    log.warn(`migration ${n} failed: ${errorMessage(e)}; source guest ${src.name}: ${state}`);
    if (!(e instanceof MigrationError)) throw e;
    throw new MigrationError(e.phase, `${e.message.replace(/^live migration failed \([^)]*\): /, '')} (migration ${n}/${opts.repeat}; source guest ${state})`, {
      cause: e,
      ...(e.hint ? { hint: e.hint } : {}),
    });
  }
}

/** Did the guest survive the migration? Its RAM (MIGRATION_VERIFY_RAM) and its serial console. */
function checkGuestSurvived(fig: MigrationFigures, dst: QemuInstanceHandle, which: string): void {
  // QEMU < 9.0 under TCG lost guest writes during migration when the RAM block was a multiple of
  // 256 KiB: GUEST_TCG_RAM_PAD_KB (docs/migration.md).
  if (fig.ramDiff?.pages) {
    throw new MigrationError(
      'verify',
      `guest RAM differs between source and destination after migration ${which}: ${fig.ramDiff.pages} page(s) at ${fig.ramDiff.first.join(', ')}`,
      { hint: 'lost dirty tracking: under TCG keep GUEST_MEM_BACKEND=memfd and GUEST_TCG_RAM_PAD_KB > 0 (QEMU < 9.0; docs/migration.md)' },
    );
  }
  const bad = guestFault(dst);
  if (bad) {
    throw new MigrationError('verify', `the guest is broken after migration ${which}: ${bad}`, {
      hint: 'under TCG on QEMU < 9.0 keep GUEST_MEM_BACKEND=memfd and GUEST_TCG_RAM_PAD_KB > 0 (lost dirty tracking; docs/migration.md); MIGRATION_VERIFY_RAM=true compares the RAMs; serial log: VSPERF_GUEST_LOG_DIR',
    });
  }
}

/** The receiver's figures over the migration window, the record judged against the targets, the trial. */
function recordMigration(
  run: MigrationRun,
  at: { readonly index: number; readonly direction: string; readonly hostPair?: string; readonly fabricRelearnMs?: number },
  { fig, traffic, trafficStopMs, clock, conditions }: UnderTraffic,
  startedAt: string,
): Migrated {
  const { opts, log } = run;
  const seqGapMs = traffic.maxGapMs;
  const lost = traffic.lostFrames;
  const rx = receiverFigures(
    traffic.directions,
    { startMs: fig.startEpochMs, endMs: trafficStopMs },
    {
      ...(seqGapMs !== undefined ? { seqGapMs } : {}),
      lostFrames: lost,
      rateFps: opts.rateFps,
      binsBeforeMs: 300,
      switchover: { stopMs: fig.resumeEpochMs - fig.stopResumeMs, resumeMs: fig.resumeEpochMs },
    },
  );
  const outage = rx.outageMs;
  if (outage !== undefined && outageFromLoss(lost, opts.rateFps, run.directions) > outage + Math.max(50, outage))
    log.warn(
      `migration ${at.index}: ${lost} frames lost but the longest gap is only ${round(outage)} ms: traffic did not fully recover (tail loss) or the guest dropped frames`,
    );
  const rec = { ...migrationRecord(at, fig, traffic, rx, opts, run.directions), ...clock.fields };
  log.info(
    `migration ${at.index}/${opts.repeat} ${at.direction}: total ${rec.totalMs} ms, downtime ${rec.downtimeMs} ms, STOP→RESUME ${rec.stopResumeMs} ms, outage ${rec.dataplaneOutageMs ?? '?'} ms, lost ${lost} (= ${rec.outageFromLossMs} ms at ${opts.rateFps} fps) → ${rec.pass ? 'PASS' : `FAIL (${rec.failed.join('; ')})`}`,
  );
  const verdict = trialVerdict(
    {
      valid: !traffic.generatorLimited,
      ...(traffic.generatorLimited ? { invalidReason: 'generator-limited' } : {}),
      ...(conditions ? { conditions } : {}),
      guestClock: clock.evidence,
    },
    validityThresholds(run.ctx.settings),
  );
  for (const d of verdict.details) log.info(`migration ${at.index}: ${d}`);
  const trial: TrialRecord = {
    index: at.index - 1,
    frameSize: run.frameSize,
    purpose: `migration ${at.index} (${at.direction})`,
    rateFps: opts.rateFps,
    durationS: traffic.durationS,
    valid: !traffic.generatorLimited,
    ...(traffic.generatorLimited ? { invalidReason: 'generator-limited' } : {}),
    result: traffic,
    startedAt,
    validity: verdict.validity,
    validityReasons: verdict.reasons,
    validityDetails: verdict.details,
    ...(conditions ? { conditions } : {}),
  };
  return { record: rec, figures: fig, receiver: receiverEntry(fig, rx, trafficStopMs, traffic), trial, verdict };
}

/** Set A is the deployment's; set B goes unless the guest lives there now. */
async function removePortsB(run: MigrationRun, portsB: MigrationPorts): Promise<void> {
  const now = run.guest.current;
  if (!now.alive || !onPortsA(run, now)) return;
  await portsB.remove().catch((e) => run.log.warn(`removing the migration destination ports: ${errorMessage(e)}`));
}

/** Rows per migration and min/median/max, and the migration's details for results.json. */
function migrationOutput(run: MigrationRun, done: readonly Migrated[]): MethodologyOutput {
  const { opts, log } = run;
  const records = done.map((d) => d.record);
  const sum = summarize(records);
  const targets = targetsOf(opts);
  const allPass = records.every((r) => r.pass);
  log.info(
    `live migration ${opts.mode}: ${records.length} migration(s); median total ${sum.totalMs?.median} ms, downtime ${sum.downtimeMs?.median} ms, STOP→RESUME ${sum.stopResumeMs?.median} ms, outage ${sum.dataplaneOutageMs?.median ?? '?'} ms; targets total ≤ ${targets.totalMs} ms, downtime ≤ ${targets.downtimeMs} ms: ${allPass ? 'PASS' : 'FAIL'}`,
  );
  return {
    rows: migrationRows(
      records,
      sum,
      opts,
      run.frameSize,
      done.map((d) => d.verdict),
    ),
    trials: done.map((d) => d.trial),
    details: {
      migration: {
        mode: opts.mode,
        rateFps: opts.rateFps,
        directions: run.directions,
        capabilities: opts.capabilities,
        parameters: opts.parameters,
        transport: opts.transport,
        ...(run.portsPreparedMs !== undefined ? { destinationPortsPreparedMs: run.portsPreparedMs } : {}),
        targets,
        pass: allPass,
        records,
        summary: sum,
        timelines: done.map((d) => d.figures.timeline),
        // Receiver clock per migration, ms since the migration start: the silence and the 1 ms bins.
        receivers: done.map((d) => d.receiver),
        guest: run.guest.facts(),
      },
    },
  };
}
