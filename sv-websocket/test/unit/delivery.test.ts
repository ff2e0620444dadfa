/** Delivery and presence logic with in-memory parts: the MemoryRegistry (a product mode) and recording sockets. */
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { encodeMessageFrame } from '@chat/shared/protocol';
import type { Message } from '@chat/shared/types';
import { MemoryRegistry } from '../../../sv-discover/src/registry-memory.ts';
import { Delivery } from '../../src/delivery.ts';
import { Forwarder } from '../../src/forwarder.ts';
import { LocalConnections } from '../../src/local-connections.ts';
import { LookupCache } from '../../src/lookup-cache.ts';
import { splitOps } from '../../src/presence.ts';
import { TokenBucket } from '../../src/rate-limiter.ts';
import { InternalClient } from '@chat/shared/internal-client';

const silent = pino({ level: 'silent' });

function recorder(local: LocalConnections, user: string, connId: string) {
  const got: string[] = [];
  local.add({ user, connId, socket: { sendRaw: (f) => got.push(f) } });
  return got;
}

const msg = (over: Partial<Message> = {}): Message => ({ id: 'm1', seq: 1, cid: 'c1', from: 'alice', to: 'bob', body: 'hi', ts: 1, ...over });

describe('Delivery (local)', () => {
  const registry = new MemoryRegistry();
  const client = new InternalClient({ secret: 'x'.repeat(20) });
  after(async () => { await client.close(); await registry.close(); });

  it('hands the frame to every local connection of both users except the sending one', async () => {
    const local = new LocalConnections();
    const bob1 = recorder(local, 'bob', 'b1');
    const bob2 = recorder(local, 'bob', 'b2');
    const aliceOther = recorder(local, 'alice', 'a2');
    const aliceSender = recorder(local, 'alice', 'a1');
    const carol = recorder(local, 'carol', 'c1');
    const cache = new LookupCache(registry, { ttlMs: 1000 });
    const delivery = new Delivery('self', local, cache, new Forwarder(client, () => {}, silent));
    await delivery.deliver(msg(), 'a1');
    const frame = encodeMessageFrame(msg());
    assert.deepEqual([bob1, bob2, aliceOther], [[frame], [frame], [frame]]);
    assert.deepEqual(aliceSender, []);
    assert.deepEqual(carol, []);
    assert.deepEqual(JSON.parse(frame), { type: 'message', id: 'm1', seq: 1, cid: 'c1', from: 'alice', to: 'bob', body: 'hi', ts: 1 });
  });

  it('reports users it does not hold as absent when receiving a forward', () => {
    const local = new LocalConnections();
    const bob = recorder(local, 'bob', 'b1');
    const delivery = new Delivery('self', local, new LookupCache(registry, { ttlMs: 1000 }), new Forwarder(client, () => {}, silent));
    const reply = delivery.receive({ users: ['bob', 'alice'], items: [{ message: msg() }] });
    assert.deepEqual(reply.absent, ['alice']);
    assert.equal(bob.length, 1);
  });
});

describe('LookupCache', () => {
  it('caches only users found somewhere, and forgets on invalidate', async () => {
    const registry = new MemoryRegistry();
    const cache = new LookupCache(registry, { ttlMs: 60_000 });
    assert.deepEqual((await cache.nodesOf(['bob'])).get('bob'), []);
    await registry.renewLease({ nodeId: 'n1', url: 'http://127.0.0.1:1' }, 60_000);
    await registry.updateEntries('n1', [{ user: 'bob', connId: 'k1' }], []);
    // not cached while nowhere: found at once
    assert.deepEqual((await cache.nodesOf(['bob'])).get('bob')?.map((n) => n.nodeId), ['n1']);
    await registry.updateEntries('n1', [], ['k1']);
    assert.deepEqual((await cache.nodesOf(['bob'])).get('bob')?.map((n) => n.nodeId), ['n1'], 'served from cache');
    cache.invalidate('bob');
    assert.deepEqual((await cache.nodesOf(['bob'])).get('bob'), []);
    assert.ok(cache.hits >= 1 && cache.missCount >= 3);
    await registry.close();
  });
});

describe('LookupCache: one lookup per user at a time', () => {
  it('lets a prefetch and later callers join the lookup in flight instead of asking again', async () => {
    const registry = new MemoryRegistry();
    await registry.renewLease({ nodeId: 'n1', url: 'http://127.0.0.1:1' }, 60_000);
    await registry.updateEntries('n1', [{ user: 'bob', connId: 'k1' }], []);
    const asked: string[][] = [];
    const counting = Object.assign(Object.create(registry) as MemoryRegistry, {
      lookup: (users: string[]) => { asked.push(users); return registry.lookup(users); },
    });
    const cache = new LookupCache(counting, { ttlMs: 0 }); // nothing cached: only joining saves lookups
    cache.prefetch(['bob', 'carol']);
    const [a, b] = await Promise.all([cache.nodesOf(['bob']), cache.nodesOf(['bob', 'carol'])]);
    assert.deepEqual(a.get('bob')?.map((n) => n.nodeId), ['n1']);
    assert.deepEqual(b.get('bob')?.map((n) => n.nodeId), ['n1']);
    assert.deepEqual(b.get('carol'), []);
    // The batcher sends the first user alone at once and the next as the following batch; what
    // matters is that each user was asked for once, not once per caller.
    assert.deepEqual(asked.flat().sort(), ['bob', 'carol'], 'each user asked once for all three callers');
    await cache.nodesOf(['bob']);
    assert.deepEqual(asked.flat().sort(), ['bob', 'bob', 'carol'], 'once answered, the next call asks again (ttl 0)');
    await registry.close();
  });
});

describe('Delivery: users cached on this node only', () => {
  it('delivers locally without asking discovery or counting a pending delivery; counts the cache hits', async () => {
    const registry = new MemoryRegistry();
    await registry.renewLease({ nodeId: 'self', url: 'http://127.0.0.1:1' }, 60_000);
    await registry.updateEntries('self', [{ user: 'alice', connId: 'a1' }, { user: 'bob', connId: 'b1' }], []);
    const asked: string[][] = [];
    const counting = Object.assign(Object.create(registry) as MemoryRegistry, {
      lookup: (users: string[]) => { asked.push(users); return registry.lookup(users); },
    });
    const cache = new LookupCache(counting, { ttlMs: 60_000 });
    await cache.nodesOf(['alice', 'bob']);
    const lookedUp = asked.flat().length;
    const local = new LocalConnections();
    const bob = recorder(local, 'bob', 'b1');
    const client = new InternalClient({ secret: 'x'.repeat(20) });
    const delivery = new Delivery('self', local, cache, new Forwarder(client, () => {}, silent));
    const hits = cache.hits;
    const delivered = delivery.deliver(msg(), 'a1');
    assert.equal(delivery.pending, 0, 'nothing left in progress');
    await delivered;
    assert.deepEqual(bob, [encodeMessageFrame(msg())]);
    assert.equal(asked.flat().length, lookedUp, 'discovery not asked again');
    assert.equal(cache.hits, hits + 2, 'one hit per user, as a lookup through the cache counts');
    await client.close();
    await registry.close();
  });

  it('cachedOnlyOn: true only for fresh answers that name no other node', async () => {
    const registry = new MemoryRegistry();
    await registry.renewLease({ nodeId: 'self', url: 'http://127.0.0.1:1' }, 60_000);
    await registry.renewLease({ nodeId: 'other', url: 'http://127.0.0.1:2' }, 60_000);
    await registry.updateEntries('self', [{ user: 'alice', connId: 'a1' }, { user: 'both', connId: 'x1' }], []);
    await registry.updateEntries('other', [{ user: 'carol', connId: 'c1' }, { user: 'both', connId: 'x2' }], []);
    const cache = new LookupCache(registry, { ttlMs: 60_000 });
    assert.equal(cache.cachedOnlyOn('self', 'alice', 'alice'), false, 'not cached yet');
    await cache.nodesOf(['alice', 'carol', 'both', 'nobody']);
    assert.equal(cache.cachedOnlyOn('self', 'alice', 'alice'), true);
    assert.equal(cache.cachedOnlyOn('self', 'alice', 'carol'), false, 'carol is elsewhere');
    assert.equal(cache.cachedOnlyOn('self', 'both', 'alice'), false, 'one of both\'s connections is elsewhere');
    assert.equal(cache.cachedOnlyOn('self', 'alice', 'ghost'), false, 'ghost was never looked up');
    cache.invalidate('alice');
    assert.equal(cache.cachedOnlyOn('self', 'alice', 'alice'), false, 'invalidated');
    const expiring = new LookupCache(registry, { ttlMs: 0 });
    await expiring.nodesOf(['alice']);
    assert.equal(expiring.cachedOnlyOn('self', 'alice', 'alice'), false, 'expired at once (ttl 0)');
    await registry.close();
  });
});

describe('presence ops', () => {
  it('cancels a connection opened and closed within one batch', () => {
    const out = splitOps([{ add: { user: 'a', connId: '1' } }, { add: { user: 'b', connId: '2' } }, { remove: '1' }, { remove: '9' }]);
    assert.deepEqual(out, { add: [{ user: 'b', connId: '2' }], remove: ['9'] });
  });
});

describe('TokenBucket', () => {
  it('allows the burst, then the rate', () => {
    let now = 0;
    const bucket = new TokenBucket(2, 3, () => now);
    assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false]);
    now += 500;
    assert.equal(bucket.take(), true);
    assert.equal(bucket.take(), false);
    now += 10_000;
    assert.deepEqual([bucket.take(), bucket.take(), bucket.take(), bucket.take()], [true, true, true, false]);
  });
});

describe('LookupCache: long lifetime while the change feed is connected', () => {
  const nodesOf = async (cache: LookupCache, user: string) => (await cache.nodesOf([user])).get(user)?.map((n) => n.nodeId);

  async function registryWithBob() {
    const registry = new MemoryRegistry();
    await registry.renewLease({ nodeId: 'n1', url: 'http://127.0.0.1:1' }, 60_000);
    await registry.renewLease({ nodeId: 'n2', url: 'http://127.0.0.1:2' }, 60_000);
    await registry.updateEntries('n1', [{ user: 'bob', connId: 'k1' }], []);
    return registry;
  }

  it('keeps answers for the pushed lifetime only while pushed, and drops a pushed user at once', async () => {
    const registry = await registryWithBob();
    const cache = new LookupCache(registry, { ttlMs: 0, pushedTtlMs: 60_000 }); // short lifetime 0: nothing kept unless pushed
    assert.deepEqual(await nodesOf(cache, 'bob'), ['n1']);
    await registry.updateEntries('n2', [{ user: 'bob', connId: 'k2' }], []);
    assert.deepEqual(await nodesOf(cache, 'bob'), ['n1', 'n2'], 'not pushed: asked again');
    cache.setPushed(true);
    await nodesOf(cache, 'bob');
    await registry.updateEntries('n1', [{ user: 'bob', connId: 'k3' }], []);
    await registry.updateEntries('n2', [], ['k2']);
    assert.deepEqual(await nodesOf(cache, 'bob'), ['n1', 'n2'], 'pushed: served from cache');
    cache.invalidateMany(['bob']);
    assert.deepEqual(await nodesOf(cache, 'bob'), ['n1'], 'a push drops the user');
    assert.equal(cache.invalidations, 1);
    await registry.updateEntries('n2', [{ user: 'bob', connId: 'k4' }], []);
    cache.setPushed(false);
    assert.deepEqual(await nodesOf(cache, 'bob'), ['n1', 'n2'], 'feed lost: the long-lived answers are cut to the short lifetime');
    await registry.close();
  });

  it('keeps expired answers for stale-if-error when the feed is lost (a discovery outage closes it too)', async () => {
    const registry = await registryWithBob();
    let down = false;
    const flaky = Object.assign(Object.create(registry) as MemoryRegistry, {
      lookup: (users: string[]) => down ? Promise.reject(new Error('discovery down')) : registry.lookup(users),
    });
    const cache = new LookupCache(flaky, { ttlMs: 0, pushedTtlMs: 60_000 });
    cache.setPushed(true);
    assert.deepEqual(await nodesOf(cache, 'bob'), ['n1']);
    down = true;
    cache.setPushed(false);
    assert.deepEqual(await nodesOf(cache, 'bob'), ['n1'], 'the expired answer, since discovery does not answer');
    assert.equal(cache.staleHits, 1);
    await registry.close();
  });

  it('keeps an answer that was in flight when its user was pushed only for the short lifetime', async () => {
    const registry = await registryWithBob();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => { release = r; });
    const slow = Object.assign(Object.create(registry) as MemoryRegistry, {
      lookup: async (users: string[]) => { const found = await registry.lookup(users); await gate; return found; },
    });
    const cache = new LookupCache(slow, { ttlMs: 0, pushedTtlMs: 60_000 });
    cache.setPushed(true);
    const inFlight = nodesOf(cache, 'bob');
    // bob connects on n2 while the lookup is out: the push arrives before the (outdated) answer.
    await registry.updateEntries('n2', [{ user: 'bob', connId: 'k2' }], []);
    cache.invalidateMany(['bob']);
    release();
    assert.deepEqual(await inFlight, ['n1']);
    assert.deepEqual(await nodesOf(cache, 'bob'), ['n1', 'n2'], 'the outdated answer was not kept');
    await registry.close();
  });

  it('does not let a caller after an invalidation join a lookup asked before it', async () => {
    const registry = await registryWithBob();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => { release = r; });
    let calls = 0;
    const slow = Object.assign(Object.create(registry) as MemoryRegistry, {
      // Only the first lookup is held back, after reading the registry: its answer is outdated.
      lookup: async (users: string[]) => { const found = await registry.lookup(users); if (calls++ === 0) await gate; return found; },
    });
    const cache = new LookupCache(slow, { ttlMs: 0 });
    const before = nodesOf(cache, 'bob'); // a prefetch, say, asked while bob is only on n1
    await new Promise(setImmediate);
    // bob reconnects on n2; a forward to n1 finds him absent, and the delivery asks again.
    await registry.updateEntries('n2', [{ user: 'bob', connId: 'k2' }], []);
    cache.invalidate('bob');
    const after = nodesOf(cache, 'bob');
    release(); // discovery answers one batch at a time: the fresh lookup goes after the first
    assert.deepEqual(await before, ['n1'], 'the first caller gets its own answer');
    assert.deepEqual(await after, ['n1', 'n2'], 'a fresh lookup, not the outdated one in flight');
    await registry.close();
  });
});
