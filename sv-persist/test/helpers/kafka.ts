/** Kafka-mode test helpers: produce like a node does, run consumers with test timings. */
import { Writable } from 'node:stream';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { encodeRecordValue, partitionFor, recordKey, seqFromOffset } from '@chat/shared/kafka-log';
import { createLogger } from '@chat/shared/logger';
import { withPg } from '@chat/shared/local-postgres';
import type { NewMessage } from '@chat/shared/types';
import { KafkaPersistConsumer, type KafkaConsumerOptions } from '../../src/consumer.ts';
import { createKafka } from '@chat/shared/kafka-client';
import type { MessageStore } from '../../src/store.ts';

export const PARTITIONS = 6;

/**
 * Timings the librdkafka mock answers quickly with. It answers an empty fetch only after the whole
 * `maxWaitTimeInMs`, even when records arrive meanwhile, so a short wait keeps persistence prompt.
 */
export const TEST_TIMINGS = {
  maxWaitTimeInMs: 100, sessionTimeout: 6000, rebalanceTimeout: 3000, heartbeatInterval: 300,
  retryInitialMs: 50, retryMaxMs: 400,
} satisfies Partial<KafkaConsumerOptions>;

/** Where each produced message landed, so tests know the seq the node acked. */
export interface Produced { msg: NewMessage; partition: number; offset: number }

/** Produce `msgs` the way a node does (key = conversation, explicit partition, acks = all), in one request. */
export async function produce(producer: Producer, topic: string, msgs: NewMessage[]): Promise<Produced[]> {
  const placed = msgs.map((msg) => ({ msg, partition: partitionFor(recordKey(msg), PARTITIONS) }));
  const meta = await producer.send({
    topic, acks: -1,
    messages: placed.map(({ msg, partition }) => ({ key: recordKey(msg), value: encodeRecordValue(msg), partition })),
  });
  const next = new Map(meta.map((m) => [m.partition, Number(m.baseOffset)]));
  return placed.map(({ msg, partition }) => {
    const offset = next.get(partition)!;
    next.set(partition, offset + 1);
    return { msg, partition, offset };
  });
}

export function plainKafka(brokers: string[]): Kafka {
  return new Kafka({ clientId: 'persist-test', brokers, logLevel: logLevel.NOTHING });
}

/** A logger whose records tests can read. */
export function captureLogger(level = 'info') {
  const records: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) records.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ service: 'sv-persist-test', level, destination }), records };
}

export interface TestConsumer { consumer: KafkaPersistConsumer; records: Record<string, unknown>[] }

export function testConsumer(brokers: string[], store: MessageStore, opts: Pick<KafkaConsumerOptions, 'topic' | 'groupId' | 'seqGeneration'> & Partial<KafkaConsumerOptions>): TestConsumer {
  const { logger, records } = captureLogger();
  const consumer = new KafkaPersistConsumer(createKafka({ brokers, clientId: opts.groupId }, logger), store, logger, {
    ...TEST_TIMINGS, ...opts,
  });
  return { consumer, records };
}

export interface StoredRow { id: string; seq: number; sender: string; cid: string; body: string }

export async function storedRows(url: string): Promise<StoredRow[]> {
  const rows = await withPg(url, (q) => q<{ id: string; seq: string; sender: string; cid: string; body: string }>(
    'SELECT id, seq, sender, cid, body FROM messages'));
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

export async function countRows(url: string): Promise<number> {
  const r = await withPg(url, (q) => q<{ n: string }>('SELECT count(*) AS n FROM messages'));
  return Number(r[0]!.n);
}

/** Every produced message stored exactly once, with the seq its offset gives. */
export function expectedSeqs(produced: Produced[], generation: number): Map<string, number> {
  return new Map(produced.map((p) => [p.msg.id, seqFromOffset(generation, p.offset)]));
}
