/**
 * At most one typing indicator per sender and recipient per window leaves this node. A client may
 * send `typing` on every keystroke; its recipient needs one per window to keep showing it (a
 * client shows one for about 5 s). Those that come sooner are dropped, never sent later: a late
 * indicator would say someone is typing who may have stopped.
 *
 * Memory is bounded. Entries are kept in the order they were last let through, which is time
 * order, so those whose window is over are dropped from the front as new ones come; past
 * `maxEntries` the oldest go even within their window (each costs at most one extra indicator).
 */
import type { UserId } from '@chat/shared/types';

/** The least time between two indicators from one sender to one recipient (docs/protocol.md, `typing`). */
export const TYPING_WINDOW_MS = 2000;

export interface TypingThrottleOptions {
  /** @default TYPING_WINDOW_MS */
  windowMs?: number;
  /** Most (sender, recipient) pairs remembered. @default 100000 */
  maxEntries?: number;
  /** A monotonic clock in ms (a wall clock may step back). @default performance.now */
  now?: () => number;
}

export class TypingThrottle {
  /** Pair → when its last indicator was let through; in that order. */
  private readonly last = new Map<string, number>();
  private readonly windowMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(opts: TypingThrottleOptions = {}) {
    this.windowMs = opts.windowMs ?? TYPING_WINDOW_MS;
    this.maxEntries = opts.maxEntries ?? 100_000;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Pairs remembered. */
  get size(): number {
    return this.last.size;
  }

  /** Whether an indicator from `from` to `to` goes now; when it does, the pair's window starts. */
  allow(from: UserId, to: UserId): boolean {
    const now = this.now();
    this.forgetBefore(now - this.windowMs);
    const key = `${from}\n${to}`;
    const at = this.last.get(key);
    if (at !== undefined && now - at < this.windowMs) return false;
    // Moved to the end, so the map stays in time order.
    this.last.delete(key);
    this.last.set(key, now);
    if (this.last.size > this.maxEntries) this.last.delete(this.last.keys().next().value!);
    return true;
  }

  /** Drop the pairs whose window ended by `t`: they are at the front. */
  private forgetBefore(t: number): void {
    for (const [key, at] of this.last) {
      if (at > t) return;
      this.last.delete(key);
    }
  }
}
