/**
 * The single writer of sv-persist in direct mode: the ingest route hands messages to one natural
 * batcher, so requests from many nodes merge into one insert while the previous one is in flight,
 * and `seq` follows the order messages were written. (Kafka mode does not use it: the log fixes
 * seq there, and consumer.ts inserts each partition's batches itself.)
 */
import { NaturalBatcher } from '@chat/shared/batcher';
import { ERR_QUEUE_FULL, ERR_STORE_UNAVAILABLE } from '@chat/shared/errors';
import type { Accepted, NewMessage } from '@chat/shared/types';
import type { MessageStore } from './store.ts';

export interface BatchWriterOptions {
  /** Largest insert. @default 2000 */
  maxBatch?: number;
  /** Most messages waiting behind the insert in flight. @default 50000 */
  maxQueue?: number;
  /** Called after each committed batch (logging, metrics); `newestTs` is the batch's largest `ts`. */
  onBatch?: (size: number, ms: number, newestTs: number) => void;
}

export class BatchWriter {
  private readonly batcher: NaturalBatcher<NewMessage, Accepted>;
  private readonly maxQueue: number;
  private closed = false;

  constructor(store: MessageStore, opts: BatchWriterOptions = {}) {
    this.maxQueue = opts.maxQueue ?? 50_000;
    this.batcher = new NaturalBatcher<NewMessage, Accepted>({
      name: 'persist writer',
      maxBatch: opts.maxBatch ?? 2000,
      maxQueue: this.maxQueue,
      gatherTurn: true,
      run: async (msgs) => {
        const started = performance.now();
        const accepted = await store.insertBatch(msgs);
        opts.onBatch?.(msgs.length, performance.now() - started, msgs.reduce((max, m) => Math.max(max, m.ts), 0));
        return accepted;
      },
    });
  }

  /** Messages waiting for the next insert. */
  get queued(): number {
    return this.batcher.queued;
  }

  /**
   * Write `msgs` and resolve after their commit, results in order. The whole call is refused
   * (ERR_QUEUE_FULL) when it does not fit the queue, so a request is never half queued.
   */
  write(msgs: readonly NewMessage[]): Promise<Accepted[]> {
    if (this.closed) return Promise.reject(new ERR_STORE_UNAVAILABLE('shutting down'));
    if (this.batcher.queued + msgs.length > this.maxQueue) return Promise.reject(new ERR_QUEUE_FULL('persist writer'));
    return Promise.all(msgs.map((m) => this.batcher.push(m)));
  }

  /** Refuse new writes and resolve once everything queued is committed (or failed). */
  async close(): Promise<void> {
    this.closed = true;
    await this.batcher.idle();
  }
}
