/**
 * Natural batching (group commit): while one batch is in flight, collect what arrives;
 * the moment it completes, send everything collected as the next batch. No timer adds latency at
 * light load, batches grow by themselves under load, and one batch in flight keeps order.
 *
 * `concurrency` above 1 lets that many batches be in flight at once (a pipeline): a batch is
 * handed to `run` the moment a slot is free. `run` is still called in queue order, so a
 * destination that processes what it is handed in order (one ordered connection) keeps order.
 *
 * `gatherTurn`: an item that finds a slot free waits for the end of the event loop's current turn
 * (setImmediate) instead of going at once, so everything pushed in that turn goes as one batch:
 * the frames of every socket read in one poll, or every partition of one Kafka fetch. Without it,
 * the first item of a burst leaves alone and, with several slots, so do the next few: under load
 * that made many tiny batches (docs/benchmarks.md, gathering a turn). It costs the rest of one turn.
 */
import { ERR_QUEUE_FULL } from './errors.ts';

export interface BatcherOptions<T, R> {
  /** Sends one batch; resolves with one result per item, in order. */
  run: (items: T[]) => Promise<R[]>;
  /** Largest batch handed to `run`, in items, or in `sizeOf` units when given (a batch holds at least one item). */
  maxBatch: number;
  /** The size of an item (say, the rows it carries). @default 1 per item */
  sizeOf?: (item: T) => number;
  /** Most items waiting (not in flight); past it `push` rejects with ERR_QUEUE_FULL. */
  maxQueue: number;
  /** Label for the queue-full error. */
  name?: string;
  /** Most batches in flight at once. @default 1 */
  concurrency?: number;
  /** Send what a turn of the event loop gathered as one batch (see above). @default false */
  gatherTurn?: boolean;
  /**
   * Under load, the least time between the starts of two batches (like Kafka's `linger.ms`):
   * after a batch of at least `busyBatch` items, the next waits until `ms` after it started, and
   * takes what arrived meanwhile. Batches are then fewer and bigger; a smaller batch means light
   * load, and the next goes as soon as it can (no added latency). @default off
   */
  linger?: { ms: number; busyBatch: number };
}

interface Pending<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
  /** performance.now() when pushed. */
  at: number;
}

export class NaturalBatcher<T, R> {
  private queue: Pending<T, R>[] = [];
  private head = 0;
  private inFlight = 0;
  /** When the oldest item of each batch in flight was pushed, in the order the batches started. */
  private inFlightSince: number[] = [];
  private readonly concurrency: number;
  private idleWaiters: (() => void)[] = [];
  private pumpScheduled = false;
  /** When the next batch may start (`linger`), and the timer waiting for it. */
  private notBefore = 0;
  private lingerTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: BatcherOptions<T, R>) {
    this.concurrency = Math.max(1, opts.concurrency ?? 1);
  }

  /** Items waiting for the next batch. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /**
   * How long the oldest item not yet answered (in flight, or else queued) has waited, in ms; 0
   * when nothing is. The time a new item would wait is at least about this: callers use it to
   * refuse work early rather than queue it for seconds (docs/reliability.md, overload).
   */
  oldestWaitMs(now = performance.now()): number {
    const since = this.inFlightSince.length > 0 ? this.inFlightSince[0]! : this.queue[this.head]?.at;
    return since === undefined ? 0 : now - since;
  }

  /** Something is queued or in flight. */
  get busy(): boolean {
    return this.inFlight > 0 || this.queued > 0;
  }

  /** Queue one item; resolves with its result once its batch completes. */
  push(item: T): Promise<R> {
    if (this.queued >= this.opts.maxQueue) {
      return Promise.reject(new ERR_QUEUE_FULL(this.opts.name ?? 'batcher'));
    }
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject, at: performance.now() });
      if (this.inFlight >= this.concurrency) return;
      if (this.opts.gatherTurn) this.pumpAtTurnEnd();
      else this.pump();
    });
  }

  private pumpAtTurnEnd(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Resolves once nothing is queued or in flight (graceful shutdown). */
  idle(): Promise<void> {
    if (this.inFlight === 0 && this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Index after the last item of the next batch: up to maxBatch items, or maxBatch in sizeOf units. */
  private batchEnd(): number {
    const { sizeOf, maxBatch } = this.opts;
    if (!sizeOf) return Math.min(this.queue.length, this.head + maxBatch);
    let end = this.head + 1;
    let size = sizeOf(this.queue[this.head]!.item);
    while (end < this.queue.length) {
      const next = sizeOf(this.queue[end]!.item);
      if (size + next > maxBatch) break;
      size += next;
      end++;
    }
    return end;
  }

  /** Hand batches to `run` while a slot is free; called on every push and every completion. */
  private pump(): void {
    if (this.lingerTimer) return;
    while (this.inFlight < this.concurrency && this.queued > 0) {
      const now = performance.now();
      if (now < this.notBefore) {
        this.lingerTimer = setTimeout(() => {
          this.lingerTimer = undefined;
          this.pump();
        }, this.notBefore - now);
        return;
      }
      const end = this.batchEnd();
      const batch = this.queue.slice(this.head, end);
      const { linger } = this.opts;
      if (linger && batch.length >= linger.busyBatch) this.notBefore = now + linger.ms;
      this.head = end;
      if (this.queued === 0) {
        this.queue = [];
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
        // Compact now and then so the array does not grow forever.
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.inFlight++;
      this.inFlightSince.push(batch[0]!.at);
      void this.runBatch(batch);
    }
  }

  private async runBatch(batch: Pending<T, R>[]): Promise<void> {
    try {
      const results = await this.opts.run(batch.map((p) => p.item));
      if (results.length !== batch.length) throw new Error(`batch returned ${results.length} results for ${batch.length} items`);
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]!);
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
    this.inFlight--;
    // Batches may finish out of order: drop this one's entry, wherever it is (a few at most).
    this.inFlightSince.splice(this.inFlightSince.indexOf(batch[0]!.at), 1);
    this.pump();
    if (this.inFlight === 0 && this.queued === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}
