import { expect } from 'chai';
import { parseReply, pingLine, requestLine, MAX_COMMAND_BYTES } from '../../../../vnfs/qemu/guest-command.js';
import { UsageError } from '../../../../framework/errors.js';

describe('vnfs/qemu guest command protocol (pure)', () => {
  it('frames a command as one base64 line the guest decodes back byte for byte', () => {
    const cmd = 'echo "a b" | wc -c; printf \'\\n\'; é';
    const line = requestLine('c1', 1500.2, cmd);
    expect(line.endsWith('\n')).to.equal(true);
    const [op, id, ms, b64, ...rest] = line.trimEnd().split(' ');
    expect([op, id, ms, rest.length]).to.deep.equal(['R', 'c1', '1501', 0]);
    expect(Buffer.from(b64!, 'base64').toString('utf8')).to.equal(cmd);
    expect(pingLine('p-9')).to.equal('P p-9\n');
  });

  it('rejects what the guest cannot take, with a UsageError', () => {
    expect(() => requestLine('c1', 1000, '')).to.throw(UsageError, /empty/);
    expect(() => requestLine('c1', 1000, 'a\0b')).to.throw(UsageError, /NUL/);
    expect(() => requestLine('c1', 1000, 'x'.repeat(MAX_COMMAND_BYTES + 1))).to.throw(UsageError, /at most/);
    expect(() => requestLine('c 1', 1000, 'true')).to.throw(UsageError, /id/);
    expect(() => requestLine('c1', 0, 'true')).to.throw(UsageError, /positive/);
    expect(() => requestLine('c1', NaN, 'true')).to.throw(UsageError, /positive/);
  });

  it('parses the guest replies and nothing else', () => {
    expect(parseReply('A c1 vsperf-cmdd 1')).to.deep.equal({ kind: 'hello', id: 'c1' });
    const o = parseReply('O c1 aGkK');
    expect(o?.kind === 'output' && o.data.toString()).to.equal('hi\n');
    expect(parseReply('X c1 exit 127 0')).to.deep.equal({ kind: 'end', id: 'c1', how: 'exit', n: 127, truncated: false });
    expect(parseReply('X c1 timeout 0 1\r')).to.deep.equal({ kind: 'end', id: 'c1', how: 'timeout', n: 0, truncated: true });
    for (const noise of [
      '',
      'hello',
      'O c1 not*base64',
      'O c1 aGk',
      'X c1 exit -1 0',
      'X c1 exit 1',
      'X c1 quit 0 0',
      'A c1 other 1',
      'X c/1 exit 0 0',
      'O c1 aGkK extra',
    ])
      expect(parseReply(noise), JSON.stringify(noise)).to.equal(undefined);
  });
});
