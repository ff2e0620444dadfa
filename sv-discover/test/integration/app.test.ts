import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { AUTH_HEADER, ROUTES, type LeaseReply, type LookupReply } from '@chat/shared/internal-api';
import { recordingLogger } from '@chat/shared/testing/recording-logger';
import { freePort } from '@chat/shared/free-port';
import { signedRequest } from '@chat/shared/testing/internal-requests';
import { uniqueRedisPrefix } from '@chat/shared/testing/redis';
import { buildApp, type DiscoverRegistry } from '../../src/app.ts';
import { MemoryRegistry } from '../../src/registry-memory.ts';
import { RedisRegistry } from '../../src/registry-redis.ts';
import { connectTestRedis } from '../helpers/redis.ts';

const SECRET = 'test-cluster-secret-0123456789';
const node = { nodeId: 'node-3001', url: 'http://127.0.0.1:3001' };

/** POST `payload` as JSON, signed with the cluster secret unless other `headers` are given. */
function post(app: FastifyInstance, url: string, payload: unknown, headers?: Record<string, string>) {
  const req = signedRequest(SECRET, 'POST', url, payload);
  return app.inject(headers ? { ...req, headers: { 'content-type': 'application/json', ...headers } } : req);
}

const routes = [
  { url: ROUTES.discoverLease, body: { ...node, ttlMs: 60_000 } },
  { url: ROUTES.discoverEntries, body: { nodeId: node.nodeId, add: [{ user: 'alice', connId: 'c1' }], remove: [] } },
  { url: ROUTES.discoverLookup, body: { users: ['alice'] } },
  { url: ROUTES.discoverRemoveNode, body: { nodeId: node.nodeId } },
];

function suite(name: string, makeRegistry: () => Promise<{ registry: DiscoverRegistry; close(): Promise<void> }>) {
  describe(`sv-discover HTTP routes (${name})`, () => {
    let app: FastifyInstance;
    let registry: DiscoverRegistry;
    let closeRegistry: () => Promise<void>;
    let records: Record<string, unknown>[];

    beforeEach(async () => {
      ({ registry, close: closeRegistry } = await makeRegistry());
      const rec = recordingLogger('sv-discover');
      records = rec.lines;
      app = buildApp({ registry, secret: SECRET, logger: rec.logger });
      await app.ready();
    });
    afterEach(async () => {
      await app.close();
      await closeRegistry();
    });

    it('leases, adds entries and looks them up', async () => {
      let res = await post(app, ROUTES.discoverLease, { ...node, ttlMs: 60_000 });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json<LeaseReply>(), { known: false });
      res = await post(app, ROUTES.discoverLease, { ...node, ttlMs: 60_000 });
      assert.deepEqual(res.json<LeaseReply>(), { known: true });

      res = await post(app, ROUTES.discoverEntries, {
        nodeId: node.nodeId, add: [{ user: 'alice', connId: 'c1' }, { user: 'bob', connId: 'c2' }], remove: [],
      });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { ok: true });

      res = await post(app, ROUTES.discoverLookup, { users: ['alice', 'bob', 'carol'] });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json<LookupReply>(), { nodes: { alice: [node], bob: [node] } });

      res = await post(app, ROUTES.discoverEntries, { nodeId: node.nodeId, add: [], remove: ['c1'] });
      assert.equal(res.statusCode, 200);
      res = await post(app, ROUTES.discoverLookup, { users: ['alice', 'bob'] });
      assert.deepEqual(res.json<LookupReply>(), { nodes: { bob: [node] } });

      res = await post(app, ROUTES.discoverRemoveNode, { nodeId: node.nodeId });
      assert.equal(res.statusCode, 200);
      res = await post(app, ROUTES.discoverLookup, { users: ['bob'] });
      assert.deepEqual(res.json<LookupReply>(), { nodes: {} });
      res = await post(app, ROUTES.discoverLease, { ...node, ttlMs: 60_000 });
      assert.deepEqual(res.json<LeaseReply>(), { known: false }, 'the lease went with the node');
    });

    for (const { url, body } of routes) {
      it(`refuses ${url} without the secret or with a wrong one, changing nothing`, async () => {
        await registry.renewLease(node, 60_000);
        const wrong = signedRequest('some-other-secret-0123456789', 'POST', url, body).headers;
        const stale = signedRequest(SECRET, 'POST', url, body, Date.now() - 60_000).headers;
        const otherBody = signedRequest(SECRET, 'POST', url, { ...body, extra: 1 }).headers;
        const otherPath = signedRequest(SECRET, 'POST', url + '?x=1', body).headers;
        for (const headers of [{}, wrong, stale, otherBody, otherPath, { [AUTH_HEADER]: 'garbage' }, { [AUTH_HEADER]: 'x'.repeat(500) }]) {
          const res = await post(app, url, body, headers);
          assert.equal(res.statusCode, 401, JSON.stringify(headers));
          assert.equal(res.json<{ error: string }>().error, 'unauthorized');
        }
        assert.equal((await registry.lookup(['alice'])).has('alice'), false, 'no entry was added');
        assert.ok(records.some((r) => r['msg'] === 'internal request refused'));
        assert.ok(!JSON.stringify(records).includes(wrong[AUTH_HEADER]!), 'the offered proof is not logged');
      });
    }

    it('refuses unknown internal paths without the secret too', async () => {
      const res = await app.inject({ method: 'GET', url: '/internal/v1/nothing' });
      assert.equal(res.statusCode, 401);
    });

    const bad: [string, unknown][] = [
      [ROUTES.discoverLease, { ...node, ttlMs: 999 }],
      [ROUTES.discoverLease, { ...node, url: 'not a url', ttlMs: 60_000 }],
      [ROUTES.discoverLease, { nodeId: 'bad|id', url: node.url, ttlMs: 60_000 }],
      [ROUTES.discoverEntries, { nodeId: node.nodeId, add: [{ user: 'alice', connId: 'c9' }, { user: 'no spaces', connId: 'c1' }], remove: [] }],
      [ROUTES.discoverEntries, { nodeId: node.nodeId, add: [{ user: 'alice', connId: 'c9' }] }],
      [ROUTES.discoverEntries, { nodeId: node.nodeId, add: [], remove: ['c1', ''] }],
      [ROUTES.discoverLookup, { users: [] }],
      [ROUTES.discoverLookup, { users: ['alice', 42] }],
      [ROUTES.discoverLookup, 'users=alice'],
      [ROUTES.discoverLookup, []],
    ];
    for (const [url, body] of bad) {
      it(`answers 400 to ${url} with ${JSON.stringify(body).slice(0, 60)}, changing nothing`, async () => {
        await post(app, ROUTES.discoverLease, { ...node, ttlMs: 60_000 });
        await post(app, ROUTES.discoverEntries, { nodeId: node.nodeId, add: [{ user: 'alice', connId: 'c1' }], remove: [] });
        const res = typeof body === 'string'
          ? await app.inject(signedRequest(SECRET, 'POST', url, body))
          : await post(app, url, body);
        assert.equal(res.statusCode, 400);
        assert.equal(res.json<{ error: string }>().error, 'bad_request');
        const found = await registry.lookup(['alice']);
        assert.deepEqual(found.get('alice'), [node], 'alice is still on the node');
        assert.equal(found.size, 1);
        assert.equal(await registry.renewLease(node, 60_000), true, 'the lease is untouched');
      });
    }

    it('answers /healthz and /readyz', async () => {
      assert.deepEqual((await app.inject({ method: 'GET', url: '/healthz' })).json(), { ok: true });
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200);
      assert.deepEqual(ready.json(), { ready: true, checks: { registry: 'ok' } });
    });
  });
}

suite('MemoryRegistry', async () => {
  const registry = new MemoryRegistry({ sweepIntervalMs: 0 });
  return { registry, close: () => registry.close() };
});

suite('RedisRegistry', async () => {
  const redis = await connectTestRedis();
  const registry = new RedisRegistry(redis, { prefix: uniqueRedisPrefix('app'), sweepIntervalMs: 0 });
  return { registry, close: async () => { await registry.close(); await redis.quit(); } };
});

describe('sv-discover readiness without Redis', () => {
  it('answers 503 on /readyz and on registry calls when Redis does not answer', async () => {
    const port = await freePort(); // nothing listens there
    const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, enableOfflineQueue: false, retryStrategy: () => null });
    redis.on('error', () => {});
    const registry = new RedisRegistry(redis, { prefix: uniqueRedisPrefix('down'), sweepIntervalMs: 0 });
    const { logger, lines: records } = recordingLogger('sv-discover');
    const app = buildApp({ registry, secret: SECRET, logger, readyTimeoutMs: 500 });
    try {
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 503);
      const body = ready.json<{ ready: boolean; checks: { registry: string } }>();
      assert.equal(body.ready, false);
      assert.match(body.checks.registry, /^down: /, 'the check names why');
      assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'liveness does not depend on Redis');
      const res = await post(app, ROUTES.discoverLookup, { users: ['alice'] });
      assert.equal(res.statusCode, 503);
      assert.deepEqual(res.json(), { error: 'unavailable', message: 'registry unavailable' });
      assert.ok(records.some((r) => r['msg'] === 'registry request failed' && r['level'] === 50));
    } finally {
      await app.close();
      await registry.close();
      redis.disconnect();
    }
  });
});

describe('sv-discover lookups after starting empty', () => {
  async function lookupWith(startsEmptyLeaseMs: number | undefined, ttlMs: number): Promise<LookupReply> {
    const registry = new MemoryRegistry({ sweepIntervalMs: 0 });
    const app = buildApp({ registry, secret: SECRET, logger: recordingLogger('sv-discover').logger, startsEmptyLeaseMs });
    try {
      await post(app, ROUTES.discoverLease, { ...node, ttlMs });
      return (await post(app, ROUTES.discoverLookup, { users: ['alice'] })).json<LookupReply>();
    } finally {
      await app.close();
      await registry.close();
    }
  }

  it('says warming while nodes may not have registered again, for a third of the longest lease seen plus a second', async () => {
    assert.deepEqual(await lookupWith(3_000, 3_000), { nodes: {}, warming: true });
    // A node with a longer lease than configured renews less often: the window follows it.
    assert.deepEqual(await lookupWith(1_000, 600_000), { nodes: {}, warming: true });
  });

  it('never says warming for a registry that keeps its entries', async () => {
    assert.deepEqual(await lookupWith(undefined, 3_000), { nodes: {} });
  });
});
