/**
 * Drives a RetryQueue with one timer: when entries come due, `attempt` tries each; what it hands
 * back (what is still left to do) is parked again for its next attempt, and nothing means done.
 * The timer fires at least `tickMs` apart, so the entries due meanwhile go out together.
 */
import { RetryQueue, type DropReason, type Parked, type RetryQueueOptions } from './retry-queue.ts';

export interface RetryLoopOptions extends RetryQueueOptions {
  /** @default 50 */
  tickMs?: number;
}

export class RetryLoop<T> {
  private readonly queue: RetryQueue<T>;
  private readonly tickMs: number;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;
  private running = 0;
  private idleWaiters: (() => void)[] = [];

  /** `attempt` never rejects: it resolves with what is left to try again, or undefined when done. */
  constructor(opts: RetryLoopOptions, private readonly attempt: (value: T) => Promise<T | undefined>) {
    this.queue = new RetryQueue(opts);
    this.tickMs = opts.tickMs ?? 50;
  }

  /** Entries parked or being tried. */
  get size(): number {
    return this.queue.size;
  }

  /** Entries given up, by reason. */
  get dropped(): Readonly<Record<DropReason, number>> {
    return this.queue.dropped;
  }

  /** Park `value` for its first attempt; false when it was dropped (too many parked, or closed). */
  park(value: T): boolean {
    if (!this.queue.park(value, Date.now())) return false;
    this.schedule();
    return true;
  }

  /** Give up every parked entry and park no more; resolves once no attempt is running. */
  close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.close();
    return this.running === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    const due = this.queue.nextDueAt();
    if (due === undefined) return;
    const at = Math.max(due, Date.now() + this.tickMs);
    if (this.timer && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      for (const entry of this.queue.takeDue(Date.now())) void this.run(entry);
      this.schedule();
    }, at - Date.now());
    this.timer.unref();
  }

  private async run(entry: Parked<T>): Promise<void> {
    this.running++;
    // `attempt` does not reject; were it to, the entry is given up rather than left out forever.
    const left = await this.attempt(entry.value).catch(() => undefined);
    if (left === undefined) {
      this.queue.done(entry);
    } else {
      entry.value = left;
      this.queue.retryLater(entry, Date.now());
      this.schedule();
    }
    if (--this.running === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}
