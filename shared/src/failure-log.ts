/**
 * Failures logged once per interval, with a count, never once per message: while a dependency is
 * down every send can fail the same way, and a line (with its stack) for each would cost the CPU the
 * service needs and fill the disk. The first failure of a kind in an interval is logged at once,
 * with its error, so the cause is seen without waiting; the rest of that interval are counted and
 * reported in one line when it ends.
 */
import type { Logger } from './logger.ts';

export interface FailureLogOptions {
  /** Length of one interval. @default 10000 */
  intervalMs?: number;
  /** The clock (tests). @default Date.now */
  now?: () => number;
}

interface Kind {
  /** When the current interval of this kind began. */
  since: number;
  /** Failures after the first in the current interval, not logged yet. */
  suppressed: number;
  /** The last suppressed failure's fields, reported with the count. */
  last: Record<string, unknown>;
}

export class FailureLog {
  private readonly kinds = new Map<string, Kind>();
  private readonly intervalMs: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly logger: Logger, opts: FailureLogOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** One failure of `kind` (also the log line's message); `fields` go on the line (e.g. `err`, `node`). */
  record(kind: string, fields: Record<string, unknown> = {}): void {
    const now = this.now();
    const known = this.kinds.get(kind);
    if (known && now - known.since < this.intervalMs) {
      known.suppressed++;
      known.last = fields;
      return;
    }
    if (known) this.report(kind, known);
    this.kinds.set(kind, { since: now, suppressed: 0, last: {} });
    this.logger.warn({ ...fields, kind }, kind);
    this.schedule();
  }

  /** Report what is counted and not yet logged, for every kind whose interval has ended (or all, `force`). */
  flush(force = false): void {
    const now = this.now();
    for (const [kind, state] of this.kinds) {
      if (!force && now - state.since < this.intervalMs) continue;
      this.report(kind, state);
      this.kinds.delete(kind);
    }
    if (this.kinds.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Report the remaining counts and stop the timer (shutdown). */
  close(): void {
    this.flush(true);
  }

  private report(kind: string, state: Kind): void {
    if (state.suppressed === 0) return;
    const { err, ...rest } = state.last;
    const reason = err instanceof Error ? err.message : err === undefined ? undefined : String(err);
    this.logger.warn({ ...rest, kind, count: state.suppressed, lastReason: reason, intervalMs: this.intervalMs },
      `${kind} (${state.suppressed} more in the interval)`);
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.flush(), this.intervalMs);
    this.timer.unref();
  }
}
