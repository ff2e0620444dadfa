/**
 * sv-persist: load config, (embedded Postgres), migrations, store, writer, HTTP. On SIGTERM/SIGINT:
 * stop accepting, drain the writer, close the store, stop the embedded Postgres, exit.
 */
import { runMain } from '@chat/shared/config';
import { createLogger } from '@chat/shared/logger';
import { buildApp } from './app.ts';
import { BatchWriter } from './batch-writer.ts';
import { loadConfig } from './config.ts';
import { startEmbeddedPostgres, type EmbeddedPg } from './embedded-postgres.ts';
import { migrate } from './migrate.ts';
import { SequelizeMessageStore } from './store-sequelize.ts';

async function main(): Promise<void> {
  // embedded-postgres installs exit hooks on SIGINT/SIGTERM that stop Postgres and exit at once;
  // we stop it ourselves, after the writer has drained.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.removeAllListeners(signal);

  const config = loadConfig();
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
  } catch (err) {
    await embedded?.stop();
    throw err;
  }
  const store = SequelizeMessageStore.connect(databaseUrl, { insertMethod: config.insertMethod, poolMax: config.poolMax });
  const batchLog = logger.child({ module: 'writer' });
  const writer = new BatchWriter(store, {
    maxBatch: config.maxBatch,
    maxQueue: config.maxQueue,
    onBatch: (size, ms) => batchLog.debug({ size, ms: Math.round(ms) }, 'batch committed'),
  });
  const app = buildApp({ store, writer, secret: config.clusterSecret, logger });
  const url = await app.listen({ port: config.port, host: config.host });
  logger.info({ url, insertMethod: config.insertMethod, embedded: embedded !== undefined }, 'listening');

  let closing = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down');
    try {
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
}

await runMain(main);
