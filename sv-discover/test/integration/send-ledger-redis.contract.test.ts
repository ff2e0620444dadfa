import type { Redis } from 'ioredis';
import { sendLedgerContract } from '@chat/shared/testing/send-ledger-contract';
import { uniqueRedisPrefix } from '@chat/shared/testing/redis';
import { RedisSendLedger } from '../../src/send-ledger-redis.ts';
import { connectTestRedis } from '../helpers/redis.ts';

describe('RedisSendLedger on a real redis-server', () => {
  let redis: Redis;
  before(async () => {
    redis = await connectTestRedis();
  });
  after(async () => {
    await redis.quit();
  });

  sendLedgerContract('RedisSendLedger', (ttlMs) => new RedisSendLedger(redis, { prefix: uniqueRedisPrefix('sends'), ttlMs }));
});
