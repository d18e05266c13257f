import { expect } from 'chai';
import { rowEvidence } from '../../../../framework/runner/row-evidence.js';
import type { TrialRecord } from '../../../../framework/methodology/context.js';
import type { PortStats } from '../../../../framework/api/deployment.js';

const port = (name: string, o: Partial<PortStats>): PortStats => ({
  name,
  ofport: 0,
  rxPackets: 0,
  txPackets: 0,
  rxDropped: 0,
  txDropped: 0,
  rxPolicerDropped: 0,
  txPolicerDropped: 0,
  ...o,
});
function trial(ports: PortStats[], tx: number, achieved: number, extra?: Record<string, unknown>): TrialRecord {
  return {
    index: 1,
    frameSize: 64,
    purpose: 'continuous',
    rateFps: 352614,
    requestedFps: 1488095,
    valid: true,
    startedAt: '',
    result: { txFrames: tx, achievedTxFps: achieved },
    switchCounters: {
      vswitch: 'OvsDpdkVhost',
      ports,
      generatorPorts: [
        { index: 0, port: 'dpdk0', rxFromGenerator: 0, txToGenerator: 0 },
        { index: 1, port: 'dpdk1', rxFromGenerator: 0, txToGenerator: 0 },
      ],
      ...(extra ? { extra } : {}),
    },
  } as unknown as TrialRecord;
}

describe('row evidence (what a row’s trial showed of the sandbox)', () => {
  it('ovsdpdk_qos_pvp: an egress policer on the way into a full TCG guest did not lower what came back', () => {
    // counters measured 12:35 UTC: vhostuserclient0 tx 879921, tx_dropped 7349898 of which its policer 3153253
    const t = trial(
      [
        port('dpdk0', { rxPackets: 8229819, rxDropped: 447288 }),
        port('dpdk1', { txPackets: 879910 }),
        port('dpdkvhostuserclient0', { txPackets: 879921, txDropped: 7349898, txPolicerDropped: 3153253 }),
        port('dpdkvhostuserclient1', { rxPackets: 879910 }),
      ],
      8677107,
      289237,
      { pmdSched: [{ thread: 'pmd-c01/id:8', onCpuPct: 48.2, waitingPct: 51.3 }] },
    );
    expect(rowEvidence({ packet_size: 64 }, [t], true)).to.deep.equal({
      frameSize: 64,
      requestedFps: 1488095,
      offeredFps: 289237,
      txFrames: 8677107,
      policerDrops: 0,
      vnfDrops: 7349898 - 3153253,
    });
  });

  it('ovsdpdk_rate_pvp: an ingress policer on the guest’s way back counts, though the guest was full', () => {
    const t = trial(
      [
        port('dpdk0', { rxPackets: 8333195, rxDropped: 2245224 }),
        port('dpdk1', { txPackets: 835557 }),
        port('dpdkvhostuserclient0', { txPackets: 1324789, txDropped: 7008406 }),
        port('dpdkvhostuserclient1', { rxPackets: 1324255, rxDropped: 488698, rxPolicerDropped: 464069 }),
      ],
      10578419,
      352493,
    );
    expect(rowEvidence({ packet_size: 64 }, [t], true)).to.deep.include({ policerDrops: 464069, vnfDrops: 7008406 });
    // a search's rows (trials at several rates) give no evidence
    expect(rowEvidence({ packet_size: 64 }, [t, { ...t, rateFps: 1000 }], true)).to.equal(undefined);
  });

  it('without a guest, frames the switch could not send on its own ports (tunnel, patch) are no VNF shortfall', () => {
    const t = trial(
      [port('dpdk0', { rxPackets: 1000000 }), port('dpdk1', { txPackets: 400000 }), port('vxlan0', { txPackets: 400000, txDropped: 600000 })],
      1000000,
      400000,
    );
    expect(rowEvidence({ packet_size: 64 }, [t], false)).to.not.have.property('vnfDrops');
    expect(rowEvidence({ packet_size: 64 }, [t], true)).to.deep.include({ vnfDrops: 600000 });
  });
});
