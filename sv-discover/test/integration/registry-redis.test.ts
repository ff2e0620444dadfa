import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { uniqueRedisPrefix } from '@chat/shared/testing/redis';
import { eventually } from '@chat/shared/testing/eventually';
import type { PresenceState } from '@chat/shared/registry';
import { RedisRegistry } from '../../src/registry-redis.ts';
import { connectTestRedis, keysUnder } from '../helpers/redis.ts';

describe('RedisRegistry specifics', () => {
  let redis: Redis;
  let other: Redis;
  let prefix: string;
  let a: RedisRegistry;
  let b: RedisRegistry;
  const n1 = { nodeId: 'n1', url: 'http://127.0.0.1:3001' };
  const n2 = { nodeId: 'n2', url: 'http://127.0.0.1:3002' };

  before(async () => {
    redis = await connectTestRedis();
    other = await connectTestRedis();
  });
  after(async () => {
    await redis.quit();
    await other.quit();
  });
  beforeEach(() => {
    prefix = uniqueRedisPrefix('registry');
    a = new RedisRegistry(redis, { prefix, sweepIntervalMs: 0 });
    b = new RedisRegistry(other, { prefix, sweepIntervalMs: 0 });
  });
  afterEach(async () => {
    await a.close();
    await b.close();
  });

  it('shares all state between instances on one Redis', async () => {
    assert.equal(await a.renewLease(n1, 60_000), false);
    assert.equal(await b.renewLease(n1, 60_000), true, 'the lease taken through a is known to b');
    await a.updateEntries('n1', [{ user: 'alice', connId: 'c1' }], []);
    assert.deepEqual((await b.lookup(['alice'])).get('alice'), [n1]);
    await b.updateEntries('n1', [], ['c1']);
    assert.equal((await a.lookup(['alice'])).has('alice'), false);
  });

  it('keeps the documented key layout', async () => {
    await a.renewLease(n1, 60_000);
    await a.updateEntries('n1', [{ user: 'alice', connId: 'c1' }], []);
    assert.deepEqual(await keysUnder(redis, prefix), [
      `${prefix}reg:conns:n1`, `${prefix}reg:lease:n1`, `${prefix}reg:nodes`, `${prefix}reg:user:alice`,
    ]);
    assert.equal(await redis.get(`${prefix}reg:lease:n1`), n1.url);
    assert.ok((await redis.pttl(`${prefix}reg:lease:n1`)) > 50_000);
    assert.deepEqual(await redis.hgetall(`${prefix}reg:conns:n1`), { c1: 'alice' });
    assert.deepEqual(await redis.smembers(`${prefix}reg:user:alice`), ['n1|c1']);
    await a.updateEntries('n1', [], ['c1']);
    assert.deepEqual(await keysUnder(redis, prefix), [`${prefix}reg:lease:n1`, `${prefix}reg:nodes`, `${prefix}reg:seen:alice`]);
    assert.match(await redis.get(`${prefix}reg:seen:alice`) ?? '', /^\d{13}$/, 'last seen in epoch ms');
    assert.ok((await redis.pttl(`${prefix}reg:seen:alice`)) > 29 * 24 * 3600 * 1000, 'kept for about 30 days');
  });

  it('cleans up a dead node lazily when a lookup meets it', async () => {
    await a.renewLease(n1, 60_000);
    await a.renewLease(n2, 60_000);
    await a.updateEntries('n1', [{ user: 'alice', connId: 'c1' }, { user: 'bob', connId: 'c2' }], []);
    await a.updateEntries('n2', [{ user: 'bob', connId: 'c3' }], []);
    await redis.del(`${prefix}reg:lease:n1`); // the lease runs out
    const heard: PresenceState[] = [];
    a.onTransitions((changes) => heard.push(...changes));
    assert.equal((await a.lookup(['alice'])).has('alice'), false);
    await a.settled();
    assert.deepEqual(await keysUnder(redis, prefix), [
      `${prefix}reg:conns:n2`, `${prefix}reg:lease:n2`, `${prefix}reg:nodes`, `${prefix}reg:seen:alice`, `${prefix}reg:user:bob`,
    ]);
    assert.deepEqual(heard.map((c) => [c.user, c.online]), [['alice', false]], 'the cleanup told that alice went offline');
    assert.equal(await redis.get(`${prefix}reg:seen:alice`), String(heard[0]!.lastSeen));
    assert.deepEqual(await redis.smembers(`${prefix}reg:user:bob`), ['n2|c3']);
  });

  it('sweeps expired nodes nobody looks up', async () => {
    for (let i = 0; i < 150; i++) {
      const node = { nodeId: `gone-${i}`, url: `http://127.0.0.1:${4000 + i}` };
      await a.renewLease(node, 1000);
      await a.updateEntries(node.nodeId, [{ user: `u${i}`, connId: `c${i}` }], []);
    }
    await a.renewLease(n1, 60_000);
    await eventually('the short leases expired', async () => assert.equal(await redis.exists(`${prefix}reg:lease:gone-149`), 0));
    assert.equal(await b.sweep(), 150);
    const keys = await keysUnder(redis, prefix);
    assert.deepEqual(keys.filter((k) => !k.startsWith(`${prefix}reg:seen:`)), [`${prefix}reg:lease:n1`, `${prefix}reg:nodes`]);
    assert.equal(keys.length, 152, "one last-seen key per swept user");
    assert.deepEqual(await redis.zrange(`${prefix}reg:nodes`, 0, -1), ['n1']);
  });

  it('keeps working after Redis forgets its scripts (as after a restart)', async () => {
    await a.renewLease(n1, 60_000);
    await redis.script('FLUSH');
    await a.updateEntries('n1', [{ user: 'alice', connId: 'c1' }], []);
    assert.deepEqual((await a.lookup(['alice'])).get('alice'), [n1]);
  });

  it('looks up any number of users with one SMEMBERS pipeline and one MGET', async () => {
    await a.renewLease(n1, 60_000);
    const users = Array.from({ length: 1000 }, (_, i) => `u${i}`);
    await a.updateEntries('n1', users.map((user, i) => ({ user, connId: `c${i}` })), []);
    const monitor = await redis.duplicate().monitor();
    const commands: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[0] !== 'monitor') commands.push(String(args[0]).toLowerCase());
    });
    try {
      const found = await a.lookup(users);
      assert.equal(found.size, 1000);
      await eventually('the monitor saw the MGET', () => assert.equal(commands.filter((c) => c === 'mget').length, 1));
      assert.equal(commands.filter((c) => c === 'smembers').length, 1000);
      assert.deepEqual([...new Set(commands)].sort(), ['mget', 'smembers']);
    } finally {
      monitor.disconnect();
    }
  });

  it('refuses a client that has its own keyPrefix', () => {
    const prefixed = new Redis({ lazyConnect: true, keyPrefix: 'x:' });
    try {
      assert.throws(() => new RedisRegistry(prefixed, { prefix: 'y:' }), /keyPrefix/);
    } finally {
      prefixed.disconnect();
    }
  });
});
