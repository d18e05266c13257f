import { expect } from 'chai';
import { OvsSwitch } from '../../../../deployments/vswitch/ovs.js';
import { Settings } from '../../../../framework/config/settings.js';
import { silentLogger } from '../../../../framework/log/logger.js';
import type { Host } from '../../../../framework/host/host.js';
import type { HostOps } from '../../../../framework/host/host-ops.js';

/** other_config:* the DPDK OVS gets before it starts: the PMD's idle sleep only when asked for. */
function otherConfig(values: Record<string, unknown>): string[] {
  const ovs = new OvsSwitch({
    name: 'OvsDpdkVhost',
    dpdk: true,
    settings: new Settings({ VSWITCH_PMD_CPU_MASK: '1', ...values } as never),
    host: {} as Host,
    log: silentLogger,
    runDir: '/run/x',
    ops: {} as HostOps,
  });
  return ovs.otherConfig('', [0, 1]);
}

describe('OVS-DPDK other_config', () => {
  it('VSWITCH_PMD_MAXSLEEP_US > 0 lets the PMD sleep that long when idle (pmd-maxsleep); 0 or unset keeps it busy-polling', () => {
    expect(otherConfig({ VSWITCH_PMD_MAXSLEEP_US: 500 })).to.include('other_config:pmd-maxsleep=500');
    expect(otherConfig({ VSWITCH_PMD_MAXSLEEP_US: 0 }).some((x) => x.includes('pmd-maxsleep'))).to.equal(false);
    expect(otherConfig({}).some((x) => x.includes('pmd-maxsleep'))).to.equal(false);
  });
});
