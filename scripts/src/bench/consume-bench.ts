/**
 * Kafka-mode persist rate: produce ROWS records to a fresh 6-partition topic, then time one
 * consumer storing all of them (rows/s from consumer start to the last row committed).
 *   npx tsx scripts/src/bench/consume-bench.ts [--rows 50000] [--concurrency 3] [--chunk 2000]
 * Uses KAFKA_BROKERS / DATABASE_URL, or the test harness's mock broker and embedded Postgres.
 */
import { flagsToEnv } from '@chat/shared/config';
import { createLogger } from '@chat/shared/logger';
import { startTestKafka, uniqueTopic } from '@chat/shared/local-kafka';
import { stopStartedServices } from '@chat/shared/started-services';
import { KafkaPersistConsumer } from '../../../sv-persist/src/consumer.ts';
import { createKafka } from '@chat/shared/kafka-client';
import { SequelizeMessageStore } from '../../../sv-persist/src/store-sequelize.ts';
import { createMigratedDatabase, msg } from '../../../sv-persist/test/helpers/db.ts';
import { countRows, PARTITIONS, plainKafka, produce, TEST_TIMINGS } from '../../../sv-persist/test/helpers/kafka.ts';

const flags = flagsToEnv(process.argv.slice(2));
const ROWS = Number(flags.ROWS ?? 50_000);
const CONCURRENCY = Number(flags.CONCURRENCY ?? 3);
const CHUNK = Number(flags.CHUNK ?? 2000);

try {
  const kafka = await startTestKafka();
  const url = await createMigratedDatabase();
  const topic = uniqueTopic('bench');
  await kafka.createTopic(topic, PARTITIONS);
  const producer = plainKafka(kafka.brokers).producer();
  await producer.connect();
  for (let i = 0; i < ROWS; i += 1000) {
    const n = Math.min(1000, ROWS - i);
    await produce(producer, topic, Array.from({ length: n }, (_, j) => msg(`u${(i + j) % 997}`, `v${(i + j) % 101}`, `b${i + j}`, `message ${i + j}, a typical short chat line`)));
  }
  await producer.disconnect();

  const logger = createLogger({ service: 'bench', level: 'warn' });
  const store = SequelizeMessageStore.connect(url, { poolMax: Math.max(CONCURRENCY, 2) });
  const consumer = new KafkaPersistConsumer(createKafka({ brokers: kafka.brokers, clientId: 'consume-bench' }, logger), store, logger, {
    ...TEST_TIMINGS, topic, groupId: 'bench', seqGeneration: 0, concurrency: CONCURRENCY, maxChunk: CHUNK,
  });
  const started = performance.now();
  await consumer.start();
  let joinedAt: number | undefined;
  while ((await countRows(url)) < ROWS) {
    if (joinedAt === undefined && consumer.stats.inserted > 0) joinedAt = performance.now();
    await new Promise((r) => setTimeout(r, 20));
  }
  const done = performance.now();
  await consumer.stop();
  await store.close();
  const fromFirst = joinedAt === undefined ? NaN : ROWS / ((done - joinedAt) / 1000);
  process.stdout.write(`${ROWS} rows, concurrency ${CONCURRENCY}, chunk ${CHUNK}: ${Math.round(ROWS / ((done - started) / 1000))} rows/s from start (incl. group join), ~${Math.round(fromFirst)} rows/s from the first commit\n`);
} finally {
  await stopStartedServices();
}
