import { expect } from 'chai';
import { withOpenFlow14 } from '../../../../deployments/vswitch/ovs.js';

// The policer drops are in OpenFlow 1.4's port statistics: the dump-ports read keeps the user's
// OVS_OFCTL_ARGS (other options, their protocol list) and only allows 1.4 besides.
describe('withOpenFlow14 (ovs-ofctl arguments for the dump-ports read)', () => {
  it('adds OpenFlow14 to the protocol list, in every spelling', () => {
    expect(withOpenFlow14(['-O', 'OpenFlow13'])).to.deep.equal(['-O', 'OpenFlow13,OpenFlow14']);
    expect(withOpenFlow14(['--strict', '-O', 'OpenFlow13', '--names'])).to.deep.equal(['--strict', '-O', 'OpenFlow13,OpenFlow14', '--names']);
    expect(withOpenFlow14(['-OOpenFlow13'])).to.deep.equal(['-OOpenFlow13,OpenFlow14']);
    expect(withOpenFlow14(['--protocols=OpenFlow10'])).to.deep.equal(['--protocols=OpenFlow10,OpenFlow14']);
    expect(withOpenFlow14(['--protocols', 'OpenFlow12'])).to.deep.equal(['--protocols', 'OpenFlow12,OpenFlow14']);
  });

  it('leaves a list that already allows 1.4 or 1.5 as it is', () => {
    expect(withOpenFlow14(['-O', 'OpenFlow13,OpenFlow14'])).to.deep.equal(['-O', 'OpenFlow13,OpenFlow14']);
    expect(withOpenFlow14(['-O', 'OpenFlow15'])).to.deep.equal(['-O', 'OpenFlow15']);
  });

  it('without a protocol option asks for 1.3 and 1.4, keeping the other arguments', () => {
    expect(withOpenFlow14([])).to.deep.equal(['-O', 'OpenFlow13,OpenFlow14']);
    expect(withOpenFlow14(['--names'])).to.deep.equal(['-O', 'OpenFlow13,OpenFlow14', '--names']);
  });

  it('does not change its input', () => {
    const args = ['-O', 'OpenFlow13'];
    withOpenFlow14(args);
    expect(args).to.deep.equal(['-O', 'OpenFlow13']);
  });
});
