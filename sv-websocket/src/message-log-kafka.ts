/**
 * The message log on Kafka (KAFKA_BROKERS set): each message becomes one record of the topic,
 * keyed by its conversation, produced with acks = all. Its `seq` is the record's offset in its
 * partition (seqFromOffset, shared/src/kafka-log.ts), so seq order is the order the broker made
 * records durable. Natural batching: one produce in flight, the next one gathers meanwhile.
 *
 * The partition of every record is set here (partitionFor, the Java/kafkajs default rule), so
 * the producer knows which records of a request share a partition; the broker answers one base
 * offset per partition, and the records of that partition got consecutive offsets in the order
 * they were given.
 */
import { Partitioners, type Kafka, type Message as KafkaRecord, type Producer, type RecordMetadata } from 'kafkajs';
import { NaturalBatcher } from '@chat/shared/batcher';
import { ERR_CONFIG, ERR_LOG_UNAVAILABLE } from '@chat/shared/errors';
import { encodeRecordValue, partitionFor, recordKey, seqFromOffset } from '@chat/shared/kafka-log';
import type { Logger } from '@chat/shared/logger';
import type { MessageLog } from '@chat/shared/message-log';
import type { Accepted, NewMessage } from '@chat/shared/types';
import { withTimeout } from '@chat/shared/timeout';

export interface KafkaLogOptions {
  topic: string;
  /** Partition count the topic must have (KAFKA_PARTITIONS). */
  partitions: number;
  /** KAFKA_SEQ_GENERATION: the high part of every seq. */
  generation: number;
  /** A batch not acknowledged within this fails with ERR_LOG_UNAVAILABLE. @default 5000 */
  sendTimeoutMs?: number;
  /** Most messages per batch. @default 1000 */
  maxBatch?: number;
  /** Most messages waiting behind the batch in flight; beyond, append fails (`unavailable`). @default 20000 */
  maxQueue?: number;
  /**
   * Most bytes of record values and keys per produce request; a bigger batch goes as several
   * requests in a row. Stays under Kafka's default max.message.bytes (1 MiB). @default 900000
   */
  maxRequestBytes?: number;
  /**
   * Under load (a batch of at least BUSY_BATCH messages), the next produce request starts no
   * sooner than this after the last one, and carries what arrived meanwhile (KAFKA_LINGER_MS;
   * Kafka's own producers default to `linger.ms` 5 since Kafka 4.0). Fewer, bigger requests: at
   * 10,000 msgs/s on the mock broker, 5 ms took the persist lag p99 from a median of 653 ms (two
   * runs of five above 1 s) to 461 ms (all five under 1 s), and the CPU per message from 157–159
   * to 153–155 µs (docs/benchmarks.md, `KAFKA_LINGER_MS`). 0 is off. @default 0
   */
  lingerMs?: number;
  onBatch?: (size: number, ms: number) => void;
}

/** What the log needs of a kafkajs producer (tests wrap one to count sends). */
export type LogProducer = Pick<Producer, 'send' | 'disconnect'>;

/**
 * A batch this big means load: the linger applies after it. At light load a produce carries a
 * message or two, and lingering would only add its milliseconds to every ack (p50 1.5 → 4.7 ms at
 * 1,000 msgs/s with 5 ms applied to every batch).
 */
const BUSY_BATCH = 16;

/** Per-record overhead in a record batch, roughly (varints, attributes, headers count). */
const RECORD_OVERHEAD = 32;

interface PlannedRecord extends KafkaRecord {
  key: string;
  value: string;
  partition: number;
}

export class KafkaMessageLog implements MessageLog {
  private readonly batcher: NaturalBatcher<NewMessage, Accepted>;
  private readonly sendTimeoutMs: number;
  private readonly maxRequestBytes: number;
  private closed = false;
  private lastFailed = false;

  /**
   * Makes sure the topic is there with the configured partition count, connects a producer and
   * returns the log, which owns that producer from then on.
   */
  static async create(kafka: Kafka, opts: KafkaLogOptions, logger: Logger): Promise<KafkaMessageLog> {
    await ensureTopic(kafka, opts.topic, opts.partitions, logger);
    const producer = kafka.producer({
      // The topic was checked just now; never let a produce silently re-create a deleted topic
      // with the broker's default partition count.
      allowAutoTopicCreation: false,
      // Every record carries its partition; this only silences kafkajs's v2 partitioner warning.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    try {
      await producer.connect();
    } catch (err) {
      throw new ERR_LOG_UNAVAILABLE('could not connect to Kafka', { cause: err });
    }
    return new KafkaMessageLog(producer, opts);
  }

  constructor(private readonly producer: LogProducer, private readonly opts: KafkaLogOptions) {
    this.sendTimeoutMs = opts.sendTimeoutMs ?? 5000;
    this.maxRequestBytes = opts.maxRequestBytes ?? 900_000;
    this.batcher = new NaturalBatcher<NewMessage, Accepted>({
      name: 'message log',
      maxBatch: opts.maxBatch ?? 1000,
      maxQueue: opts.maxQueue ?? 20_000,
      gatherTurn: true,
      ...(opts.lingerMs ? { linger: { ms: opts.lingerMs, busyBatch: BUSY_BATCH } } : {}),
      run: (messages) => this.produce(messages),
    });
  }

  /** Queued synchronously in call order, so the caller's order becomes offset (`seq`) order. */
  append(msgs: NewMessage[]): Promise<Accepted[]> {
    if (this.closed) return Promise.reject(new ERR_LOG_UNAVAILABLE('the node is shutting down'));
    return Promise.all(msgs.map((m) => this.batcher.push(m)));
  }

  backlogMs(): number {
    return this.batcher.oldestWaitMs();
  }

  healthy(): boolean {
    return !this.lastFailed;
  }

  /** Waits for what is queued and in flight, then disconnects the producer. */
  async close(): Promise<void> {
    this.closed = true;
    await this.batcher.idle();
    await this.producer.disconnect();
  }

  private async produce(messages: NewMessage[]): Promise<Accepted[]> {
    const started = performance.now();
    const accepted: Accepted[] = [];
    for (const chunk of this.requests(messages)) accepted.push(...(await this.send(chunk)));
    this.opts.onBatch?.(messages.length, performance.now() - started);
    return accepted;
  }

  /** Splits a batch into produce requests of at most maxRequestBytes (one oversized message goes alone). */
  private *requests(messages: NewMessage[]): Generator<{ messages: NewMessage[]; records: PlannedRecord[] }> {
    let chunk = { messages: [] as NewMessage[], records: [] as PlannedRecord[] };
    let bytes = 0;
    for (const m of messages) {
      const key = recordKey(m);
      const record: PlannedRecord = { key, value: encodeRecordValue(m), partition: partitionFor(key, this.opts.partitions) };
      const size = Buffer.byteLength(record.key) + Buffer.byteLength(record.value) + RECORD_OVERHEAD;
      if (chunk.records.length > 0 && bytes + size > this.maxRequestBytes) {
        yield chunk;
        chunk = { messages: [], records: [] };
        bytes = 0;
      }
      chunk.messages.push(m);
      chunk.records.push(record);
      bytes += size;
    }
    if (chunk.records.length > 0) yield chunk;
  }

  private async send({ messages, records }: { messages: NewMessage[]; records: PlannedRecord[] }): Promise<Accepted[]> {
    let metadata: RecordMetadata[];
    try {
      metadata = await withTimeout(
        this.producer.send({ topic: this.opts.topic, acks: -1, timeout: this.sendTimeoutMs, messages: records }),
        this.sendTimeoutMs,
        'acknowledgement',
      );
    } catch (err) {
      this.lastFailed = true;
      throw new ERR_LOG_UNAVAILABLE('Kafka did not acknowledge the batch', { cause: err });
    }
    this.lastFailed = false;
    return assignSeqs(messages, records, metadata, this.opts.topic, this.opts.generation);
  }
}

/**
 * Each record's offset is its partition's base offset plus its index among the request's records
 * of that partition, in the order given; seq follows from the offset and the generation.
 */
export function assignSeqs(
  messages: readonly NewMessage[],
  records: readonly { partition: number }[],
  metadata: readonly RecordMetadata[],
  topic: string,
  generation: number,
): Accepted[] {
  const next = new Map<number, number>();
  for (const md of metadata) {
    if (md.topicName === topic) next.set(md.partition, Number(md.baseOffset));
  }
  return messages.map((m, i) => {
    const partition = records[i]!.partition;
    const offset = next.get(partition);
    // Written but with no offset to derive its seq from: report it as not accepted (the sender
    // retries; the persister keeps one copy per (sender, cid)).
    if (offset === undefined || offset < 0) throw new ERR_LOG_UNAVAILABLE(`no base offset for partition ${partition}`);
    next.set(partition, offset + 1);
    return { id: m.id, seq: seqFromOffset(generation, offset), ts: m.ts, duplicate: false };
  });
}

/**
 * Creates the topic with `partitions` partitions when it is missing, then refuses to go on when
 * it has another partition count: a different count moves conversations to other partitions,
 * where offsets (seqs) restart lower. Brokers whose admin createTopics does not work (librdkafka's
 * mock cluster) fall back to auto-creation, with a warning.
 */
export async function ensureTopic(kafka: Kafka, topic: string, partitions: number, logger: Logger): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new ERR_LOG_UNAVAILABLE('could not connect to Kafka', { cause: err });
  }
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) {
      try {
        await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
        logger.info({ topic, partitions }, 'created the message topic');
      } catch (err) {
        logger.warn({ err, topic }, 'could not create the message topic; relying on broker auto-creation');
      }
    }
    let found: number;
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      found = metadata.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
    } catch (err) {
      throw new ERR_LOG_UNAVAILABLE(`could not read the metadata of topic ${topic}`, { cause: err });
    }
    if (found !== partitions) {
      throw new ERR_CONFIG(
        `  KAFKA_PARTITIONS: topic ${topic} has ${found} partitions, not ${partitions}. Changing the count moves ` +
        'conversations to other partitions and breaks seq order: to change it, bump KAFKA_SEQ_GENERATION and set ' +
        'KAFKA_PARTITIONS to the new count.',
      );
    }
  } finally {
    await admin.disconnect();
  }
}
