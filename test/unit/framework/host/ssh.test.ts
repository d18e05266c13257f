import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { classifySshFailure, commandArgv, masterArgv, remoteCommand, shellQuote, type SshTarget } from '../../../../framework/host/ssh.js';
import { UsageError } from '../../../../framework/errors.js';

const T: SshTarget = { name: 'hostB', address: '10.0.0.3', user: 'root', keyFile: '/k/id', knownHosts: '/k/known_hosts' };

describe('ssh: argv and quoting', () => {
  it('re-quotes argv so the remote shell gives every word back unchanged (checked by a real sh)', () => {
    const words = ['plain', 'a b', "it's", '$(rm -rf /)', '`x`', '"q"', '\\', '*', '', 'ä\tb\nc', "''", '-n'];
    const r = spawnSync('sh', ['-c', `printf '%s\\0' ${remoteCommand(words)}`], { encoding: 'utf8' });
    expect(r.stdout.split('\0').slice(0, -1)).to.deep.equal(words);
  });

  it('refuses a NUL byte', () => {
    expect(() => shellQuote('a\0b')).to.throw(UsageError);
  });

  it('always checks host keys against the named file only, never prompts', () => {
    const a = commandArgv(T, ['true'], '/c/ctl');
    for (const o of [
      'BatchMode=yes',
      'StrictHostKeyChecking=yes',
      'UserKnownHostsFile=/k/known_hosts',
      'GlobalKnownHostsFile=/dev/null',
      'ControlPath=/c/ctl',
      'ControlMaster=no',
    ])
      expect(a).to.include(o);
    expect(a.slice(-3)).to.deep.equal(['10.0.0.3', '--', 'true']);
    expect(masterArgv(T, '/c/ctl')).to.include('ControlMaster=yes');
  });

  it('classifies ssh failures into one-line typed errors', () => {
    expect(classifySshFailure(T, 255, 'Host key verification failed.\n')?.code).to.equal('E_SSH_HOSTKEY');
    expect(classifySshFailure(T, 255, 'root@10.0.0.3: Permission denied (publickey).')?.code).to.equal('E_SSH_AUTH');
    expect(classifySshFailure(T, 255, 'ssh: connect to host 10.0.0.3 port 22: Connection refused')?.code).to.equal('E_SSH_CONNECT');
    expect(classifySshFailure(T, 255, 'weird')?.code).to.equal('E_SSH');
    expect(classifySshFailure(T, 1, 'Host key verification failed.'), 'the remote command failed, not ssh').to.equal(undefined);
    expect(classifySshFailure(T, 255, 'Host key verification failed.')!.brief()).to.not.contain('\n');
  });
});
