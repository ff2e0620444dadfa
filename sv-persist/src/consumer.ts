/**
 * Kafka mode's batch loop, the message path's last step: a consumer group reads the message log
 * and stores each partition's batches through `MessageStore.insertLogged`, with the seq the nodes
 * already acked (RecordDecoder). An offset is committed only after the rows up to it are committed
 * in Postgres (OffsetCommits); a database error retries the same records with capped exponential
 * backoff until they land or the partition is no longer ours (InsertLanes).
 *
 * This module is the consumer's lifecycle: connect, subscribe, run, stop, and a fresh consumer
 * after a crash kafkajs does not restart from. kafkajs hands over one batch per partition per
 * fetch, cut here into chunks of at most `maxChunk` rows. `eachBatch` hands them to a
 * PartitionPipeline and returns, so kafkajs fetches the next batch while this one is stored; the
 * pipeline keeps each partition in offset order (one statement in flight per partition, the
 * chunks that arrive meanwhile merged into the next), and its statements meet in the insert lanes.
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from '@chat/shared/logger';
import type { Message } from '@chat/shared/types';
import { newConsumerStats, type ConsumerStats } from './consumer-stats.ts';
import { InsertLanes } from './insert-lanes.ts';
import { OffsetCommits } from './offset-commits.ts';
import { PartitionPipeline } from './partition-pipeline.ts';
import { RecordDecoder } from './record-decoding.ts';
import type { MessageStore } from './store.ts';

export interface KafkaConsumerOptions {
  topic: string;
  groupId: string;
  /** KAFKA_SEQ_GENERATION: the same value the nodes use to ack. */
  seqGeneration: number;
  /** Fetch wait; keep it short with the librdkafka mock broker. @default 100 */
  maxWaitTimeInMs?: number;
  /** Fetch minBytes (see KAFKA_MIN_BYTES). @default 1 */
  minBytes?: number;
  /** Fetch maxBytes (see KAFKA_MAX_BYTES). @default 1048576 */
  maxBytes?: number;
  /**
   * Commit resolved offsets at most this often; 0 commits after every chunk. Offsets are resolved
   * only after their rows are committed in Postgres either way; a longer interval only means a
   * restarted persister re-reads more records, which ON CONFLICT skips. It saves a broker round
   * trip per batch, which bounds how many batches a persister handles per second. @default 1000
   */
  commitIntervalMs?: number;
  /** Called after each insert statement with its rows and duration (metrics). */
  onInsert?: (rows: number, ms: number) => void;
  /** Most rows per insert statement (PERSIST_MAX_BATCH). @default 2000 */
  maxChunk?: number;
  /** Insert lanes: statements in flight at once, each on its own connection. @default 3 */
  concurrency?: number;
  /** First and largest pause between retries of a failed insert (and of a consumer restart). @default 200, 5000 */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Group membership timings (kafkajs defaults 30000 / 60000 / 3000); tests shorten them. */
  sessionTimeout?: number;
  rebalanceTimeout?: number;
  heartbeatInterval?: number;
}

/** Partition batches kafkajs hands over at once; they wait in the insert lanes, merged. */
const PARTITIONS_AT_ONCE = 32;

export class KafkaPersistConsumer {
  readonly stats: ConsumerStats = newConsumerStats();
  private readonly log: Logger;
  private readonly maxChunk: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly decoder: RecordDecoder;
  private readonly lanes: InsertLanes;
  private readonly commits: OffsetCommits;
  /** Fetched records per partition, in offset order, on their way into Postgres. */
  private readonly pipeline: PartitionPipeline<Message>;
  /** Per partition, the newest batch kafkajs handed over: its liveness checks, heartbeat and commit. */
  private readonly payloads = new Map<number, EachBatchPayload>();
  private joined = false;
  private partitions: number[] = [];

  private consumer: Consumer;
  private stopping = false;
  private restarts = 0;

  constructor(private readonly kafka: Kafka, store: MessageStore, logger: Logger, private readonly opts: KafkaConsumerOptions) {
    this.log = logger.child({ module: 'consumer', topic: opts.topic, groupId: opts.groupId });
    this.maxChunk = opts.maxChunk ?? 2000;
    this.retryInitialMs = opts.retryInitialMs ?? 200;
    this.retryMaxMs = opts.retryMaxMs ?? 5000;
    this.decoder = new RecordDecoder(opts.seqGeneration, this.stats, this.log);
    this.lanes = new InsertLanes(store, {
      isOurs: (partition) => this.isOurs(partition),
      heartbeat: async (partition) => { await this.payloads.get(partition)?.heartbeat(); },
    }, this.stats, this.log, {
      maxChunk: this.maxChunk,
      concurrency: opts.concurrency ?? 3,
      maxQueue: PARTITIONS_AT_ONCE * 1024,
      retryInitialMs: this.retryInitialMs,
      retryMaxMs: this.retryMaxMs,
      seqGeneration: opts.seqGeneration,
      onInsert: opts.onInsert,
    });
    this.commits = new OffsetCommits({
      topic: opts.topic,
      intervalMs: opts.commitIntervalMs ?? 1000,
      consumer: () => this.consumer,
      joined: () => this.joined,
      log: this.log,
    });
    this.pipeline = new PartitionPipeline<Message>({
      maxRows: this.maxChunk,
      // Fetched rows waiting, all partitions together, before fetching pauses: one statement's worth.
      maxQueuedRows: this.maxChunk,
      flush: (partition, msgs, firstOffset) => this.lanes.insertUntilStored(partition, msgs, firstOffset),
      stored: (partition, lastOffset, records) => this.onStored(partition, lastOffset, records),
    });
    this.consumer = this.createConsumer();
  }

  private createConsumer(): Consumer {
    const opts = this.opts;
    const consumer = this.kafka.consumer({
      groupId: opts.groupId,
      maxWaitTimeInMs: opts.maxWaitTimeInMs ?? 100,
      minBytes: opts.minBytes ?? 1,
      maxBytes: opts.maxBytes ?? 1024 * 1024,
      ...(opts.sessionTimeout !== undefined && { sessionTimeout: opts.sessionTimeout }),
      ...(opts.rebalanceTimeout !== undefined && { rebalanceTimeout: opts.rebalanceTimeout }),
      ...(opts.heartbeatInterval !== undefined && { heartbeatInterval: opts.heartbeatInterval }),
    });
    const { GROUP_JOIN, CRASH, DISCONNECT, STOP } = consumer.events;
    consumer.on(GROUP_JOIN, ({ payload }) => {
      this.joined = true;
      this.partitions = [...(payload.memberAssignment[opts.topic] ?? [])].sort((a, b) => a - b);
      this.commits.keepOnly(this.partitions);
      // The new generation fetches from the committed offsets: what waits would be fetched again.
      this.pipeline.drop();
      this.log.info({ partitions: this.partitions, memberId: payload.memberId }, 'joined consumer group');
    });
    consumer.on(CRASH, ({ payload }) => {
      this.joined = false;
      this.log.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
      // kafkajs restarts itself after retriable errors only. After any other (a broker answering a
      // SyncGroup with an error, say) the consumer would stay dead and its partitions unconsumed
      // once the group rebalances them to it: start a fresh one instead.
      if (!payload.restart && consumer === this.consumer) void this.restart();
    });
    for (const event of [DISCONNECT, STOP]) consumer.on(event, () => { this.joined = false; });
    return consumer;
  }

  /** Replace a crashed consumer with a new one, backing off while starting it fails. */
  private async restart(): Promise<void> {
    let delay = this.retryInitialMs;
    while (!this.stopping) {
      await new Promise((r) => setTimeout(r, delay));
      if (this.stopping) return;
      await this.consumer.disconnect().catch(() => undefined);
      this.consumer = this.createConsumer();
      this.restarts++;
      try {
        await this.start();
        this.log.warn({ restarts: this.restarts }, 'consumer restarted after a crash');
        return;
      } catch (err) {
        this.log.error({ err }, 'consumer restart failed; retrying');
        delay = Math.min(delay * 2, this.retryMaxMs);
      }
    }
  }

  /** Connected and in the group (possibly with no partitions, when members outnumber them). */
  isReady(): boolean {
    return this.joined;
  }

  /** Partitions assigned at the last join. */
  get assignment(): readonly number[] {
    return this.partitions;
  }

  /** Connect, join the group (a new group starts from the beginning) and run; resolves once running. */
  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.opts.topic], fromBeginning: true });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      // OffsetCommits commits what is stored (kafkajs's autoCommit would commit every batch).
      autoCommit: false,
      partitionsConsumedConcurrently: PARTITIONS_AT_ONCE,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    this.commits.startTimer();
  }

  /** Finish the statements in flight, commit what is stored, leave the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.commits.stopTimer();
    // What waits is not stored, so not committed: the next owner of its partition fetches it again.
    this.pipeline.drop();
    await this.pipeline.idle();
    await this.commits.commit();
    await this.consumer.disconnect();
  }

  /**
   * Hand the batch to the partition's pipeline and return, so kafkajs fetches on meanwhile. The
   * offset is resolved at once: with autoCommit off that only moves kafkajs's fetch position. What
   * is committed moves once the rows are stored (onStored).
   */
  private async handleBatch(p: EachBatchPayload): Promise<void> {
    const { topic, partition, messages } = p.batch;
    this.payloads.set(partition, p);
    for (let start = 0; start < messages.length; start += this.maxChunk) {
      if (this.stopping || !p.isRunning() || p.isStale()) return;
      const records = messages.slice(start, start + this.maxChunk);
      const lastOffset = records[records.length - 1]!.offset;
      p.resolveOffset(lastOffset);
      await this.pipeline.push(partition, {
        items: this.decoder.decode(topic, partition, records), records: records.length, firstOffset: records[0]!.offset, lastOffset,
      });
    }
    await p.heartbeat();
  }

  /** A partition's rows up to `lastOffset` are stored: commit past it (now, or at the next tick). */
  private async onStored(partition: number, lastOffset: string, records: number): Promise<void> {
    this.stats.records += records;
    // A statement that finished after a rebalance took the partition away: not ours to commit.
    if (!this.partitions.includes(partition)) return;
    await this.commits.markStored(partition, lastOffset, this.payloads.get(partition));
  }

  /** Still this member's partition, in the current generation, and the consumer still running. */
  private isOurs(partition: number): boolean {
    const p = this.payloads.get(partition);
    return !!p && !this.stopping && this.partitions.includes(partition) && p.isRunning() && !p.isStale();
  }
}
