/** Reading back what the Kafka message log wrote, from the run's test broker. */
import { Kafka, logLevel } from 'kafkajs';
import { decodeRecordValue } from '@chat/shared/kafka-log';
import { uniqueTopic } from '@chat/shared/local-kafka';
import type { NewMessage } from '@chat/shared/types';

export interface ConsumedRecord {
  partition: number;
  offset: number;
  key: string;
  message: NewMessage;
}

/** Consumes `topic` from the beginning until `count` records arrived (or fails after `timeoutMs`). */
export async function consumeRecords(brokers: string[], topic: string, count: number, timeoutMs = 20_000): Promise<ConsumedRecord[]> {
  const kafka = new Kafka({ brokers, clientId: 'test-reader', logLevel: logLevel.NOTHING });
  // The mock answers an empty fetch only after the whole maxWaitTimeInMs: keep it short.
  const consumer = kafka.consumer({ groupId: uniqueTopic('test-reader'), maxWaitTimeInMs: 100 });
  const got: ConsumedRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`consumed ${got.length} of ${count} records of ${topic}`)), timeoutMs);
      consumer.run({
        eachMessage: async ({ partition, message }) => {
          const decoded = decodeRecordValue(message.value);
          if (!decoded) throw new Error(`record ${partition}/${message.offset} is not a message`);
          got.push({ partition, offset: Number(message.offset), key: message.key?.toString() ?? '', message: decoded });
          if (got.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      }).catch((err: unknown) => { clearTimeout(timer); reject(err); });
    });
  } finally {
    await consumer.disconnect();
  }
  return got;
}

/** How many records the topic holds (sum over partitions of high watermark − low). */
export async function countRecords(brokers: string[], topic: string): Promise<number> {
  const admin = new Kafka({ brokers, clientId: 'test-reader', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}
