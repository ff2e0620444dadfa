/**
 * Kafka-mode produce rate: how fast a node's KafkaMessageLog makes messages durable (acks = all),
 * with natural batching, from many concurrent senders.
 *   npx tsx scripts/src/bench/produce-bench.ts [--messages 100000] [--inflight 2000] [--partitions 6]
 * Uses KAFKA_BROKERS, or the test harness's librdkafka mock cluster.
 */
import { flagsToEnv } from '@chat/shared/config';
import { newId } from '@chat/shared/ids';
import { createKafka } from '@chat/shared/kafka-client';
import { createLogger } from '@chat/shared/logger';
import { startTestKafka, uniqueTopic } from '@chat/shared/local-kafka';
import { stopStartedServices } from '@chat/shared/started-services';
import { KafkaMessageLog } from '../../../sv-websocket/src/message-log-kafka.ts';

const flags = flagsToEnv(process.argv.slice(2));
const MESSAGES = Number(flags.MESSAGES ?? 100_000);
const INFLIGHT = Number(flags.INFLIGHT ?? 2000);
const PARTITIONS = Number(flags.PARTITIONS ?? 6);

try {
  const broker = await startTestKafka();
  const topic = uniqueTopic('produce-bench');
  await broker.createTopic(topic, PARTITIONS);
  const logger = createLogger({ service: 'produce-bench', level: 'warn' });
  const kafka = createKafka({ brokers: broker.brokers, clientId: 'produce-bench', sendTimeoutMs: 10_000 }, logger);
  const batches: number[] = [];
  const log = await KafkaMessageLog.create(kafka, {
    topic, partitions: PARTITIONS, generation: 0, sendTimeoutMs: 10_000, maxQueue: INFLIGHT * 2,
    onBatch: (n) => batches.push(n),
  }, logger);
  let next = 0;
  let done = 0;
  const started = performance.now();
  // INFLIGHT senders, each appending its next message as soon as the previous one is acked.
  await Promise.all(Array.from({ length: INFLIGHT }, async (_, s) => {
    while (next < MESSAGES) {
      const i = next++;
      await log.append([{ id: newId(), from: `u${s}`, to: `u${(s * 31 + i) % 997}`, cid: `c${i}`, body: `bench message ${i}, a typical short chat line`, ts: Date.now() }]);
      done++;
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  await log.close();
  const meanBatch = batches.reduce((a, b) => a + b, 0) / batches.length;
  process.stdout.write(`produced ${done} messages in ${seconds.toFixed(2)} s: ${Math.round(done / seconds).toLocaleString('en-US')} msgs/s ` +
    `(${batches.length} produce requests, mean batch ${meanBatch.toFixed(0)}, inflight ${INFLIGHT}, ${PARTITIONS} partitions, ${process.env.KAFKA_BROKERS ? 'KAFKA_BROKERS' : 'librdkafka mock'})\n`);
} finally {
  await stopStartedServices();
}
