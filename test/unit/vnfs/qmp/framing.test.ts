import { expect } from 'chai';
import { LineSplitter } from '../../../../vnfs/qmp/framing.js';
import { parseMessage } from '../../../../vnfs/qmp/message.js';
import { QmpProtocolError } from '../../../../vnfs/qmp/errors.js';
import { VsperfError } from '../../../../framework/errors.js';

describe('vnfs/qmp framing and messages', () => {
  it('splits lines across chunks, including a multi-byte character cut in half', () => {
    const s = new LineSplitter(1024);
    const all = Buffer.from('{"return": {"a": "é"}}\r\n\n{"event": "STOP"', 'utf8');
    const cut = all.indexOf(Buffer.from('é')) + 1; // in the middle of the 2-byte sequence
    expect(s.push(all.subarray(0, cut))).to.deep.equal([]);
    expect(s.push(all.subarray(cut))).to.deep.equal(['{"return": {"a": "é"}}']);
    expect(s.buffered).to.equal(Buffer.byteLength('{"event": "STOP"'));
    expect(s.push(Buffer.from(', "x": 1}\n'))).to.deep.equal(['{"event": "STOP", "x": 1}']);
    expect(s.buffered).to.equal(0);
  });

  it('rejects a line over the maximum size, terminated or not', () => {
    const s = new LineSplitter(16);
    expect(() => s.push(Buffer.from('x'.repeat(17)))).to.throw(QmpProtocolError, /longer than 16 bytes/);
    const t = new LineSplitter(16);
    t.push(Buffer.from('x'.repeat(10)));
    expect(() => t.push(Buffer.from('y'.repeat(10) + '\n'))).to.throw(QmpProtocolError);
    const u = new LineSplitter(16);
    expect(u.push(Buffer.from('x'.repeat(16) + '\n'))).to.have.length(1);
  });

  it('classifies greeting, return, error and event', () => {
    const g = parseMessage('{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian"}, "capabilities": ["oob"]}}');
    expect(g).to.deep.include({ kind: 'greeting', capabilities: ['oob'] });
    expect(parseMessage('{"return": {"status": "running"}, "id": "vsperf-3"}')).to.deep.equal({ kind: 'return', id: 'vsperf-3', value: { status: 'running' } });
    const e = parseMessage('{"error": {"class": "GenericError", "desc": "nope"}, "id": "vsperf-4"}');
    expect(e).to.deep.include({ kind: 'error', id: 'vsperf-4', errorClass: 'GenericError', desc: 'nope' });
    const ev = parseMessage('{"event": "STOP", "timestamp": {"seconds": 1795615923, "microseconds": 802833}}');
    expect(ev).to.deep.equal({ kind: 'event', event: 'STOP', data: {}, qemuTsUs: 1795615923802833 });
  });

  it('raises QmpProtocolError (a VsperfError) for garbage and unknown shapes', () => {
    for (const bad of ['garbage', '[1,2]', '{"foo": 1}', '{"event": "STOP"}', '{"error": "x"}', '{"QMP": {}}']) {
      let err: unknown;
      try {
        parseMessage(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).to.be.instanceOf(QmpProtocolError);
      expect(err).to.be.instanceOf(VsperfError);
      expect((err as QmpProtocolError).code).to.equal('E_QMP_PROTOCOL');
    }
  });
});
