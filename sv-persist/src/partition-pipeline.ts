/**
 * Per-partition write order for the Kafka consumer, with fetching and storing overlapped.
 *
 * kafkajs fetches a partition's next batch only once `eachBatch` returns. Waiting there for the
 * insert made every fetch wait for the previous insert. The mock broker returns one record batch
 * per partition per fetch, so each insert then held a produce request's worth of rows, and the
 * persister fell behind at 10,000 msgs/s (docs/benchmarks.md, the Kafka consumer fetches while it
 * inserts). So `eachBatch` hands its records here and returns, and this keeps each partition in
 * offset order:
 * - one flush in flight per partition, so a later batch is never stored before an earlier one
 *   (seq follows the offset, and readers page by seq);
 * - batches that arrive meanwhile wait, and the next flush takes all of them, up to `maxRows`: a
 *   slow insert makes the next one bigger instead of the persister falling behind;
 * - past `maxQueuedRows` waiting in all partitions together, `push` waits for room, so a stalled
 *   or slower database pauses the fetching instead of filling memory (a backlog drain over 60
 *   partitions held 667 MB with a bound of 4,000 rows per partition).
 */

export interface Chunk<T> {
  /** What is stored (decodable records). */
  items: T[];
  /** Records the chunk covers, decodable or not. */
  records: number;
  firstOffset: string;
  lastOffset: string;
}

export interface PipelineOptions<T> {
  /** Most items per flush; a single chunk larger than this still goes whole. */
  maxRows: number;
  /** Items waiting (not in flight), all partitions together, before `push` waits. */
  maxQueuedRows: number;
  /**
   * Store `items` (the chunks' items in order, possibly none). True once stored; false when the
   * partition is no longer ours, which drops what waits behind. It retries failures itself; a
   * rejection counts as false.
   */
  flush: (partition: number, items: T[], firstOffset: string) => Promise<boolean>;
  /**
   * After a flush stored everything up to `lastOffset` (covering `records` records), before the
   * partition's next flush starts. It handles its own errors.
   */
  stored: (partition: number, lastOffset: string, records: number) => Promise<void>;
}

interface PartitionState<T> {
  queue: Chunk<T>[];
  queuedRows: number;
  /** The flush in flight, if any. */
  flushing: Promise<void> | undefined;
}

export class PartitionPipeline<T> {
  private readonly partitions = new Map<number, PartitionState<T>>();
  /** Items waiting in all partitions. */
  private queuedRows = 0;
  /** `push` calls waiting for room. */
  private roomWaiters: (() => void)[] = [];

  constructor(private readonly opts: PipelineOptions<T>) {}

  /** Queue a chunk behind the partition's earlier ones; resolves once no more than `maxQueuedRows` wait. */
  async push(partition: number, chunk: Chunk<T>): Promise<void> {
    const s = this.state(partition);
    s.queue.push(chunk);
    s.queuedRows += chunk.items.length;
    this.queuedRows += chunk.items.length;
    this.startFlush(partition, s);
    // Every partition with items waiting has a flush in flight, so room comes as they finish.
    while (this.queuedRows > this.opts.maxQueuedRows) await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
  }

  /** Forget what waits (not what is in flight) in `partition`, or in every partition. */
  drop(partition?: number): void {
    const states = partition === undefined ? [...this.partitions.values()] : [this.partitions.get(partition)];
    for (const s of states) {
      if (!s) continue;
      this.queuedRows -= s.queuedRows;
      s.queue = [];
      s.queuedRows = 0;
    }
    this.wakeWaiters();
  }

  /** Resolves once no flush is in flight (what waits behind keeps flushing meanwhile; drop it first). */
  async idle(): Promise<void> {
    for (;;) {
      const inFlight = [...this.partitions.values()].map((s) => s.flushing).filter((f) => f !== undefined);
      if (inFlight.length === 0) return;
      await Promise.all(inFlight);
    }
  }

  private state(partition: number): PartitionState<T> {
    let s = this.partitions.get(partition);
    if (!s) this.partitions.set(partition, s = { queue: [], queuedRows: 0, flushing: undefined });
    return s;
  }

  private startFlush(partition: number, s: PartitionState<T>): void {
    if (s.flushing || s.queue.length === 0) return;
    s.flushing = this.flushNext(partition, s).finally(() => {
      s.flushing = undefined;
      this.startFlush(partition, s);
    });
  }

  private async flushNext(partition: number, s: PartitionState<T>): Promise<void> {
    let rows = s.queue[0]!.items.length;
    let count = 1;
    while (count < s.queue.length && rows + s.queue[count]!.items.length <= this.opts.maxRows) rows += s.queue[count++]!.items.length;
    const taken = s.queue.splice(0, count);
    s.queuedRows -= rows;
    this.queuedRows -= rows;
    this.wakeWaiters();
    const items = taken.length === 1 ? taken[0]!.items : taken.flatMap((c) => c.items);
    const ok = await this.opts.flush(partition, items, taken[0]!.firstOffset).catch(() => false);
    if (!ok) return this.drop(partition);
    await this.opts.stored(partition, taken[taken.length - 1]!.lastOffset, taken.reduce((n, c) => n + c.records, 0));
  }

  /** Let waiting `push` calls check for room again. */
  private wakeWaiters(): void {
    for (const wake of this.roomWaiters.splice(0)) wake();
  }
}
