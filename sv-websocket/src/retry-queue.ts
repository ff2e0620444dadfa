/**
 * Work to try again with backoff for a bounded time: remote deliveries that failed (discovery did
 * not answer, or the forward did not reach the node) are parked here, so a recipient who stays
 * connected through a short outage gets the message live, late, instead of only through history.
 * Bounded in memory: past `maxItems` parked (or out being tried), new ones are dropped and
 * counted; the messages are durable, so history still has them. Pure: the caller passes the clock
 * and drives the attempts.
 *
 * An entry is tried `firstDelayMs` after it is parked, then after twice as long each time, up to
 * `maxDelayMs`, the last time at its deadline (`windowMs` after it was parked). Entries wait in one
 * FIFO per attempt number: all of a FIFO wait the same delay and are parked in about the order
 * they come due, so the next due is the earliest of a few heads, with no sorting.
 */

export interface RetryQueueOptions {
  /** How long an entry is tried again after it is parked. */
  windowMs: number;
  /** Most entries parked or out at once. */
  maxItems: number;
  /** @default 250 */
  firstDelayMs?: number;
  /** @default 2000 */
  maxDelayMs?: number;
}

export interface Parked<T> {
  value: T;
  readonly deadline: number;
  attempt: number;
  dueAt: number;
}

/** Why an entry was given up: the queue was full, its window ended, or the queue was closed. */
export type DropReason = 'full' | 'expired' | 'shutdown';

class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    const item = this.items[this.head++];
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  drain(): number {
    const n = this.length;
    this.items = [];
    this.head = 0;
    return n;
  }
}

export class RetryQueue<T> {
  private readonly levels: Fifo<Parked<T>>[] = [];
  private readonly delays: number[] = [];
  private queued = 0;
  private out = 0;
  private closed = false;
  readonly dropped: Record<DropReason, number> = { full: 0, expired: 0, shutdown: 0 };

  constructor(private readonly opts: RetryQueueOptions) {
    const max = opts.maxDelayMs ?? 2000;
    for (let d = opts.firstDelayMs ?? 250; ; d *= 2) {
      this.delays.push(Math.min(d, max));
      this.levels.push(new Fifo());
      if (d >= max) break;
    }
  }

  /** Entries parked or out being tried. */
  get size(): number {
    return this.queued + this.out;
  }

  /** Park `value` at `now`; false when it was dropped (full, or closed). */
  park(value: T, now: number): boolean {
    if (this.closed) return this.drop('shutdown');
    if (this.size >= this.opts.maxItems) return this.drop('full');
    const deadline = now + this.opts.windowMs;
    this.enqueue({ value, deadline, attempt: 0, dueAt: Math.min(now + this.delays[0]!, deadline) });
    return true;
  }

  /** Take every entry due at `now`; each is out until handed back with `retryLater` or `done`. */
  takeDue(now: number): Parked<T>[] {
    const due: Parked<T>[] = [];
    for (const level of this.levels) {
      while ((level.peek()?.dueAt ?? Infinity) <= now) due.push(level.shift()!);
    }
    this.queued -= due.length;
    this.out += due.length;
    return due;
  }

  /** An entry out did not get through: park it for its next attempt, or give it up past its deadline. */
  retryLater(entry: Parked<T>, now: number): void {
    this.out--;
    if (this.closed) return void this.drop('shutdown');
    if (now >= entry.deadline) return void this.drop('expired');
    entry.attempt++;
    entry.dueAt = Math.min(now + this.delays[Math.min(entry.attempt, this.delays.length - 1)]!, entry.deadline);
    this.enqueue(entry);
  }

  /** An entry out got through (or needs nothing more). */
  done(_entry: Parked<T>): void {
    this.out--;
  }

  /** When the next entry is due; undefined when none is parked. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const level of this.levels) {
      const head = level.peek();
      if (head && (next === undefined || head.dueAt < next)) next = head.dueAt;
    }
    return next;
  }

  /** Give up every parked entry, and those out as they come back; park nothing more (shutdown). */
  close(): void {
    this.closed = true;
    for (const level of this.levels) this.dropped.shutdown += level.drain();
    this.queued = 0;
  }

  private enqueue(entry: Parked<T>): void {
    this.levels[Math.min(entry.attempt, this.levels.length - 1)]!.push(entry);
    this.queued++;
  }

  private drop(reason: DropReason): false {
    this.dropped[reason]++;
    return false;
  }
}
