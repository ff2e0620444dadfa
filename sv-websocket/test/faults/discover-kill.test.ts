/**
 * SIGKILL of sv-discover, with its registry in memory (it comes back empty) and on Redis (it comes
 * back to the same data). Meanwhile nodes deliver locally and, between nodes, from their lookup
 * cache; sends are acked. sv-discover restarts on the same port and the nodes re-register on their
 * next heartbeat, with no restart of anything else.
 */
import assert from 'node:assert/strict';
import { startService } from '@chat/shared/testing/processes';
import { startTestRedis } from '@chat/shared/testing/redis';
import { eventually } from '@chat/shared/testing/eventually';
import { startMesh, uniqueUser } from '../helpers/mesh.ts';
import { meshSuite } from '../helpers/mesh-suite.ts';
import { ackRecorder, expectStoredExactlyOnce } from '../helpers/stored.ts';

const LOOKUP_CACHE_MS = 200;
const NODE = { LEASE_MS: '2000', LOOKUP_CACHE_MS: String(LOOKUP_CACHE_MS) };

for (const engine of ['memory', 'redis'] as const) {
  describe(`faults: SIGKILL of sv-discover (${engine} registry)`, function () {
    this.timeout(90_000);
    const suite = meshSuite(async () => {
      const redisUrl = engine === 'redis' ? await startTestRedis() : undefined;
      return startMesh({ nodes: [NODE, NODE], ...(redisUrl && { redisUrl }) });
    });
    const { connect } = suite;

    it('keeps delivering locally and from the lookup cache, and heals when sv-discover returns on its port', async () => {
      const [a, b, c, d] = ['alice', 'bob', 'carol', 'dave'].map(uniqueUser) as [string, string, string, string];
      const alice = await connect(0, a);
      const carol = await connect(0, c);
      const bob = await connect(1, b);
      const { acked, send } = ackRecorder();
      // Warm both caches: node-0 learns where bob is, node-1 where alice is.
      let ack = await send(alice, a, b, 'warm-1');
      await bob.next('message', (m) => m.id === ack.id);
      ack = await send(bob, b, a, 'warm-2');
      await alice.next('message', (m) => m.id === ack.id);

      const old = suite.mesh.discovers[0]!;
      await old.stop('SIGKILL');
      assert.equal(old.child.signalCode, 'SIGKILL');
      // The outage must outlast the cache's freshness, so the next lookups meet a dead sv-discover.
      await new Promise((r) => setTimeout(r, 2 * LOOKUP_CACHE_MS));

      ack = await send(alice, a, c, 'out-local');
      assert.equal((await carol.next('message', (m) => m.id === ack.id)).body, 'out-local body', 'local delivery');
      ack = await send(alice, a, b, 'out-cached');
      assert.equal((await bob.next('message', (m) => m.id === ack.id)).body, 'out-cached body', 'cross-node from the expired cache entry');
      // A user who connects during the outage is welcomed; discovery learns of them later.
      const dave = await connect(1, d);

      const restarted = await startService('sv-discover', { ...suite.mesh.discoverEnv(), PORT: String(old.port) });
      suite.mesh.discovers[0] = restarted;
      await eventually('discovery knows every connection again', async () => {
        const [na, nb, nc, nd] = await Promise.all([a, b, c, d].map((u) => suite.probe.nodesOf(u)));
        return na!.join() === 'node-0' && nb!.join() === 'node-1' && nc!.join() === 'node-0' && nd!.join() === 'node-1';
      });
      if (engine === 'memory') {
        // An empty registry answered `known: false` to each node's heartbeat, which re-added its entries.
        for (const node of ['node-0', 'node-1']) {
          assert.ok(restarted.logs.some((l) => l.includes('node lease created') && l.includes(`"nodeId":"${node}"`)), `${node} took a new lease`);
        }
      }
      ack = await send(alice, a, d, 'after-1');
      assert.equal((await dave.next('message', (m) => m.id === ack.id)).body, 'after-1 body', 'cross-node to a user who joined during the outage');
      ack = await send(dave, d, c, 'after-2');
      assert.equal((await carol.next('message', (m) => m.id === ack.id)).body, 'after-2 body');
      await expectStoredExactlyOnce(suite.mesh.databaseUrl, acked);
    });
  });
}
