/**
 * Redis restarted empty under sv-discover: a private redis-server is SIGKILLed (nothing saved) and
 * a new one starts on the same port. The registry is rebuilt from the nodes' heartbeats
 * (`known: false` → re-add every connection), and delivery across nodes works again without
 * restarting any service. Sends keep being acked throughout (the log does not need Redis).
 */
import assert from 'node:assert/strict';
import { startPrivateRedis, type PrivateRedis } from '@chat/shared/testing/private-redis';
import { eventually } from '@chat/shared/testing/eventually';
import { startMesh, uniqueUser } from '../helpers/mesh.ts';
import { meshSuite } from '../helpers/mesh-suite.ts';
import { ackRecorder, expectStoredExactlyOnce } from '../helpers/stored.ts';

const NODE = { LEASE_MS: '2000', RATE_LIMIT_BURST: '1000' };

describe('faults: Redis restarted empty', function () {
  this.timeout(90_000);
  let redis: PrivateRedis;
  const suite = meshSuite(async () => {
    redis = await startPrivateRedis();
    return startMesh({ nodes: [NODE, NODE], redisUrl: redis.url });
  });
  const { connect } = suite;

  it('rebuilds the registry from heartbeats and delivers across nodes again, restarting nothing', async () => {
    const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
    const alice = await connect(0, a);
    const bob = await connect(1, b);
    const { acked, send } = ackRecorder();
    const before = await send(alice, a, b, 'r-0');
    await bob.next('message', (m) => m.id === before.id);

    // Load runs through the restart: every send is acked (the message log does not need Redis).
    let running = true;
    const load = (async () => {
      for (let k = 1; running; k++) await send(alice, a, b, `load-${k}`);
    })();
    await redis.kill();
    await eventually('discovery notices Redis is gone', async () => {
      try {
        await suite.probe.nodesOf(b);
        return false;
      } catch {
        return true;
      }
    });
    await redis.start();
    await eventually('the registry is rebuilt from heartbeats', async () =>
      (await suite.probe.nodesOf(a)).join() === 'node-0' && (await suite.probe.nodesOf(b)).join() === 'node-1');
    running = false;
    await load;
    assert.ok(acked.length > 2, 'load ran during the restart');

    const there = await send(alice, a, b, 'r-after-1');
    assert.equal((await bob.next('message', (m) => m.id === there.id)).body, 'r-after-1 body');
    const back = await send(bob, b, a, 'r-after-2');
    assert.equal((await alice.next('message', (m) => m.id === back.id)).body, 'r-after-2 body');
    for (const p of [...suite.mesh.nodes, suite.mesh.discover, suite.mesh.persist]) assert.equal(p.child.exitCode, null, `${p.name} kept running`);
    await expectStoredExactlyOnce(suite.mesh.databaseUrl, acked);
  });
});
