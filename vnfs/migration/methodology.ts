/**
 * traffic_type `live_migration` (testcases pvp_live_migration, pvp_live_migration_idle): the pvp guest
 * is migrated MIGRATION_REPEAT times between two QEMU instances on this host (ping-pong between the
 * deployment's vhost ports and a second set added here), each time under continuous traffic from the
 * generator (MIGRATION_TRAFFIC_FPS through the forwarding guest, or only a MIGRATION_PROBE_FPS probe for
 * the idle variant). Per migration: QEMU total/setup/downtime, STOP(src)→RESUME(dst) from QMP event
 * timestamps, data-plane outage (longest gap in the received sequence) and lost frames at the offered
 * rate, RAM transferred; min/median/max over the repeats; pass/fail against MIGRATION_TARGET_*.
 */
import type { Methodology, TrialRecord } from '../../framework/methodology/context.js';
import type { ResultRow } from '../../framework/methodology/types.js';
import { frameSizes, trafficFromSettings } from '../../framework/methodology/traffic-spec.js';
import { CapabilityError, UsageError, errorMessage } from '../../framework/errors.js';
import { sleep } from '../../framework/host/proc.js';
import type { ContinuousRun, TrialResult } from '../../framework/api/trafficgen.js';
import { isMigratable, type GuestNic, type MigratableVnf, type QemuInstanceHandle } from '../types.js';
import { followFlows } from './flows.js';
import { migrateOnce, ensureSourceRunning, type MigrationFigures } from './migrate.js';
import { migrationOptions } from './options.js';
import { checkTargets, round, summarize, type MigrationRecord } from './summary.js';
import { MigrationError } from './errors.js';
import { receiverFigures } from './receiver.js';

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

export const liveMigration: Methodology = async (ctx) => {
  const opts = migrationOptions(ctx.settings);
  const topo = ctx.topology;
  const guest = topo?.guests?.find(isMigratable) as MigratableVnf | undefined;
  if (!topo || !guest) throw new UsageError(`${ctx.testcase}: live_migration needs a deployment with a QEMU guest (Deployment pvp, VNF QemuDpdkVhostUser)`);
  const { vswitch, bridge } = topo;
  if (!vswitch || !bridge) throw new UsageError(`${ctx.testcase}: live_migration needs a vSwitch with a bridge (VSWITCH=OvsDpdkVhost)`);
  const gen = ctx.generator;
  if (!gen.capabilities().continuous || !gen.startContinuous)
    throw new CapabilityError(gen.name, 'continuous traffic', 'live_migration measures the data-plane outage on continuous traffic');
  const nicsA = guest.nics;
  if (nicsA.some((n) => n.ofport === undefined))
    throw new UsageError(`${ctx.testcase}: the deployment did not report the guest's vhost ofports (GuestNic.ofport)`);
  const log = ctx.log.child('migration');
  const frameSize = frameSizes(ctx.settings)[0] ?? 64;
  const traffic0 = trafficFromSettings(ctx.settings, frameSize, { unit: 'fps' as const, value: opts.rateFps });
  // A Linux-bridge guest drops frames whose source MAC is zero or multicast (VSPERF's default l2 MACs
  // are 00:00:00:00:00:00); with bidir the reverse direction uses dstmac as source. Use valid,
  // locally administered MACs then, and say so.
  const l2 = traffic0.stream.l2;
  const stream =
    badSourceMac(l2.srcMac) || (traffic0.bidir && badSourceMac(l2.dstMac))
      ? { ...traffic0.stream, l2: { srcMac: '02:00:00:00:00:01', dstMac: '02:00:00:00:00:02' } }
      : traffic0.stream;
  if (stream !== traffic0.stream) log.info(`TRAFFIC.l2 MACs ${l2.srcMac}/${l2.dstMac} cannot cross a guest bridge: using 02:00:00:00:00:01/02`);
  // MIGRATION_BIDIR (default false): one direction through the guest, or both (the outage is then the
  // longest gap of either direction, the loss is over both).
  // Latency on: the receiver's clock (per-frame latency, 1 ms bins) is what shows a delayed, not lost, frame.
  const spec = { ...traffic0, stream, bidir: opts.bidir, latency: true };
  const directions = spec.bidir ? 2 : 1;

  // Second set of vhost ports for the destination, and flows that follow the guest.
  const stats = await vswitch.portStats(bridge);
  let nextOf = Math.max(0, ...stats.map((p) => p.ofport).filter((x) => Number.isFinite(x) && x < 0xff00)) + 1;
  const nicsB: GuestNic[] = [];
  for (const [k, n] of nicsA.entries()) {
    const sp = await vswitch.addVhostPort(bridge, `${n.portName ?? `vhu${k}`}m`, nextOf++);
    nicsB.push({ socketPath: sp.socketPath!, portName: sp.name, ofport: sp.ofport, ...(n.mac ? { mac: n.mac } : {}) });
  }
  const pairs = new Map<string, number>();
  nicsA.forEach((n, k) => {
    pairs.set(String(n.ofport), nicsB[k]!.ofport!);
    if (n.portName) pairs.set(n.portName, nicsB[k]!.ofport!);
  });
  const before = await vswitch.dumpFlows(bridge);
  const follow = followFlows(before, pairs);
  if (vswitch.addFlows)
    await vswitch.addFlows(
      bridge,
      follow.map((flow) => ({ type: 'raw' as const, flow })),
    );
  else for (const flow of follow) await vswitch.addFlow(bridge, { type: 'raw', flow });
  log.info(`destination ports ${nicsB.map((n) => `${n.portName}(${n.ofport})`).join(', ')}; ${follow.length} flow(s) now also reach them`);

  if (opts.settleMs > 0) {
    ctx.events.emit('testcase:phase', { name: ctx.testcase, phase: `guest settling ${opts.settleMs / 1000} s` });
    await sleep(opts.settleMs, ctx.signal);
  }
  const records: MigrationRecord[] = [];
  const figures: MigrationFigures[] = [];
  const receivers: Record<string, unknown>[] = [];
  const trials: TrialRecord[] = [];
  const onA = (inst: QemuInstanceHandle): boolean => inst.nics[0]?.socketPath === nicsA[0]?.socketPath;
  try {
    for (let i = 0; i < opts.repeat; i++) {
      const src = guest.current;
      const dstNics = onA(src) ? nicsB : nicsA;
      const direction = onA(src) ? 'A→B' : 'B→A';
      ctx.events.emit('testcase:phase', { name: ctx.testcase, phase: `migration ${i + 1}/${opts.repeat} (${direction})` });
      const dst = await guest.startIncoming(dstNics, ctx.signal, undefined, { paused: opts.verifyRam });
      const startedAt = new Date().toISOString();
      let run: ContinuousRun | undefined;
      let fig: MigrationFigures;
      let traffic: TrialResult;
      let trafficStopMs = 0;
      try {
        run = await gen.startContinuous(spec, ctx.signal);
        await sleep(opts.warmupMs, ctx.signal);
        // The warm-up's latency is the reference: later than 10 × its p99 counts as delayed.
        await run.mark?.();
        fig = await migrateOnce(src, dst, opts, guest.workDir, log, ctx.signal);
        await sleep(opts.cooldownMs, ctx.signal);
        trafficStopMs = Date.now();
        traffic = await run.stop();
        run = undefined;
      } catch (e) {
        await run?.stop().catch(() => undefined);
        await dst.stop().catch(() => undefined);
        const state = await ensureSourceRunning(src, log);
        log.warn(`migration ${i + 1} failed: ${errorMessage(e)}; source guest ${src.name}: ${state}`);
        if (e instanceof MigrationError)
          throw new MigrationError(
            e.phase,
            `${e.message.replace(/^live migration failed \([^)]*\): /, '')} (migration ${i + 1}/${opts.repeat}; source guest ${state})`,
            { cause: e, ...(e.hint ? { hint: e.hint } : {}) },
          );
        throw e;
      }
      guest.switchTo(dst);
      await src.stop();
      // Did the guest survive? (QEMU < 9.0 under TCG lost guest writes during migration when the RAM
      // block was a multiple of 256 KiB: GUEST_TCG_RAM_PAD_KB; README, "Guests, QMP and live migration".)
      if (fig.ramDiff?.pages) {
        throw new MigrationError(
          'verify',
          `guest RAM differs between source and destination after migration ${i + 1}/${opts.repeat} (${direction}): ${fig.ramDiff.pages} page(s) at ${fig.ramDiff.first.join(', ')}`,
          {
            hint: 'lost dirty tracking: under TCG keep GUEST_MEM_BACKEND=memfd and GUEST_TCG_RAM_PAD_KB > 0 (QEMU < 9.0; README, "Guests, QMP and live migration")',
          },
        );
      }
      const bad = guestFault(dst);
      if (bad) {
        throw new MigrationError('verify', `the guest is broken after migration ${i + 1}/${opts.repeat} (${direction}): ${bad}`, {
          hint: 'under TCG on QEMU < 9.0 keep GUEST_MEM_BACKEND=memfd and GUEST_TCG_RAM_PAD_KB > 0 (lost dirty tracking; README, "Guests, QMP and live migration"); MIGRATION_VERIFY_RAM=true compares the RAMs; serial log: VSPERF_GUEST_LOG_DIR',
        });
      }
      const seqGapMs = traffic.maxGapMs;
      const lost = traffic.lostFrames;
      const rx = receiverFigures(
        traffic.directions,
        { startMs: fig.startEpochMs, endMs: trafficStopMs },
        { ...(seqGapMs !== undefined ? { seqGapMs } : {}), lostFrames: lost, rateFps: opts.rateFps, binsBeforeMs: 300 },
      );
      const outage = rx.outageMs;
      const unexplained = outage !== undefined && (lost / (opts.rateFps * directions)) * 1000 > outage + Math.max(50, outage);
      if (unexplained)
        log.warn(
          `migration ${i + 1}: ${lost} frames lost but the longest gap is only ${round(outage!)} ms: traffic did not fully recover (tail loss) or the guest dropped frames`,
        );
      const rec0 = {
        index: i + 1,
        direction,
        totalMs: fig.totalMs,
        setupMs: fig.setupMs,
        downtimeMs: fig.downtimeMs,
        stopResumeMs: round(fig.stopResumeMs),
        ...(outage !== undefined ? { dataplaneOutageMs: round(outage) } : {}),
        ...(seqGapMs !== undefined ? { seqGapMs: round(seqGapMs) } : {}),
        ...(rx.rxGapMs !== undefined ? { rxGapMs: round(rx.rxGapMs) } : {}),
        ...(rx.maxLatencyMs !== undefined ? { migrationMaxLatencyMs: round(rx.maxLatencyMs) } : {}),
        ...(rx.delayedFrames !== undefined ? { delayedFrames: rx.delayedFrames } : {}),
        outageKind: rx.outageKind,
        lostFrames: lost,
        outageFromLossMs: round((lost / (opts.rateFps * directions)) * 1000),
        ramTransferredBytes: fig.ramTransferredBytes,
        wallMs: round(fig.wallMs),
        ...(fig.ramDiff ? { ramDiffPages: fig.ramDiff.pages } : {}),
      };
      const failed = checkTargets(rec0, { totalMs: opts.targetTotalMs, downtimeMs: opts.targetDowntimeMs });
      const rec: MigrationRecord = { ...rec0, pass: failed.length === 0, failed };
      records.push(rec);
      figures.push(fig);
      receivers.push({
        ...(rx.rxGap ? { rxGaps: [{ startMs: round(rx.rxGap.startMs - fig.startEpochMs), endMs: round(rx.rxGap.endMs - fig.startEpochMs) }] } : {}),
        ...(rx.bins
          ? {
              rxTimeline: {
                startMs: round(rx.bins.startMs - fig.startEpochMs),
                binMs: rx.bins.binMs,
                rxFrames: rx.bins.rxFrames,
                maxLatencyMs: rx.bins.maxLatencyMs,
              },
            }
          : {}),
        resumeMs: round(fig.resumeEpochMs - fig.startEpochMs),
        // The window on the host clock, for an observer outside (a capture): start and traffic stop.
        startEpochMs: fig.startEpochMs,
        trafficStopEpochMs: trafficStopMs,
        ...(traffic.info?.runTag !== undefined ? { runTag: traffic.info.runTag } : {}),
      });
      trials.push({
        index: i,
        frameSize,
        purpose: `migration ${i + 1} (${direction})`,
        rateFps: opts.rateFps,
        durationS: traffic.durationS,
        valid: !traffic.generatorLimited,
        ...(traffic.generatorLimited ? { invalidReason: 'generator-limited' } : {}),
        result: traffic,
        startedAt,
      });
      log.info(
        `migration ${i + 1}/${opts.repeat} ${direction}: total ${rec.totalMs} ms, downtime ${rec.downtimeMs} ms, STOP→RESUME ${rec.stopResumeMs} ms, outage ${rec.dataplaneOutageMs ?? '?'} ms, lost ${lost} (= ${rec.outageFromLossMs} ms at ${opts.rateFps} fps) → ${rec.pass ? 'PASS' : `FAIL (${failed.join('; ')})`}`,
      );
    }
  } finally {
    // The deployment owns set A; set B goes unless the guest lives there now.
    if (guest.current.alive && onA(guest.current))
      for (const n of nicsB) await vswitch.delPort(bridge, n.portName!).catch((e) => log.warn(`del-port ${n.portName}: ${errorMessage(e)}`));
  }

  const sum = summarize(records);
  const targets = { totalMs: opts.targetTotalMs, downtimeMs: opts.targetDowntimeMs };
  const base: ResultRow = {
    type: 'live_migration',
    packet_size: frameSize,
    traffic_type: 'live_migration',
    migration_mode: opts.mode,
    tx_rate_fps: opts.rateFps,
    migration_target_total_ms: opts.targetTotalMs,
    migration_target_downtime_ms: opts.targetDowntimeMs,
  };
  const row = (id: string, r: Partial<Record<string, number | undefined>>, pass: boolean, failed: readonly string[]): ResultRow => {
    const out: ResultRow = { ...base, id };
    const put = (col: string, v: number | undefined): void => {
      if (v !== undefined && Number.isFinite(v)) out[col] = round(v);
    };
    put('migration_total_ms', r.totalMs);
    put('migration_setup_ms', r.setupMs);
    put('migration_downtime_ms', r.downtimeMs);
    put('migration_stop_resume_ms', r.stopResumeMs);
    put('dataplane_outage_ms', r.dataplaneOutageMs);
    put('rx_gap_ms', r.rxGapMs);
    put('migration_max_latency_ms', r.migrationMaxLatencyMs);
    put('delayed_frames', r.delayedFrames);
    put('migration_lost_frames', r.lostFrames);
    put('outage_from_loss_ms', r.outageFromLossMs);
    put('migration_ram_transferred_bytes', r.ramTransferredBytes);
    out.migration_pass = pass;
    if (failed.length) out.migration_fail_reason = failed.join('; ');
    return out;
  };
  const rows: ResultRow[] = records.map((r) => ({
    ...row(`migration_${r.index}`, r as unknown as Record<string, number>, r.pass, r.failed),
    ...(r.outageKind ? { outage_kind: r.outageKind } : {}),
  }));
  for (const which of ['min', 'median', 'max'] as const) {
    const vals = Object.fromEntries(Object.entries(sum).map(([k, s]) => [k, s![which]]));
    const failed = checkTargets(
      {
        totalMs: vals.totalMs ?? 0,
        downtimeMs: vals.downtimeMs ?? 0,
        ...(vals.dataplaneOutageMs !== undefined ? { dataplaneOutageMs: vals.dataplaneOutageMs } : {}),
      },
      targets,
    );
    rows.push(row(which, vals, failed.length === 0, failed));
  }
  const allPass = records.every((r) => r.pass);
  log.info(
    `live migration ${opts.mode}: ${records.length} migration(s); median total ${sum.totalMs?.median} ms, downtime ${sum.downtimeMs?.median} ms, STOP→RESUME ${sum.stopResumeMs?.median} ms, outage ${sum.dataplaneOutageMs?.median ?? '?'} ms; targets total ≤ ${targets.totalMs} ms, downtime ≤ ${targets.downtimeMs} ms: ${allPass ? 'PASS' : 'FAIL'}`,
  );
  return {
    rows,
    trials,
    details: {
      migration: {
        mode: opts.mode,
        rateFps: opts.rateFps,
        directions,
        capabilities: opts.capabilities,
        parameters: opts.parameters,
        transport: opts.transport,
        targets,
        pass: allPass,
        records,
        summary: sum,
        timelines: figures.map((f) => f.timeline),
        // Receiver clock per migration, ms since the migration start: the silence and the 1 ms bins.
        receivers,
        guest: guest.facts(),
      },
    },
  };
};
