import { expect } from 'chai';
import { ConfigError } from '../../../../framework/errors.js';
import { parseTestbedHosts } from '../../../../framework/host/testbed-hosts.js';

const ok = { name: 'hostB', address: '10.0.0.3', user: 'root', key_file: '/k/id', known_hosts: '/k/kh', roles: ['dut', 'migration-target'] };

describe('TESTBED_HOSTS', () => {
  it('parses hosts with defaults (port 22, role dut)', () => {
    const [h] = parseTestbedHosts(
      [{ ...ok, roles: undefined as never }].map(({ roles: _r, ...x }) => x),
      'test',
    );
    expect(h).to.deep.equal({ name: 'hostB', address: '10.0.0.3', port: 22, user: 'root', keyFile: '/k/id', knownHosts: '/k/kh', roles: ['dut'] });
  });

  for (const [what, bad, field] of [
    ['an address that ssh would read as an option', { ...ok, address: '-oProxyCommand=touch /tmp/x' }, 'address'],
    ['a user that ssh would read as an option', { ...ok, user: '-oX' }, 'user'],
    ['a relative known_hosts', { ...ok, known_hosts: 'kh' }, 'known_hosts'],
    ['an unknown role', { ...ok, roles: ['dut', 'boss'] }, 'roles'],
    ['a port out of range', { ...ok, port: 70000 }, 'port'],
    ['an unknown field', { ...ok, password: 'x' }, 'password'],
    ['an uplink that is not an interface or PCI address', { ...ok, uplink: '-oX' }, 'uplink'],
    ['a migration address ssh-option-like', { ...ok, migration_address: '-x' }, 'migration_address'],
    ['a tgshim that is a string, not argv', { ...ok, tgshim: 'vsperf-tgshim --listen 0.0.0.0:1' }, 'tgshim'],
    ['an empty tgshim', { ...ok, tgshim: [] }, 'tgshim'],
  ] as const) {
    it(`refuses ${what} with one line naming the field`, () => {
      let err: unknown;
      try {
        parseTestbedHosts([bad as never], 'test');
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as ConfigError).key).to.equal(`TESTBED_HOSTS[0].${field}`);
      expect((err as ConfigError).brief()).to.not.contain('\n');
    });
  }

  it('keeps the uplink (interface or PCI address) and the migration address', () => {
    const [a, b] = parseTestbedHosts(
      [
        { ...ok, uplink: 'ens1f0', migration_address: '198.51.100.12' },
        { ...ok, name: 'hostC', uplink: '0000:3b:00.0' },
      ],
      'test',
    );
    expect(a).to.include({ uplink: 'ens1f0', migrationAddress: '198.51.100.12' });
    expect(b).to.include({ uplink: '0000:3b:00.0' });
    expect(b).to.not.have.property('migrationAddress');
  });

  it('refuses a name used twice and a non-list', () => {
    expect(() => parseTestbedHosts([ok, ok], 'test')).to.throw(ConfigError, /named twice/);
    expect(() => parseTestbedHosts({} as never, 'test')).to.throw(ConfigError, /list/);
  });
});
