/**
 * Per-partition write order for the Kafka consumer, with fetching and storing overlapped.
 *
 * kafkajs fetches a partition's next batch only once `eachBatch` returns. Waiting there for the
 * insert made every fetch wait for the previous insert. The mock broker returns one record batch
 * per partition per fetch, so each insert then held a produce request's worth of rows, and the
 * persister fell behind at 10,000 msgs/s (docs/benchmarks.md, session 9). So `eachBatch` hands
 * its records here and returns, and this keeps each partition in offset order:
 * - one flush in flight per partition, so a later batch is never stored before an earlier one
 *   (seq follows the offset, and readers page by seq);
 * - batches that arrive meanwhile wait, and the next flush takes all of them, up to `maxRows`: a
 *   slow insert makes the next one bigger instead of the persister falling behind;
 * - past `maxQueuedRows` waiting in a partition, `push` waits for room, so a stalled database
 *   stops the fetching instead of filling memory.
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
  /** Items waiting (not in flight) in one partition before `push` waits. */
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
  /** `push` calls waiting for room. */
  roomWaiters: (() => void)[];
}

export class PartitionPipeline<T> {
  private readonly partitions = new Map<number, PartitionState<T>>();

  constructor(private readonly opts: PipelineOptions<T>) {}

  /** Queue a chunk behind the partition's earlier ones; resolves once the partition has room. */
  async push(partition: number, chunk: Chunk<T>): Promise<void> {
    const s = this.state(partition);
    s.queue.push(chunk);
    s.queuedRows += chunk.items.length;
    this.startFlush(partition, s);
    while (s.queuedRows > this.opts.maxQueuedRows && s.queue.length > 0) {
      await new Promise<void>((resolve) => s.roomWaiters.push(resolve));
    }
  }

  /** Forget what waits (not what is in flight) in `partition`, or in every partition. */
  drop(partition?: number): void {
    const states = partition === undefined ? [...this.partitions.values()] : [this.partitions.get(partition)];
    for (const s of states) {
      if (!s) continue;
      s.queue = [];
      s.queuedRows = 0;
      for (const wake of s.roomWaiters.splice(0)) wake();
    }
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
    if (!s) this.partitions.set(partition, s = { queue: [], queuedRows: 0, flushing: undefined, roomWaiters: [] });
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
    for (const wake of s.roomWaiters.splice(0)) wake();
    const items = taken.length === 1 ? taken[0]!.items : taken.flatMap((c) => c.items);
    const ok = await this.opts.flush(partition, items, taken[0]!.firstOffset).catch(() => false);
    if (!ok) return this.drop(partition);
    await this.opts.stored(partition, taken[taken.length - 1]!.lastOffset, taken.reduce((n, c) => n + c.records, 0));
  }
}
