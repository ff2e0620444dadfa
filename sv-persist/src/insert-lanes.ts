/**
 * The Kafka consumer's insert lanes. Under load a fetch carries a few records per partition, and
 * one statement each would make the statement count, not the rows, the limit. So partitions'
 * statements meet in a few lanes (natural batching, NaturalBatcher): while a lane's statement is
 * in flight, what arrives for it is merged into its next one (up to `maxChunk` rows). A merged
 * statement commits or fails as a whole; each partition's part of it then moves that partition's
 * offset, or retries on its own with capped exponential backoff until it lands or the partition
 * is no longer ours. Partitions are independent (a conversation lives in one), so lanes run side
 * by side on separate connections; a partition always uses the same lane.
 */
import { NaturalBatcher } from '@chat/shared/batcher';
import type { Logger } from '@chat/shared/logger';
import type { Message } from '@chat/shared/types';
import type { ConsumerStats } from './consumer-stats.ts';
import type { LoggedInsertResult, MessageStore } from './store.ts';

export interface InsertLanesOptions {
  /** Most rows per statement. */
  maxChunk: number;
  /** Lanes: statements in flight at once. */
  concurrency: number;
  /** Chunks a lane holds waiting. */
  maxQueue: number;
  /** First and largest pause between retries of a failed insert. */
  retryInitialMs: number;
  retryMaxMs: number;
  /** KAFKA_SEQ_GENERATION, named in the log when seqs go back. */
  seqGeneration: number;
  /** Called after each insert statement with its rows and duration (metrics). */
  onInsert?: (rows: number, ms: number) => void;
}

/** The consumer's hold on a partition, which a retry keeps alive while it waits. */
export interface PartitionLease {
  /** False once the partition is no longer ours (stop, rebalance, seek). */
  isOurs(partition: number): boolean;
  /** Rejects when the group rebalanced. */
  heartbeat(partition: number): Promise<void>;
}

/** Stops the retry wait often enough to notice stop() and rebalances at once. */
const POLL_MS = 100;

export class InsertLanes {
  private readonly lanes: NaturalBatcher<Message[], void>[];

  constructor(
    private readonly store: MessageStore,
    private readonly lease: PartitionLease,
    private readonly stats: ConsumerStats,
    private readonly log: Logger,
    private readonly opts: InsertLanesOptions,
  ) {
    this.lanes = Array.from({ length: opts.concurrency }, () => new NaturalBatcher<Message[], void>({
      name: 'persist inserts',
      maxBatch: opts.maxChunk,
      maxQueue: opts.maxQueue,
      sizeOf: (chunk) => chunk.length,
      gatherTurn: true,
      run: async (chunks) => {
        await this.insert(chunks.length === 1 ? chunks[0]! : chunks.flat());
        return chunks.map(() => undefined);
      },
    }));
  }

  /** True once stored (at once when there is nothing to store); false when the partition stopped being ours (stop, rebalance, seek) first. */
  async insertUntilStored(partition: number, msgs: Message[], firstOffset: string): Promise<boolean> {
    if (msgs.length === 0) return true;
    let delay = this.opts.retryInitialMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.lanes[partition % this.lanes.length]!.push(msgs);
        if (attempt > 1) this.log.info({ partition, firstOffset, attempt }, 'insert succeeded after retry');
        return true;
      } catch (err) {
        this.log.warn({ err, partition, firstOffset, rows: msgs.length, attempt, retryInMs: delay }, 'insert failed, retrying the same records');
        if (!(await this.backoff(partition, delay))) return false;
        delay = Math.min(delay * 2, this.opts.retryMaxMs);
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
      if (!this.lease.isOurs(partition)) return false;
      const left = until - Date.now();
      if (left <= 0) return true;
      try {
        await this.lease.heartbeat(partition);
      } catch {
        return false;
      }
      await new Promise((r) => setTimeout(r, Math.min(left, POLL_MS)));
    }
  }
}
