/**
 * The Kafka consumer's committed offsets. kafkajs's autoCommit commits after every batch whatever
 * autoCommitInterval says (runner.js), a broker round trip per partition batch, so the consumer
 * runs with it off and this commits instead: an offset is recorded here only after the rows up to
 * it are committed in Postgres, and a timer commits what moved once per interval (stop() commits
 * the rest). A rebalance does not commit: the next owner re-reads up to one interval of records,
 * which ON CONFLICT skips.
 */
import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { Logger } from '@chat/shared/logger';

export interface OffsetCommitsDeps {
  topic: string;
  /** Commit at most this often; 0 commits after every stored chunk (KAFKA_COMMIT_INTERVAL_MS). */
  intervalMs: number;
  /** The consumer commits go through: a restart replaces it. */
  consumer: () => Consumer;
  /** In the group: commits outside it fail. */
  joined: () => boolean;
  log: Logger;
}

export class OffsetCommits {
  /** Per partition, the next offset to read after what is stored (the value a commit sends). */
  private readonly stored = new Map<number, string>();
  /** Stored offsets changed since the last commit. */
  private uncommitted = false;
  private timer: NodeJS.Timeout | undefined;
  /** Set by stopTimer: what is stored from then on waits for the final commit(). */
  private stopping = false;

  constructor(private readonly deps: OffsetCommitsDeps) {}

  /** Start the interval's timer, once (a restarted consumer keeps it). */
  startTimer(): void {
    if (this.deps.intervalMs > 0 && !this.timer) {
      this.timer = setInterval(() => void this.commit(), this.deps.intervalMs);
      this.timer.unref();
    }
  }

  stopTimer(): void {
    this.stopping = true;
    clearInterval(this.timer);
  }

  /** After a rebalance: offsets of partitions another member now owns are not ours to commit at stop. */
  keepOnly(assigned: readonly number[]): void {
    for (const partition of this.stored.keys()) if (!assigned.includes(partition)) this.stored.delete(partition);
  }

  /**
   * The partition's rows up to `lastOffset` are stored: commit past it at the next tick, or at once
   * through `batch` (the partition's newest batch) when the interval is 0.
   */
  async markStored(partition: number, lastOffset: string, batch: EachBatchPayload | undefined): Promise<void> {
    const offset = (BigInt(lastOffset) + 1n).toString();
    this.stored.set(partition, offset);
    this.uncommitted = true;
    if (this.deps.intervalMs !== 0 || this.stopping) return;
    // KAFKA_COMMIT_INTERVAL_MS=0: through the batch's own commit, which also works while stopping.
    try {
      await batch?.commitOffsetsIfNecessary({ topics: [{ topic: this.deps.topic, partitions: [{ partition, offset }] }] });
    } catch (err) {
      this.deps.log.warn({ err, partition, offset }, 'could not commit offsets; will retry');
    }
  }

  /**
   * Commit the stored offset of every partition, when any moved. A failure is logged: the next
   * commit or the next owner of the partition catches up (re-read records are skipped).
   */
  async commit(): Promise<void> {
    if (!this.uncommitted || !this.deps.joined()) return;
    this.uncommitted = false;
    const offsets = [...this.stored].map(([partition, offset]) => ({ topic: this.deps.topic, partition, offset }));
    try {
      await this.deps.consumer().commitOffsets(offsets);
    } catch (err) {
      this.uncommitted = true;
      this.deps.log.warn({ err }, 'could not commit offsets; will retry');
    }
  }
}
