import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { startCollector, threadGroup, readStat, findPids, summarize } from '../../../../framework/collectors/proc-stat.js';

function gone(p: ChildProcess): Promise<void> {
  return new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));
}

describe('collectors/proc-stat', () => {
  it('samples a busy process higher than an idle one, by name and by pid', async function () {
    this.timeout(20_000);
    const busy = spawn(process.execPath, ['-e', 'for(;;){}'], { argv0: 'vsr-busy-proc' });
    const idle = spawn(process.execPath, ['-e', 'setTimeout(()=>{}, 60000)'], { argv0: 'vsr-idle-proc' });
    try {
      await new Promise((r) => setTimeout(r, 300));
      expect([...findPids(['vsr-busy-proc']).keys()]).to.deep.equal([busy.pid]);
      const c = startCollector(['vsr-busy-proc', idle.pid!], { intervalMs: 200 });
      await new Promise((r) => setTimeout(r, 1500));
      const res = await c.stop();
      expect(await c.stop()).to.equal(res);
      const b = res.summary.find((s) => s.pid === busy.pid)!;
      const i = res.summary.find((s) => s.pid === idle.pid)!;
      expect(b.name).to.equal('vsr-busy-proc');
      expect(b.samples).to.be.at.least(4);
      // The machine is shared: a spinning process gets at least some CPU, an idle one next to none.
      expect(b.avgPct).to.be.greaterThan(10);
      expect(i.avgPct).to.be.lessThan(5);
      expect(b.avgPct).to.be.greaterThan(i.avgPct + 5);
      expect(Object.keys(b.threads).length).to.be.at.least(1);
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
