import { expect } from 'chai';
import type { DriverContext } from '../../../../framework/api/driver.js';
import { DriverError } from '../../../../framework/errors.js';
import { CleanupStack } from '../../../../framework/runner/cleanup-stack.js';
import { silentLogger } from '../../../../framework/log/logger.js';
import { ReleaseStack } from '../../../../deployments/topologies/release-stack.js';
import { rejection } from '../../../helpers/rejection.js';

/** Only what ReleaseStack touches of a driver context: the run's cleanup stack and the log. */
function ctx(cleanup: CleanupStack): DriverContext {
  return { host: { cleanup }, log: silentLogger } as unknown as DriverContext;
}

describe('deployments ReleaseStack (shared teardown of pxp and pvp_peer)', () => {
  it('releases newest first, every step even after a failure, failures in one DriverError line, once', async () => {
    const order: string[] = [];
    const r = new ReleaseStack('pvp_peer', ctx(new CleanupStack()));
    r.defer('first', async () => void order.push('first'));
    r.defer('broken', async () => {
      order.push('broken');
      throw new Error('ssh gone');
    });
    r.defer('last', async () => void order.push('last'));
    const e = await rejection(r.unwind());
    expect(order).to.deep.equal(['last', 'broken', 'first']);
    expect(e).to.be.instanceOf(DriverError);
    expect((e as DriverError).brief()).to.equal('E_DRIVER: pvp_peer teardown: broken: ssh gone');
    await r.unwind();
    expect(order, 'a second unwind does nothing').to.have.length(3);
  });

  it('guard: a setup that succeeds puts the teardown on the run cleanup stack; one that fails tears down at once and rethrows', async () => {
    const cleanup = new CleanupStack();
    const ok = new ReleaseStack('pvp', ctx(cleanup));
    let released = 0;
    expect(
      await ok.guard(async () => {
        ok.defer('x', async () => void released++);
        return 42;
      }),
    ).to.equal(42);
    expect(cleanup.labels()).to.deep.equal(['teardown pvp']);
    await cleanup.unwind();
    expect(released).to.equal(1);

    const cleanup2 = new CleanupStack();
    const bad = new ReleaseStack('pvp', ctx(cleanup2));
    const err = await rejection(
      bad.guard(async () => {
        bad.defer('y', async () => void released++);
        throw new Error('boot failed');
      }),
    );
    expect(err.message).to.equal('boot failed');
    expect(released).to.equal(2);
    expect(cleanup2.size).to.equal(0);
  });
});
