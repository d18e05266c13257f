/**
 * A run killed with SIGKILL leaves OVS daemons, netns, veths, the bridge tap, the hugepage mount and a
 * raised nr_hugepages behind; the next run's janitor removes all of it, guided by the journal only.
 */
import { expect } from 'chai';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { runJanitor } from '../../../framework/host/janitor.js';
import { Journal } from '../../../framework/host/journal.js';
import { startHolder } from '../../helpers/holder.js';
import { leftovers, NOTHING, STATE_DIR, type Scope } from './helpers.js';

describe('deployments: SIGKILL of the process holding a deployment, then the janitor (integration)', function () {
  this.timeout(120_000);

  it('leaves nothing of ours after the janitor ran', async () => {
    const holder = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, 'holder.js');
    const { child, info } = await startHolder<{ netns: string; workDir: string; bridge: string }>(
      holder,
      [JSON.stringify({ VSWITCH: 'OvsDpdkVhost' }), 'vsd-crash-run', 'p2p'],
      60_000,
    );
    const scope: Scope = { tags: [info.netns.replace(/^vsd-/, '')], dirs: [info.workDir] };
    const during = await leftovers(scope);
    expect(during.processes.length, 'ovsdb-server + ovs-vswitchd running').to.equal(2);
    // Generator ends in vsd-<tag>, switch ends, bridge tap and ovs-netdev in vsd-<tag>-sw: nothing in the root netns.
    expect(during.netns.sort()).to.deep.equal([info.netns, `${info.netns}-sw`]);
    expect(during.links).to.deep.equal([]);
    expect(during.mounts).to.have.length(1); // private hugetlbfs

    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await new Promise((r) => setTimeout(r, 300));
    const orphaned = await leftovers(scope);
    expect(orphaned.processes.length, 'daemons survive their parent (own process groups)').to.equal(2);

    const released = await runJanitor({ dir: join(STATE_DIR, 'journal') });
    expect(released).to.be.greaterThan(5);
    rmSync(info.workDir, { recursive: true, force: true });
    const after = await leftovers(scope);
    expect(after, JSON.stringify(after)).to.deep.equal(NOTHING);
    // The journal (incl. a raised nr_hugepages) was worked off completely.
    expect(Journal.list(join(STATE_DIR, 'journal')).filter((p) => p.includes('vsd-crash-run'))).to.deep.equal([]);
  });
});
