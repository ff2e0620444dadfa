/**
 * sv-persist: load config, (embedded Postgres), migrations, store, writer, HTTP, and with
 * KAFKA_BROKERS the consumer. On SIGTERM/SIGINT: stop the consumer (it commits what is stored),
 * stop accepting, drain the writer, close the store, stop the embedded Postgres, exit.
 */
import { runMain } from '@chat/shared/config';
import { createLogger } from '@chat/shared/logger';
import { buildApp } from './app.ts';
import { BatchWriter } from './batch-writer.ts';
import { loadConfig } from './config.ts';
import { KafkaPersistConsumer } from './consumer.ts';
import { createKafka } from '@chat/shared/kafka-client';
import { startEmbeddedPostgres, type EmbeddedPg } from './embedded-postgres.ts';
import { createPersistMetrics, type PersistMetrics } from './metrics.ts';
import { migrate } from './migrate.ts';
import { guardLogMode } from './seq-guard.ts';
import { SequelizeMessageStore } from './store-sequelize.ts';

async function main(): Promise<void> {
  // embedded-postgres installs exit hooks on SIGINT/SIGTERM that stop Postgres and exit at once;
  // we stop it ourselves, after the writer has drained. Only the listeners `listeners()` shows:
  // removeAllListeners would also drop the hidden one through which tsx's parent process learns
  // that we handle the signal, and tsx then SIGKILLs us ~60 ms into the graceful shutdown.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    for (const listener of process.listeners(signal)) process.removeListener(signal, listener);
  }

  const config = loadConfig();
  const kafkaMode = config.kafkaBrokers.length > 0;
  const logger = createLogger({ service: 'sv-persist', level: config.logLevel });
  let embedded: EmbeddedPg | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({ dataDir: config.pgDataDir, port: config.pgPort, logger });
    databaseUrl = embedded.url;
  }
  try {
    const out = await migrate(databaseUrl);
    logger.debug({ out }, 'migrations applied');
    await guardLogMode(databaseUrl, kafkaMode ? { mode: 'kafka', generation: config.kafkaSeqGeneration } : { mode: 'direct' });
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
  // Each mode runs one prepared insert; only Kafka mode's needs planning at every execution.
  const store = SequelizeMessageStore.connect(databaseUrl, {
    insertMethod: config.insertMethod, poolMax: config.poolMax, maxRoomMembers: config.maxRoomMembers, customPlans: kafkaMode,
  });
  const batchLog = logger.child({ module: 'writer' });
  let metrics: PersistMetrics | undefined;
  const writer = new BatchWriter(store, {
    maxBatch: config.maxBatch,
    maxQueue: config.maxQueue,
    onBatch: (size, ms, newestTs) => {
      metrics?.batch(size, ms / 1000, newestTs);
      batchLog.debug({ size, ms: Math.round(ms) }, 'batch committed');
    },
  });
  // Kafka mode: the log fixes seq and the consumer stores it; the ingest route is off (app.ts).
  const consumer = !kafkaMode ? undefined : new KafkaPersistConsumer(
    createKafka({ brokers: config.kafkaBrokers, clientId: 'sv-persist' }, logger), store, logger, {
      topic: config.kafkaTopic, groupId: config.kafkaGroupId, seqGeneration: config.kafkaSeqGeneration,
      maxWaitTimeInMs: config.kafkaMaxWaitMs, minBytes: config.kafkaMinBytes, maxBytes: config.kafkaMaxBytes, commitIntervalMs: config.kafkaCommitIntervalMs, maxChunk: config.maxBatch, concurrency: config.kafkaConcurrency,
      sessionTimeout: config.kafkaSessionTimeoutMs, rebalanceTimeout: config.kafkaRebalanceTimeoutMs,
      // Well below the session timeout, so a live persister is never mistaken for a dead one, and
      // often enough that a rebalance (a successor joining) is noticed within a second.
      heartbeatInterval: Math.min(1000, Math.floor(config.kafkaSessionTimeoutMs / 3)),
      onInsert: (rows, ms) => metrics?.insert(rows, ms / 1000),
    });
  metrics = createPersistMetrics(consumer && (() => consumer.stats));
  const app = buildApp({ store, writer, secret: config.clusterSecret, logger, metrics, ingest: !consumer, ...(consumer && { consumer }) });
  const url = await app.listen({ port: config.port, host: config.host });
  logger.info({ url, insertMethod: config.insertMethod, embedded: embedded !== undefined, kafka: consumer !== undefined }, 'listening');
  let closing = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    try {
      // The consumer finishes its chunk in hand and commits the offsets of what is stored.
      await consumer?.stop();
      // Close the listener first; requests already in flight still get their answers.
      await Promise.all([app.close(), writer.close()]);
      await store.close();
      await embedded?.stop();
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  // Started after listen, so /healthz answers (and /readyz says why not ready) while it joins,
  // which can take a session timeout when a killed persister's membership must expire first.
  try {
    await consumer?.start();
  } catch (err) {
    if (closing) return;
    closing = true;
    await app.close();
    await store.close();
    await embedded?.stop();
    throw err;
  }
}

await runMain(main);
