/**
 * sv-discover entry point: load config, open the registry's store, listen, and shut down in
 * reverse order on SIGTERM/SIGINT (stop accepting, finish requests, close the registry, quit Redis).
 */
import { Redis } from 'ioredis';
import { createLogger, type Logger } from '@chat/shared/logger';
import { runMain } from '@chat/shared/config';
import { buildApp, type AppDeps, type DiscoverRegistry } from './app.ts';
import { ChangeFeed } from './change-feed.ts';
import { loadConfig, type Config } from './config.ts';
import { MemoryRegistry } from './registry-memory.ts';
import { RedisRegistry } from './registry-redis.ts';
import { MemorySendLedger } from './send-ledger-memory.ts';
import { RedisSendLedger } from './send-ledger-redis.ts';

interface Store {
  registry: DiscoverRegistry;
  sends: AppDeps['sends'];
  close(): Promise<void>;
}

async function openStore(config: Config, log: Logger, feed: ChangeFeed): Promise<Store> {
  if (!config.redisUrl) {
    log.info('no REDIS_URL: registry kept in memory (single instance)');
    const registry = new MemoryRegistry({ sweepIntervalMs: config.leaseSweepMs });
    const sends = new MemorySendLedger({ ttlMs: config.sendDedupeTtlMs, maxEntries: config.sendDedupeMaxEntries });
    return { registry, sends, close: () => registry.close() };
  }
  const redis = new Redis(config.redisUrl, {
    lazyConnect: true,
    // Commands wait in the offline queue through a short outage (a Redis restart), then fail
    // so callers get 503 instead of hanging; reconnects back off up to 2 s.
    maxRetriesPerRequest: 2,
    retryStrategy: (times) => Math.min(times * 100, 2000),
    connectTimeout: 5000,
  });
  redis.on('error', (err) => log.warn({ err }, 'redis error'));
  await redis.connect();
  await feed.useRedis(redis, config.redisPrefix);
  const registry = new RedisRegistry(redis, {
    prefix: config.redisPrefix,
    sweepIntervalMs: config.leaseSweepMs,
    onError: (err) => log.warn({ err }, 'registry cleanup failed'),
  });
  log.info({ prefix: config.redisPrefix }, 'registry on redis');
  return {
    registry,
    sends: new RedisSendLedger(redis, { prefix: config.redisPrefix, ttlMs: config.sendDedupeTtlMs }),
    close: async () => {
      await registry.close();
      await redis.quit();
    },
  };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger({ service: 'sv-discover', level: config.logLevel });
  const feed = new ChangeFeed(log.child({ module: 'change-feed' }));
  const store = await openStore(config, log, feed);
  const app = buildApp({ registry: store.registry, sends: store.sends, secret: config.clusterSecret, logger: log, feed,
    startsEmptyLeaseMs: config.redisUrl === undefined ? config.leaseMs : undefined });
  app.addHook('onClose', () => store.close());
  const url = await app.listen({ port: config.port, host: config.host });
  log.info({ url }, 'listening');

  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return;
    closing = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

void runMain(main);
