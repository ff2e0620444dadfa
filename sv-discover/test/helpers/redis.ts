import { Redis } from 'ioredis';
import { startTestRedis } from '@chat/shared/testing/redis';

/** A connected client on the test Redis; the caller quits it. */
export async function connectTestRedis(): Promise<Redis> {
  const redis = new Redis(await startTestRedis(), { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  return redis;
}

/** Every key under `prefix` (SCAN, so it is safe on a shared server). */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 500 })) keys.push(...(batch as string[]));
  return keys.sort();
}
