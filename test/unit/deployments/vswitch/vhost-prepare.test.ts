import { expect } from 'chai';
import { primerArgv, primerCpu } from '../../../../deployments/vswitch/vhost-prepare.js';
import { prepareMigrationPorts } from '../../../../deployments/topologies/migration-ports.js';
import { Settings } from '../../../../framework/config/settings.js';
import { ConfigError } from '../../../../framework/errors.js';

describe('vhost-user port preparation (pure parts)', () => {
  it('the primer is a receive-only testpmd with one virtio-user frontend per socket, server for client-mode ports', () => {
    const argv = primerArgv(['/r/vhu0m', '/r/vhu1m'], 0, 'vsprime-1-1');
    expect(argv[0]).to.equal('dpdk-testpmd');
    expect(argv).to.include('--lcores=0@0,1@0');
    expect(argv).to.include.members(['--in-memory', '--single-file-segments', '--no-pci']);
    expect(argv.slice(argv.indexOf('--file-prefix'), argv.indexOf('--file-prefix') + 2)).to.deep.equal(['--file-prefix', 'vsprime-1-1']);
    expect(argv.filter((a) => a.startsWith('--vdev='))).to.deep.equal([
      '--vdev=net_virtio_user0,path=/r/vhu0m,server=1,queues=1,queue_size=256',
      '--vdev=net_virtio_user1,path=/r/vhu1m,server=1,queues=1,queue_size=256',
    ]);
    // Receives only: the primer must never put frames into the switch.
    expect(argv.slice(argv.indexOf('--'))).to.include('--forward-mode=rxonly');
    expect(primerArgv(['/r/s'], 3, 'p', false).find((a) => a.startsWith('--vdev='))).to.match(/server=0/);
    expect(() => primerArgv([], 0, 'p')).to.throw(/no sockets/);
  });

  it('the primer runs on a CPU that is not a PMD core when there is one', () => {
    expect(primerCpu([0, 1], [1])).to.equal(0);
    expect(primerCpu([0, 1, 2, 3], [0, 1])).to.equal(2);
    expect(primerCpu([0], [0])).to.equal(0);
    expect(() => primerCpu([], [])).to.throw(/no online CPU/);
  });

  it('MIGRATION_PREPARE_PORTS: on by default, false turns it off, anything else is a ConfigError naming the key', () => {
    expect(prepareMigrationPorts(new Settings({}))).to.equal(true);
    expect(prepareMigrationPorts(new Settings({ MIGRATION_PREPARE_PORTS: false }))).to.equal(false);
    expect(prepareMigrationPorts(new Settings({ MIGRATION_PREPARE_PORTS: 'False' }))).to.equal(false);
    expect(() => prepareMigrationPorts(new Settings({ MIGRATION_PREPARE_PORTS: 'maybe' }))).to.throw(ConfigError, /MIGRATION_PREPARE_PORTS/);
  });
});
