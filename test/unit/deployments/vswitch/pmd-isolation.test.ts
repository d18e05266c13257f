import { expect } from 'chai';
import {
  affinityArgv,
  isPmdThread,
  nonPmdCpus,
  parseStatCpu,
  parseTaskStatus,
  parseTasksetList,
  placement,
  placementFact,
  processAffinityArgv,
} from '../../../../deployments/vswitch/pmd-isolation.js';

describe('keeping the switch off its PMD CPUs (pmd-isolation)', () => {
  it('leaves every online CPU the PMD mask does not name, and none when the PMDs take all', () => {
    expect(nonPmdCpus([0, 1], [1])).to.deep.equal([0]);
    expect(nonPmdCpus([0, 1, 2, 3, 4, 5], [2, 3])).to.deep.equal([0, 1, 4, 5]);
    expect(nonPmdCpus([0, 1], [0, 1])).to.deep.equal([]);
  });

  it('starts a daemon through taskset with the CPUs as a kernel CPU list', () => {
    expect(affinityArgv([0])).to.deep.equal(['taskset', '-c', '0']);
    expect(affinityArgv([0, 1, 4, 5, 7])).to.deep.equal(['taskset', '-c', '0-1,4-5,7']);
    expect(() => affinityArgv([])).to.throw(RangeError);
  });

  it('reads a thread name and its allowed CPUs from /proc status, and its last CPU from stat (a comm with spaces and parentheses)', () => {
    const status = 'Name:\tvhost-events\nUmask:\t0022\nState:\tS (sleeping)\nCpus_allowed:\t2\nCpus_allowed_list:\t1\n';
    expect(parseTaskStatus(status)).to.deep.equal({ comm: 'vhost-events', allowed: [1] });
    expect(parseTaskStatus('Name:\tmain\nCpus_allowed_list:\t0-2,5\n').allowed).to.deep.equal([0, 1, 2, 5]);
    // fields 3..52 after "(comm) ": field 39 (processor) is the 37th of them
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[36] = '1';
    expect(parseStatCpu(`4242 (pmd-c01/id:2 (x)) ${fields.join(' ')}`)).to.equal(1);
    expect(parseStatCpu('garbage')).to.equal(-1);
  });

  it('names the PMDs and every other thread allowed on a PMD CPU', () => {
    expect(isPmdThread('pmd-c01/id:2')).to.equal(true);
    expect(isPmdThread('pmd7')).to.equal(true);
    expect(isPmdThread('pmdx')).to.equal(false);
    const threads = [
      { tid: 10, comm: 'ovs-vswitchd', allowed: [0], lastCpu: 0 },
      { tid: 11, comm: 'pmd-c01/id:2', allowed: [1], lastCpu: 1 },
      { tid: 12, comm: 'vhost-events', allowed: [1], lastCpu: 1 },
      { tid: 13, comm: 'urcu1', allowed: [0, 1], lastCpu: 0 },
    ];
    const before = placement(threads, [1]);
    expect(before.pmd).to.deep.equal(['pmd-c01/id:2 on 1']);
    expect(before.others).to.equal(3);
    expect(before.othersCpus).to.deep.equal([0, 1]);
    expect(before.onPmdCpus).to.deep.equal(['vhost-events[12] may use 1', 'urcu1[13] may use 0-1']);
    expect(placementFact(before)).to.equal(
      'PMD pmd-c01/id:2 on 1; the other 3 threads on CPU 0-1; on a PMD CPU: vhost-events[12] may use 1, urcu1[13] may use 0-1',
    );
    const after = placement(
      threads.map((t) => (isPmdThread(t.comm) ? t : { ...t, allowed: [0] })),
      [1],
    );
    expect(after.onPmdCpus).to.deep.equal([]);
    expect(placementFact(after)).to.equal('PMD pmd-c01/id:2 on 1; the other 3 threads on CPU 0; none may run on a PMD CPU');
  });

  it("moves a whole process (every thread) and reads back taskset's list to restore it", () => {
    expect(processAffinityArgv(4242, [0, 2, 3])).to.deep.equal(['taskset', '-a', '-p', '-c', '0,2-3', '4242']);
    expect(() => processAffinityArgv(4242, [])).to.throw(RangeError);
    expect(parseTasksetList("pid 4242's current affinity list: 0,1\n")).to.deep.equal([0, 1]);
    expect(parseTasksetList("pid 4242's new affinity list: 0-2,5\n")).to.deep.equal([0, 1, 2, 5]);
    expect(() => parseTasksetList('taskset: failed to get pid 1 affinity')).to.throw(RangeError);
  });
});
