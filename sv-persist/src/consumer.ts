/**
 * Kafka mode's batch loop, the message path's last step: a consumer group reads the message log
 * and stores each partition's batches through `MessageStore.insertLogged`, with the seq the nodes
 * already acked (`seqFromOffset` of the record's offset). An offset is resolved, and so committed,
 * only after the rows up to it are committed in Postgres; a database error retries the same
 * records with capped exponential backoff until they land or the partition is no longer ours.
 *
 * kafkajs hands over one batch per partition per fetch, cut here into chunks of at most
 * `maxChunk` rows. `eachBatch` hands them to a PartitionPipeline and returns, so kafkajs fetches
 * the next batch while this one is stored; the pipeline keeps each partition in offset order (one
 * statement in flight per partition, the chunks that arrive meanwhile merged into the next). Under
 * load a fetch carries a few records per partition, and one statement each would make the
 * statement count, not the rows, the limit. So partitions' statements also meet in `concurrency`
 * insert lanes (natural batching, NaturalBatcher): while a lane's statement is in flight, what arrives
 * for it is merged into its next one (up to `maxChunk` rows). A merged statement commits or fails
 * as a whole; each partition's part of it then moves that partition's offset, or retries on its
 * own. Partitions are independent (a conversation lives in one), so lanes run side by side on
 * separate connections; a partition always uses the same lane.
 */
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { NaturalBatcher } from '@chat/shared/batcher';
import { decodeRecordValue, seqFromOffset } from '@chat/shared/kafka-log';
import type { Logger } from '@chat/shared/logger';
import type { Message } from '@chat/shared/types';
import { PartitionPipeline } from './partition-pipeline.ts';
import type { LoggedInsertResult, MessageStore } from './store.ts';

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
  /** First and largest pause between retries of a failed insert. @default 200, 5000 */
  retryInitialMs?: number;
  retryMaxMs?: number;
  /** Group membership timings (kafkajs defaults 30000 / 60000 / 3000); tests shorten them. */
  sessionTimeout?: number;
  rebalanceTimeout?: number;
  heartbeatInterval?: number;
}

/** Counters since start; a test or /readyz reads them, nothing resets them. */
export interface ConsumerStats {
  /** Records seen (decodable or not), across retries counted once. */
  records: number;
  inserted: number;
  duplicates: number;
  /** Records that are not a NewMessage: logged and skipped. */
  undecodable: number;
  /** Stored with a seq below the conversation's last (see LoggedInsertResult.regressed). */
  regressions: number;
  /** Not stored: their (conversation, seq) belongs to another message. */
  collisions: number;
  /** Failed insert statements (their records are each retried). */
  insertFailures: number;
  /** Commit time minus `ts` of the newest message of the last stored chunk, ms (persist lag). */
  lagMs: number;
}

/** Stops the wait loops below often enough to notice stop() and rebalances at once. */
const POLL_MS = 100;
/** Partition batches kafkajs hands over at once; they wait in the insert lanes, merged. */
const PARTITIONS_AT_ONCE = 32;

export class KafkaPersistConsumer {
  readonly stats: ConsumerStats = { records: 0, inserted: 0, duplicates: 0, undecodable: 0, regressions: 0, collisions: 0, insertFailures: 0, lagMs: 0 };
  private readonly log: Logger;
  private readonly maxChunk: number;
  private readonly lanes: NaturalBatcher<Message[], void>[];
  /** Fetched records per partition, in offset order, on their way into Postgres. */
  private readonly pipeline: PartitionPipeline<Message>;
  /** Per partition, the newest batch kafkajs handed over: its liveness checks, heartbeat and commit. */
  private readonly payloads = new Map<number, EachBatchPayload>();
  private joined = false;
  private partitions: number[] = [];

  private consumer: Consumer;
  /** Per partition, the next offset to read after what is stored (the value a commit sends). */
  private readonly stored = new Map<number, string>();
  /** Stored offsets changed since the last commit. */
  private uncommitted = false;
  private commitTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private restarts = 0;

  constructor(private readonly kafka: Kafka, private readonly store: MessageStore, logger: Logger, private readonly opts: KafkaConsumerOptions) {
    this.log = logger.child({ module: 'consumer', topic: opts.topic, groupId: opts.groupId });
    this.maxChunk = opts.maxChunk ?? 2000;
    this.lanes = Array.from({ length: opts.concurrency ?? 3 }, () => new NaturalBatcher<Message[], void>({
      name: 'persist inserts',
      maxBatch: this.maxChunk,
      maxQueue: PARTITIONS_AT_ONCE * 1024,
      sizeOf: (chunk) => chunk.length,
      gatherTurn: true,
      run: async (chunks) => {
        await this.insert(chunks.length === 1 ? chunks[0]! : chunks.flat());
        return chunks.map(() => undefined);
      },
    }));
    this.pipeline = new PartitionPipeline<Message>({
      maxRows: this.maxChunk,
      // Fetched rows waiting, all partitions together, before fetching pauses: one statement's worth.
      maxQueuedRows: this.maxChunk,
      flush: (partition, msgs, firstOffset) => this.insertUntilStored(partition, msgs, firstOffset),
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
      // Offsets of partitions another member now owns are not ours to commit at stop.
      for (const partition of this.stored.keys()) if (!this.partitions.includes(partition)) this.stored.delete(partition);
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
    let delay = this.opts.retryInitialMs ?? 200;
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
        delay = Math.min(delay * 2, this.opts.retryMaxMs ?? 5000);
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
      // kafkajs's autoCommit commits after every batch whatever autoCommitInterval says
      // (runner.js), a broker round trip per partition batch. Off: a timer commits what is stored
      // once per interval, and stop() commits the rest. A rebalance does not commit: the next
      // owner re-reads up to one interval of records, which ON CONFLICT skips.
      autoCommit: false,
      partitionsConsumedConcurrently: PARTITIONS_AT_ONCE,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    const interval = this.opts.commitIntervalMs ?? 1000;
    if (interval > 0 && !this.commitTimer) {
      this.commitTimer = setInterval(() => void this.commitStored(), interval);
      this.commitTimer.unref();
    }
  }

  /** Finish the statements in flight, commit what is stored, leave the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.commitTimer);
    // What waits is not stored, so not committed: the next owner of its partition fetches it again.
    this.pipeline.drop();
    await this.pipeline.idle();
    await this.commitStored();
    await this.consumer.disconnect();
  }

  /**
   * Commit the stored offset of every partition, when any moved. A failure is logged: the next
   * commit or the next owner of the partition catches up (re-read records are skipped).
   */
  private async commitStored(): Promise<void> {
    if (!this.uncommitted || !this.joined) return;
    this.uncommitted = false;
    const offsets = [...this.stored].map(([partition, offset]) => ({ topic: this.opts.topic, partition, offset }));
    try {
      await this.consumer.commitOffsets(offsets);
    } catch (err) {
      this.uncommitted = true;
      this.log.warn({ err }, 'could not commit offsets; will retry');
    }
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
        items: this.decode(topic, partition, records), records: records.length, firstOffset: records[0]!.offset, lastOffset,
      });
    }
    await p.heartbeat();
  }

  /** A partition's rows up to `lastOffset` are stored: commit past it (now, or at the next tick). */
  private async onStored(partition: number, lastOffset: string, records: number): Promise<void> {
    this.stats.records += records;
    // A statement that finished after a rebalance took the partition away: not ours to commit.
    if (!this.partitions.includes(partition)) return;
    const offset = (BigInt(lastOffset) + 1n).toString();
    this.stored.set(partition, offset);
    this.uncommitted = true;
    if (this.opts.commitIntervalMs !== 0 || this.stopping) return;
    // KAFKA_COMMIT_INTERVAL_MS=0: through the batch's own commit, which also works while stopping.
    try {
      await this.payloads.get(partition)?.commitOffsetsIfNecessary({ topics: [{ topic: this.opts.topic, partitions: [{ partition, offset }] }] });
    } catch (err) {
      this.log.warn({ err, partition, offset }, 'could not commit offsets; will retry');
    }
  }

  private decode(topic: string, partition: number, records: KafkaMessage[]): Message[] {
    const out: Message[] = [];
    for (const r of records) {
      const m = decodeRecordValue(r.value);
      if (m) {
        out.push({ ...m, seq: seqFromOffset(this.opts.seqGeneration, r.offset) });
      } else {
        // Nodes produce only validated messages and acked nobody for this one.
        this.stats.undecodable++;
        this.log.warn({ partition, offset: r.offset, topic }, 'undecodable record skipped');
      }
    }
    return out;
  }

  /** True once stored (at once when there is nothing to store); false when the partition stopped being ours (stop, rebalance, seek) first. */
  private async insertUntilStored(partition: number, msgs: Message[], firstOffset: string): Promise<boolean> {
    if (msgs.length === 0) return true;
    let delay = this.opts.retryInitialMs ?? 200;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.lanes[partition % this.lanes.length]!.push(msgs);
        if (attempt > 1) this.log.info({ partition, firstOffset, attempt }, 'insert succeeded after retry');
        return true;
      } catch (err) {
        this.log.warn({ err, partition, firstOffset, rows: msgs.length, attempt, retryInMs: delay }, 'insert failed, retrying the same records');
        if (!(await this.backoff(partition, delay))) return false;
        delay = Math.min(delay * 2, this.opts.retryMaxMs ?? 5000);
      }
    }
  }

  /** One statement for the chunks a lane merged; counts and checks the outcome. */
  private async insert(msgs: Message[]): Promise<void> {
    let r: LoggedInsertResult;
    const started = performance.now();
    try {
      r = await this.store.insertLogged(msgs);
      this.opts.onInsert?.(msgs.length, performance.now() - started);
    } catch (err) {
      this.stats.insertFailures++;
      throw err;
    }
    this.stats.inserted += r.inserted;
    this.stats.lagMs = Date.now() - msgs.reduce((max, m) => Math.max(max, m.ts), 0);
    this.stats.duplicates += r.duplicates;
    this.stats.regressions += r.regressed.length;
    this.stats.collisions += r.collided.length;
    if (r.regressed.length > 0 || r.collided.length > 0) {
      // seq went backwards: topic recreated or repartitioned without a new KAFKA_SEQ_GENERATION.
      this.log.error({ regressed: r.regressed, collided: r.collided, generation: this.opts.seqGeneration },
        'seq regression: bump KAFKA_SEQ_GENERATION on every node and persister');
    }
  }

  /**
   * Wait `ms` while heartbeating (kafkajs throttles it to heartbeatInterval): while the database
   * fails, the partition's pipeline fills and its eachBatch waits, so kafkajs's own loop does not
   * heartbeat. False as soon as the partition is no longer ours (stop, rebalance, seek). A
   * rebalance makes heartbeat() throw: the partition's waiting records are dropped, and its
   * eachBatch's own heartbeat throws to kafkajs, which rejoins. Nothing unstored was committed, so
   * whoever gets the partition fetches those records again.
   */
  private async backoff(partition: number, ms: number): Promise<boolean> {
    const until = Date.now() + ms;
    for (;;) {
      const p = this.payloads.get(partition);
      if (!p || this.stopping || !this.partitions.includes(partition) || !p.isRunning() || p.isStale()) return false;
      const left = until - Date.now();
      if (left <= 0) return true;
      try {
        await p.heartbeat();
      } catch {
        return false;
      }
      await new Promise((r) => setTimeout(r, Math.min(left, POLL_MS)));
    }
  }
}
