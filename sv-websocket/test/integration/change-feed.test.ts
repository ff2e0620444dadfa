/**
 * Discovery's change feed: nodes keep lookup answers for long (LOOKUP_CACHE_PUSHED_MS, ten minutes
 * here) and still deliver live to a connection the recipient opens elsewhere afterwards, because
 * discovery pushes the new connection. With Redis, the push crosses sv-discover instances.
 */
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { ROUTES } from '@chat/shared/internal-api';
import { internalAuthHeaders } from '@chat/shared/internal-auth';
import { eventually } from '@chat/shared/testing/eventually';
import { startRegistryMesh, TEST_SECRET, uniqueUser } from '../helpers/mesh.ts';
import { meshSuite } from '../helpers/mesh-suite.ts';
import { metricValue } from '../helpers/faults.ts';

/** The HTTP status that refused an upgrade to the feed, or 101 when it was accepted. */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + ROUTES.discoverChanges, { headers });
    ws.once('open', () => { ws.close(); resolve(101); });
    ws.once('unexpected-response', (_req, res) => { ws.terminate(); resolve(res.statusCode ?? 0); });
    ws.once('error', reject);
  });
}

const NODE = { LOOKUP_CACHE_PUSHED_MS: '600000', LOOKUP_CACHE_MS: '600000', RATE_LIMIT_BURST: '1000' };

for (const engine of ['memory', 'redis'] as const) {
  describe(`change feed (${engine} registry)`, function () {
    this.timeout(120_000);
    // With Redis, node 0 follows sv-discover 0 and node 1 registers through sv-discover 1: the push crosses Redis.
    const suite = meshSuite(() => startRegistryMesh(engine, [NODE, NODE, NODE]), { closeClientsAfterEach: true });
    const clients = { connect: suite.connect };

    it('delivers live to a connection opened after the sender\'s node cached the recipient', async () => {
      const [a, b] = [uniqueUser('alice'), uniqueUser('bob')];
      const alice = await clients.connect(0, a);
      const bobFirst = await clients.connect(2, b);
      await eventually('bob registered on node 2', async () => (await suite.probe.nodesOf(b)).includes('node-2'));
      const first = await alice.sendMessage(b, 'one', 'c-1');
      await bobFirst.next('message', (m) => m.id === first.id);
      // Node 0 now holds "bob is on node 2" for ten minutes, unless the feed says otherwise.
      const before = (await metricValue(suite.mesh.nodes[0]!.url, 'chat_lookup_cache_invalidations_total')) ?? 0;
      const bobSecond = await clients.connect(1, b);
      await eventually('node 0 told of bob\'s new connection', async () =>
        ((await metricValue(suite.mesh.nodes[0]!.url, 'chat_lookup_cache_invalidations_total')) ?? 0) > before);
      const second = await alice.sendMessage(b, 'two', 'c-2');
      const live = await bobSecond.next('message', (m) => m.id === second.id, 5000);
      assert.equal(live.body, 'two');
      await bobFirst.next('message', (m) => m.id === second.id);
    });

    it('refuses to subscribe without the cluster secret, with a wrong one, or by replaying an upgrade', async () => {
      const url = suite.mesh.discover.url;
      assert.equal(await upgradeStatus(url, {}), 401);
      assert.equal(await upgradeStatus(url, internalAuthHeaders('wrong-secret-0123456789', { method: 'GET', path: ROUTES.discoverChanges })), 401);
      const signed = internalAuthHeaders(TEST_SECRET, { method: 'GET', path: ROUTES.discoverChanges });
      assert.equal(await upgradeStatus(url, signed), 101);
      assert.equal(await upgradeStatus(url, signed), 401, 'the same signed upgrade played again');
    });
  });
}
