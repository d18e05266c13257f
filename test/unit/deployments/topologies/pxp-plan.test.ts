import { expect } from 'chai';
import { UsageError } from '../../../../framework/errors.js';
import { connectionTraffic, flowText } from '../../../../deployments/flows.js';
import { guestNicCounts, pxpPlan, pxpShape } from '../../../../deployments/topologies/pxp-plan.js';

const T = connectionTraffic({ stream_type: 'L4', l4: { dstport: 3001 }, l3: { proto: 'udp', dstip: '90.90.90.90' } });
const text = (p: ReturnType<typeof pxpPlan>) => p.flows.map((f) => flowText(f));

describe('deployments/topologies/pxp-plan', () => {
  it('deployment names → guests and topology (VSPERF PXP)', () => {
    expect(pxpShape('pvp', [])).to.deep.equal({ topology: 'serial', vms: 1 });
    expect(pxpShape('pvvp', [])).to.deep.equal({ topology: 'serial', vms: 2 });
    expect(pxpShape('pvvp10', [])).to.deep.equal({ topology: 'serial', vms: 10 });
    expect(pxpShape('pvpv', [])).to.deep.equal({ topology: 'parallel', vms: 2 });
    expect(pxpShape('pvpv4', [])).to.deep.equal({ topology: 'parallel', vms: 4 });
    expect(pxpShape('pxp', [2, 4, 2])).to.deep.equal({ topology: 'serial', vms: 3 });
    expect(() => pxpShape('pvxp', [])).to.throw(UsageError);
    expect(() => pxpShape('pvvp0', [])).to.throw(UsageError);
  });

  it('NIC counts: 1 or an even number, last GUEST_NICS_NR entry repeats', () => {
    expect(guestNicCounts(3, [2, 5])).to.deep.equal([2, 4, 4]);
    expect(guestNicCounts(2, [1])).to.deep.equal([1, 1]);
    expect(() => guestNicCounts(1, [0])).to.throw(UsageError);
  });

  it('pvp: phy1 → vm eth0, vm eth1 → phy2 and back', () => {
    const p = pxpPlan({ topology: 'serial', vms: 1 }, [2], T);
    expect(p.vmPorts).to.deep.equal([[3, 4]]);
    expect(text(p)).to.deep.equal(['in_port=1,actions=output:3', 'in_port=3,actions=output:1', 'in_port=4,actions=output:2', 'in_port=2,actions=output:4']);
    expect(p.trafficOverrides).to.equal(undefined);
  });

  it('pvvp with [2, 4] NICs: PHY1 → VM1_1 → VM1_2 → VM2_1 → VM2_2 → VM2_3 → VM2_4 → PHY2 (seed example)', () => {
    const p = pxpPlan({ topology: 'serial', vms: 2 }, [2, 4], T);
    expect(p.vmPorts).to.deep.equal([
      [3, 4],
      [5, 6, 7, 8],
    ]);
    const f = text(p);
    for (const want of [
      'in_port=1,actions=output:3',
      'in_port=4,actions=output:5',
      'in_port=6,actions=output:7',
      'in_port=8,actions=output:2',
      'in_port=2,actions=output:8',
      'in_port=7,actions=output:6',
      'in_port=5,actions=output:4',
      'in_port=3,actions=output:1',
    ]) {
      expect(f).to.include(want);
    }
    expect(f).to.have.length(8);
  });

  it('pvpv: one stream per NIC pair, dispatched by L4 dst port, multistream override for the generator', () => {
    const p = pxpPlan({ topology: 'parallel', vms: 2 }, [2, 2], T);
    const f = text(p);
    expect(f).to.include('in_port=1,dl_type=0x0800,nw_proto=17,tp_dst=3001,actions=output:3');
    expect(f).to.include('in_port=1,dl_type=0x0800,nw_proto=17,tp_dst=3002,actions=output:5');
    expect(f).to.include('in_port=2,dl_type=0x0800,nw_proto=17,tp_dst=3002,actions=output:6');
    expect(f).to.include('in_port=4,actions=output:2');
    expect(f).to.include('in_port=5,actions=output:1');
    expect(p.trafficOverrides).to.deep.equal({ multistream: 2, stream_type: 'L4' });
  });

  it('pvpv1 with one NIC: the single NIC talks to both physical ports', () => {
    const p = pxpPlan({ topology: 'parallel', vms: 1 }, [1], T);
    expect(text(p)).to.include('in_port=3,actions=output:2');
    expect(text(p)).to.include('in_port=3,actions=output:1');
  });
});
