import { expect } from 'chai';
import { runtimeSettings } from '../../../../framework/runner/steps-testcase.js';
import type { VSwitch } from '../../../../framework/api/deployment.js';

describe('TestSteps: settings the running vSwitch provides (TOOLS, _OVSDPDK_VSWITCH_LOG)', () => {
  it("TOOLS holds the tools' command lines for the private instance, quoted for a shell; the log is the daemon's", () => {
    const vs = {
      runDir: '/tmp/vsd-ovs-x',
      toolArgv: (t: string) => (t === 'ovs-vsctl' ? ['ovs-vsctl', '--db=unix:/tmp/vsd ovs/db.sock'] : [t]),
      logFile: () => '/tmp/vsd-ovs-x/ovs-vswitchd.log',
    } as unknown as VSwitch;
    expect(runtimeSettings(vs)).to.deep.equal({
      TOOLS: { 'ovs-vsctl': "ovs-vsctl '--db=unix:/tmp/vsd ovs/db.sock'", 'ovs-ofctl': 'ovs-ofctl', 'ovs-appctl': 'ovs-appctl', ovs_var_tmp: '/tmp/vsd-ovs-x' },
      _OVSDPDK_VSWITCH_LOG: '/tmp/vsd-ovs-x/ovs-vswitchd.log',
    });
  });

  it('without a vSwitch TOOLS is empty (a $TOOLS key then fails the step with what is missing)', () => {
    expect(runtimeSettings(undefined)).to.deep.equal({ TOOLS: {} });
  });
});
