/**
 * Presence on the change feed, at sv-discover: a subscriber gets the state of each user it adds
 * to its watch set, then their transitions and nobody else's; with Redis, a transition made
 * through one instance reaches a subscriber of another.
 */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { WebSocket } from 'ws';
import { ROUTES, type ChangeFrame } from '@chat/shared/internal-api';
import { openInternalWebSocket, parseFrame } from '@chat/shared/internal-websocket';
import type { WirePresence } from '@chat/shared/protocol';
import { eventually } from '@chat/shared/testing/eventually';
import { signedRequest } from '@chat/shared/testing/internal-requests';
import { recordingLogger } from '@chat/shared/testing/recording-logger';
import { uniqueRedisPrefix } from '@chat/shared/testing/redis';
import { buildApp, type DiscoverRegistry } from '../../src/app.ts';
import { ChangeFeed } from '../../src/change-feed.ts';
import { MemoryRegistry } from '../../src/registry-memory.ts';
import { RedisRegistry } from '../../src/registry-redis.ts';
import { connectTestRedis } from '../helpers/redis.ts';

const SECRET = 'test-cluster-secret-0123456789';
const node = { nodeId: 'node-1', url: 'http://127.0.0.1:3001' };

/** A subscriber of the feed that records every presence state it is pushed. */
class Subscriber {
  readonly states: WirePresence[] = [];
  readonly closed: Promise<number>;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = parseFrame(data) as ChangeFrame;
      if ('presence' in frame) this.states.push(...frame.presence);
    });
    this.closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
  }

  static async open(url: string): Promise<Subscriber> {
    const ws = openInternalWebSocket(url, ROUTES.discoverChanges, SECRET, { timeoutMs: 5000, maxPayload: 16 * 1024 * 1024 });
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    return new Subscriber(ws);
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The last state pushed for `user`. */
  of(user: string): WirePresence | undefined {
    return this.states.filter((s) => s.user === user).pop();
  }
}

interface Instance { app: FastifyInstance; url: string; close(): Promise<void> }

async function startInstance(registry: DiscoverRegistry, redis?: { client: Redis; prefix: string }): Promise<Instance> {
  const { logger } = recordingLogger('sv-discover');
  const feed = new ChangeFeed(logger);
  if (redis) await feed.useRedis(redis.client, redis.prefix);
  const app = buildApp({ registry, secret: SECRET, logger, feed });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url, close: () => app.close() };
}

async function post(instance: Instance, path: string, body: unknown): Promise<void> {
  const res = await fetch(instance.url + path, signedRequest(SECRET, 'POST', instance.url + path, body));
  assert.equal(res.status, 200, await res.text());
}

const setups = {
  memory: async () => {
    const registry = new MemoryRegistry({ sweepIntervalMs: 0 });
    const one = await startInstance(registry);
    return { writer: one, reader: one, close: async () => { await one.close(); await registry.close(); } };
  },
  // The registry writes go through one instance, the subscribers listen on another.
  redis: async () => {
    const [a, b] = [await connectTestRedis(), await connectTestRedis()];
    const prefix = uniqueRedisPrefix('presence-feed');
    const [ra, rb] = [new RedisRegistry(a, { prefix, sweepIntervalMs: 0 }), new RedisRegistry(b, { prefix, sweepIntervalMs: 0 })];
    const writer = await startInstance(ra, { client: a, prefix });
    const reader = await startInstance(rb, { client: b, prefix });
    return {
      writer, reader,
      close: async () => {
        await writer.close();
        await reader.close();
        await ra.close();
        await rb.close();
        await a.quit();
        await b.quit();
      },
    };
  },
};

for (const [engine, setup] of Object.entries(setups)) {
  describe(`presence on the change feed (${engine} registry)`, function () {
    this.timeout(20_000);
    let mesh: Awaited<ReturnType<typeof setup>>;
    const open: Subscriber[] = [];
    const subscribe = async () => {
      const s = await Subscriber.open(mesh.reader.url);
      open.push(s);
      return s;
    };

    beforeEach(async () => {
      mesh = await setup();
      await post(mesh.writer, ROUTES.discoverLease, { ...node, ttlMs: 60_000 });
    });
    afterEach(async () => {
      for (const s of open.splice(0)) s.ws.terminate();
      await mesh.close();
    });

    it('answers the state of each user watched, then pushes their transitions only to subscribers watching them', async () => {
      await post(mesh.writer, ROUTES.discoverEntries, { nodeId: node.nodeId, add: [{ user: 'bob', connId: 'b1' }], remove: [] });
      const watcher = await subscribe();
      const idle = await subscribe();
      const other = await subscribe();
      watcher.send({ watch: ['bob', 'carol'] });
      other.send({ watch: ['dave'] });
      await eventually('the states of bob and carol', () => assert.equal(watcher.states.length, 2));
      assert.deepEqual(watcher.of('bob'), { user: 'bob', online: true, last_seen: null });
      assert.deepEqual(watcher.of('carol'), { user: 'carol', online: false, last_seen: null });

      await post(mesh.writer, ROUTES.discoverEntries, { nodeId: node.nodeId, add: [{ user: 'carol', connId: 'c1' }], remove: ['b1'] });
      await eventually('carol online, bob offline', () => {
        assert.equal(watcher.of('carol')?.online, true);
        assert.equal(watcher.of('bob')?.online, false);
      });
      assert.equal(typeof watcher.of('bob')?.last_seen, 'number');
      await post(mesh.writer, ROUTES.discoverEntries, { nodeId: node.nodeId, add: [{ user: 'dave', connId: 'd1' }], remove: [] });
      await eventually('dave online for the subscriber watching him', () => assert.equal(other.of('dave')?.online, true));
      assert.deepEqual(idle.states, [], 'a subscriber watching nobody hears nothing');
      assert.deepEqual(other.states.map((s) => s.user), ['dave', 'dave'], 'nor of users it does not watch');
      assert.equal(watcher.of('dave'), undefined);
    });

    it('stops pushing a user after unwatch, and closes a subscriber that sends a bad frame', async () => {
      const watcher = await subscribe();
      watcher.send({ watch: ['erin'] });
      await eventually('erin answered', () => assert.equal(watcher.states.length, 1));
      watcher.send({ unwatch: ['erin'] });
      watcher.send({ watch: ['frank'] });
      await eventually('frank answered', () => assert.equal(watcher.states.length, 2));
      await post(mesh.writer, ROUTES.discoverEntries, { nodeId: node.nodeId, add: [{ user: 'erin', connId: 'e1' }, { user: 'frank', connId: 'f1' }], remove: [] });
      await eventually('frank online', () => assert.equal(watcher.of('frank')?.online, true));
      assert.deepEqual(watcher.states.filter((s) => s.user === 'erin').length, 1, 'no push for erin after unwatch');

      watcher.send({ watch: ['not a user id'] });
      assert.equal(await watcher.closed, 1008);
      const second = await subscribe();
      second.send('not json');
      assert.equal(await second.closed, 1007);
    });

    it('pushes the users of a removed node offline with their last-seen time', async () => {
      await post(mesh.writer, ROUTES.discoverEntries, { nodeId: node.nodeId, add: [{ user: 'gina', connId: 'g1' }], remove: [] });
      const watcher = await subscribe();
      watcher.send({ watch: ['gina'] });
      await eventually('gina answered online', () => assert.equal(watcher.of('gina')?.online, true));
      const before = Date.now();
      await post(mesh.writer, ROUTES.discoverRemoveNode, { nodeId: node.nodeId });
      await eventually('gina offline', () => assert.equal(watcher.of('gina')?.online, false));
      assert.ok(watcher.of('gina')!.last_seen! >= before - 1000);
    });
  });
}
