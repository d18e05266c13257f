import { expect } from 'chai';
import { captureArgv, firstTimestampMs, relearnFigures } from '../../../../vnfs/migration/relearn.js';

// What `tcpdump -nn -e -tt -l` prints (stderr's "listening on" line included, as the ssh channel mixes them).
const RARP = `tcpdump: verbose output suppressed, use -v[v]... for full protocol decode
listening on fab0, link-type EN10MB (Ethernet), snapshot length 262144 bytes
1765075031.123456 52:54:00:00:00:00 > ff:ff:ff:ff:ff:ff, ethertype Reverse ARP (0x8035), length 60: Reverse Request who-is 52:54:00:00:00:00 tell 52:54:00:00:00:00, length 46
1 packet captured`;
const FRAME = `listening on fab0, link-type EN10MB (Ethernet), snapshot length 262144 bytes
1765075031.124890 02:00:00:00:00:01 > 52:54:00:00:00:00, ethertype IPv4 (0x0800), length 60: 1.1.1.1.1 > 2.2.2.2.2: UDP, length 18`;

describe('fabric relearn from two tcpdump captures', () => {
  it('reads the epoch of the first frame line (ms, microsecond resolution)', () => {
    expect(firstTimestampMs(RARP)).to.be.closeTo(1765075031123.456, 1e-6);
    expect(firstTimestampMs('listening on fab0\n')).to.equal(undefined);
  });

  it('relearn = first frame in − first RARP out; absent when either capture saw nothing', () => {
    expect(relearnFigures(RARP, FRAME).relearnMs).to.be.closeTo(1.434, 1e-3);
    expect(relearnFigures(RARP, 'listening on fab0')).to.deep.equal({ rarpEpochMs: firstTimestampMs(RARP) });
    expect(relearnFigures('', '')).to.deep.equal({});
  });

  it('one frame per capture, on the uplink, the filter as one argv word', () => {
    const argv = captureArgv('fab0', 'ether dst 52:54:00:00:00:00', 'in');
    expect(argv.slice(0, 3)).to.deep.equal(['tcpdump', '-i', 'fab0']);
    expect(argv).to.include.members(['-c', '1', '-tt', '-Q', 'in']);
    expect(argv[argv.length - 1]).to.equal('ether dst 52:54:00:00:00:00');
  });
});
