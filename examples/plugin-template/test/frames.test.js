import { expect } from 'chai';
import { basicStream } from 'vsperf-ts';
import { buildFrame, MIN_FRAME, readTag, stamp } from '../frames.js';

describe('TemplateGen frames', () => {
  it('are Ethernet/IPv4/UDP of the stream, FCS left to the NIC, and carry trial, port and sequence', () => {
    const stream = basicStream({ frameSize: 128 });
    const f = buildFrame(stream);
    expect(f.length).to.equal(124);
    expect(f.subarray(0, 6).toString('hex')).to.equal('020000000002');
    expect(f.readUInt16BE(12)).to.equal(0x0800);
    expect(f.readUInt16BE(14 + 2)).to.equal(124 - 14);
    expect([...f.subarray(14 + 12, 14 + 20)]).to.deep.equal([10, 0, 0, 1, 10, 0, 0, 2]);
    stamp(f, 7, 1, 123456);
    expect(readTag(f)).to.deep.equal({ trial: 7, port: 1, seq: 123456 });
    f[14 + 20 + 8] ^= 0xff;
    expect(readTag(f), 'a frame without our magic is not ours').to.equal(undefined);
  });

  it('the smallest frame holding the tag is 64 bytes', () => {
    expect(MIN_FRAME).to.equal(64);
    expect(readTag(buildFrame(basicStream({ frameSize: 64 })))).to.not.equal(undefined);
  });
});
