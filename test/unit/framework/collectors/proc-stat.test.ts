import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { clockTicks, startCollector, threadGroup, readStat, findPids, summarize } from '../../../../framework/collectors/proc-stat.js';

function gone(p: ChildProcess): Promise<void> {
  return new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));
}

/** Polls `cond` every 50 ms; fails the test after 15 s. */
async function until(cond: () => boolean): Promise<void> {
  const end = Date.now() + 15_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met within 15 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('collectors/proc-stat', () => {
  // Load-proof: how much CPU the spinning process gets depends on the shared machine, so its figure is held
  // against its own utime+stime over the same window (an independent reading), not against a fixed share;
  // the idle process is `sleep`, which uses no CPU once it runs, whatever the load.
  it('samples a busy process higher than an idle one, by name and by pid, and its CPU time matches /proc', async function () {
    this.timeout(30_000);
    const busy = spawn(process.execPath, ['-e', 'for(;;){}'], { argv0: 'vsr-busy-proc' });
    const idle = spawn('sleep', ['60']);
    try {
      await until(() => readStat(`/proc/${idle.pid}`)?.comm === 'sleep' && (readStat(`/proc/${busy.pid}`)?.ticks ?? 0) > 0);
      expect([...findPids(['vsr-busy-proc']).keys()]).to.deep.equal([busy.pid]);
      const before = readStat(`/proc/${busy.pid}`)!.ticks;
      const c = startCollector(['vsr-busy-proc', idle.pid!], { intervalMs: 200 });
      await until(() => c.samples.filter((s) => s.pid === busy.pid).length >= 4);
      const res = await c.stop();
      const after = readStat(`/proc/${busy.pid}`)!.ticks;
      expect(await c.stop()).to.equal(res);
      const b = res.summary.find((s) => s.pid === busy.pid)!;
      const i = res.summary.find((s) => s.pid === idle.pid)!;
      expect(b.name).to.equal('vsr-busy-proc');
      expect(b.samples).to.be.at.least(4);
      expect(i.avgPct).to.be.lessThan(2);
      expect(b.avgPct).to.be.greaterThan(i.avgPct);
      expect(Object.keys(b.threads).length).to.be.at.least(1);
      // The samples' CPU seconds (percent × interval) add up to what the kernel charged the process.
      let lastMs = 0;
      let sampledS = 0;
      for (const s of res.samples.filter((x) => x.pid === busy.pid)) {
        sampledS += (s.cpuPct / 100) * ((s.tMs - lastMs) / 1000);
        lastMs = s.tMs;
      }
      const chargedS = (after - before) / clockTicks();
      expect(chargedS).to.be.greaterThan(0);
      expect(sampledS).to.be.closeTo(chargedS, 0.2 * chargedS + 3 / clockTicks());
    } finally {
      busy.kill('SIGKILL');
      idle.kill('SIGKILL');
      await Promise.all([gone(busy), gone(idle)]);
    }
  });

  it('a process that exits mid-collection just stops producing samples', async () => {
    const p = spawn('sleep', ['0.3']);
    const c = startCollector([p.pid!], { intervalMs: 100 });
    await gone(p);
    await new Promise((r) => setTimeout(r, 300));
    const res = await c.stop();
    expect(res.samples.every((s) => s.pid === p.pid)).to.equal(true);
  });

  it('groups OVS PMD threads and numbered threads', () => {
    expect(threadGroup('pmd-c01/id:7')).to.equal('pmd');
    expect(threadGroup('CPU 0/TCG')).to.equal('CPU');
    expect(threadGroup('urcu3')).to.equal('urcu');
    expect(threadGroup('ovs-vswitchd')).to.equal('ovs-vswitchd');
    expect(readStat(`/proc/${process.pid}`)!.ticks).to.be.a('number');
    expect(readStat('/proc/999999999')).to.equal(undefined);
    expect(summarize([])).to.deep.equal([]);
  });
});
