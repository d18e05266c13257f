import { expect } from 'chai';
import { isIpv4, isIpv4WithPrefix, isMac } from '../../../../framework/util/net-address.js';

describe('address syntax checks', () => {
  it('IPv4: four parts of 0..255', () => {
    for (const ok of ['0.0.0.0', '1.1.1.1', '255.255.255.255', '192.168.240.10']) expect(isIpv4(ok), ok).to.equal(true);
    for (const bad of ['256.1.1.1', '1.1.1', '1.1.1.1.1', '1.1.1.a', '', ' 1.1.1.1', '1.1.1.1/24']) expect(isIpv4(bad), bad).to.equal(false);
  });

  it('IPv4 with a prefix length: required, refused or optional', () => {
    expect(isIpv4WithPrefix('10.0.0.0/16', true)).to.equal(true);
    expect(isIpv4WithPrefix('10.0.0.0', true)).to.equal(false);
    expect(isIpv4WithPrefix('10.0.0.0/16', false)).to.equal(false);
    expect(isIpv4WithPrefix('10.0.0.1', false)).to.equal(true);
    expect(isIpv4WithPrefix('10.0.0.1', 'optional')).to.equal(true);
    expect(isIpv4WithPrefix('10.0.0.0/32', 'optional')).to.equal(true);
    for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/1/2', '10.0.0.0/x', '300.0.0.0/8']) expect(isIpv4WithPrefix(bad, 'optional'), bad).to.equal(false);
  });

  it('MAC: six hex pairs separated by colons', () => {
    for (const ok of ['02:00:00:00:00:01', 'AA:bb:CC:dd:EE:ff']) expect(isMac(ok), ok).to.equal(true);
    for (const bad of ['02:00:00:00:00', '02-00-00-00-00-01', '02:00:00:00:00:0g', '0200.0000.0001', '']) expect(isMac(bad), bad).to.equal(false);
  });
});
