import type { Redis } from 'ioredis';
import { presenceContract, registryContract } from '@chat/shared/testing/registry-contract';
import { sendLedgerContract } from '@chat/shared/testing/send-ledger-contract';
import { uniqueRedisPrefix } from '@chat/shared/testing/redis';
import { RedisRegistry } from '../../src/registry-redis.ts';
import { RedisSendLedger } from '../../src/send-ledger-redis.ts';
import { connectTestRedis } from '../helpers/redis.ts';

describe('the Redis-backed registry and record of sends on a real redis-server', () => {
  let redis: Redis;
  before(async () => {
    redis = await connectTestRedis();
  });
  after(async () => {
    await redis.quit();
  });

  registryContract('RedisRegistry', () => new RedisRegistry(redis, { prefix: uniqueRedisPrefix('contract'), sweepIntervalMs: 0 }));
  presenceContract('RedisRegistry', () => new RedisRegistry(redis, { prefix: uniqueRedisPrefix('presence'), sweepIntervalMs: 0 }));
  sendLedgerContract('RedisSendLedger', (ttlMs) => new RedisSendLedger(redis, { prefix: uniqueRedisPrefix('sends'), ttlMs }));
});
