/**
 * Peer-to-peer live migration through SSH on the two-host sandbox: the source QEMU runs on hostA, the
 * destination on hostB with `-incoming`, both started and driven over SSH (QMP forwarded through the
 * connection); the stream crosses the sandbox network to hostB's address. The bytes hostB's interface
 * received are the independent observer of the transfer QEMU reports.
 */
import { expect } from 'chai';
import type { RemoteHost } from '../../../framework/host/remote-host.js';
import { withTwoHosts } from './fixture.js';
import { silentLogger } from '../../../framework/log/logger.js';
import { RemoteQemu } from '../../../vnfs/qemu/remote-qemu.js';
import type { DriverError } from '../../../framework/errors.js';
import { migrateOnce } from '../../../vnfs/migration/migrate.js';
import type { MigrationOptions } from '../../../vnfs/migration/options.js';

// A guest without disk or NIC: SeaBIOS keeps it running, which is all a migration of 64 MiB needs.
const QEMU = ['qemu-system-x86_64', '-machine', 'pc', '-accel', 'tcg', '-m', '64', '-display', 'none', '-nic', 'none', '-serial', 'none', '-monitor', 'none'];

async function rxBytes(h: RemoteHost): Promise<number> {
  return Number((await h.exec(['cat', '/sys/class/net/mgmt0/statistics/rx_bytes'])).stdout.trim());
}

describe('peer-to-peer live migration between two SSH hosts (integration)', function () {
  this.timeout(90_000);

  it('migrates a running guest from hostA to hostB over tcp, figures match the wire', async () => {
    await withTwoHosts('vs2-peer', async ({ tag, sb, remotes: [a, b] }) => {
      const hb = sb.hosts[1]!;
      const src = await RemoteQemu.start(a, { name: 'src', argv: QEMU, remoteDir: `/tmp/vs2-${tag}-qa`, localDir: sb.dir, log: silentLogger });
      const dst = await RemoteQemu.start(b, {
        name: 'dst',
        argv: [...QEMU, '-incoming', 'defer'],
        remoteDir: `/tmp/vs2-${tag}-qb`,
        localDir: sb.dir,
        log: silentLogger,
      });
      const opts: MigrationOptions = {
        transport: 'tcp',
        capabilities: { events: true },
        parameters: { 'max-bandwidth': 1024 * 1024 * 1024 },
        pollMs: 50,
        timeoutMs: 60_000,
        repeat: 1,
        warmupMs: 0,
        cooldownMs: 0,
        rateFps: 0,
        mode: 'idle',
        targetTotalMs: 0,
        targetDowntimeMs: 0,
        settleMs: 0,
        bidir: false,
        verifyRam: false,
        peer: { address: hb.address, port: 4444 },
      };
      const before = await rxBytes(b);
      const fig = await migrateOnce(src, dst, opts, sb.dir, silentLogger);
      const received = (await rxBytes(b)) - before;
      expect(fig.status).to.equal('completed');
      // 64 MiB of mostly zero pages: QEMU sends those as flags, so well under a MiB crosses the wire.
      expect(fig.ramTransferredBytes).to.be.greaterThan(100_000);
      if (process.env.VSPERF_TEST_FIGURES) process.stdout.write(`peer migration: ${JSON.stringify({ ...fig, timeline: undefined, wireRxBytes: received })}\n`);
      // Every RAM byte QEMU counts crossed hostB's interface (plus TCP/IP and SSH overhead, bounded).
      expect(received).to.be.at.least(fig.ramTransferredBytes);
      expect(received).to.be.below(fig.ramTransferredBytes * 1.2 + 2_000_000);
      expect(fig.stopResumeMs).to.be.greaterThan(0);
      expect((await dst.qmp.queryStatus()).status).to.equal('running');
      expect((await src.qmp.queryStatus()).status).to.equal('postmigrate');
      await src.stop();
      await dst.stop();
    });
  });

  it('a remote QEMU that dies is reported at once, in one line naming the host (the run fails on it)', async () => {
    await withTwoHosts('vs2-qdie', async ({ tag, sb, remotes: [a] }) => {
      const q = await RemoteQemu.start(a, { name: 'vm', argv: QEMU, remoteDir: `/tmp/vs2-${tag}-qd`, localDir: sb.dir, log: silentLogger });
      const died = new Promise<DriverError>((resolve) => (q.onUnexpectedExit = resolve));
      // Same machine: the sandbox host's QEMU is a process here; kill it as a crash would.
      process.kill(q.pid, 'SIGKILL');
      const e = await died;
      expect(e.code).to.equal('E_DRIVER');
      expect(e.brief()).to.not.contain('\n');
      expect(e.message).to.match(/QEMU vm on hostA \(pid \d+\) or its ssh channel ended unexpectedly \((code \d+|SIG\w+)\)/);
      await q.stop();
    });
  });
});
