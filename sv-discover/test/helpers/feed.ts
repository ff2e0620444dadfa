/**
 * sv-discover instances serving the change feed, on either registry, and subscribers recording
 * what the feed pushes: with Redis, registry writes go through one instance and the subscribers
 * listen on another, so what they get has crossed Redis.
 */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { WebSocket } from 'ws';
import { ROUTES, type ChangeFrame, type RoomVersion } from '@chat/shared/internal-api';
import { openInternalWebSocket, parseFrame } from '@chat/shared/internal-websocket';
import type { WirePresence } from '@chat/shared/protocol';
import { signedRequest } from '@chat/shared/testing/internal-requests';
import { recordingLogger } from '@chat/shared/testing/recording-logger';
import { uniqueRedisPrefix } from '@chat/shared/testing/redis';
import { buildApp, type DiscoverRegistry } from '../../src/app.ts';
import { ChangeFeed } from '../../src/change-feed.ts';
import { MemoryRegistry } from '../../src/registry-memory.ts';
import { RedisRegistry } from '../../src/registry-redis.ts';
import { connectTestRedis } from './redis.ts';

export const SECRET = 'test-cluster-secret-0123456789';
export const node = { nodeId: 'node-1', url: 'http://127.0.0.1:3001' };

/** A subscriber of the feed that records every presence state and every room change it is pushed. */
export class Subscriber {
  readonly states: WirePresence[] = [];
  readonly rooms: RoomVersion[][] = [];
  readonly closed: Promise<number>;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = parseFrame(data) as ChangeFrame;
      if ('presence' in frame) this.states.push(...frame.presence);
      if ('rooms' in frame) this.rooms.push(frame.rooms);
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

export interface Instance { app: FastifyInstance; url: string; close(): Promise<void> }

export async function startInstance(registry: DiscoverRegistry, redis?: { client: Redis; prefix: string }): Promise<Instance> {
  const { logger } = recordingLogger('sv-discover');
  const feed = new ChangeFeed(logger);
  if (redis) await feed.useRedis(redis.client, redis.prefix);
  const app = buildApp({ registry, secret: SECRET, logger, feed });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url, close: () => app.close() };
}

/** A signed POST to `instance`; asserts the answer is `status` (200 by default). */
export async function post(instance: Instance, path: string, body: unknown, status = 200): Promise<void> {
  const res = await fetch(instance.url + path, signedRequest(SECRET, 'POST', instance.url + path, body));
  assert.equal(res.status, status, await res.text());
}

export const feedSetups = {
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

