/**
 * A MessageLog wrapper that remembers recent appends by (sender, cid), so a client that repeats a
 * `send` (it lost the ack, or reconnected to this node) is acked with the same id, seq and ts and
 * the message is not produced twice. A repeat that arrives while the first append is still in
 * flight waits for that same append. A failed append is forgotten at once, so a retry really
 * produces.
 *
 * Memory is bounded by count and by age: entries are kept in insertion order (which is also
 * expiry order, the window being the same for all) and the oldest go first. A repeat is a retry
 * within a short window, so there is nothing to gain from refreshing an entry when it is hit.
 * This is a node-local cache: the store's unique (sender, cid) stays the guarantee against
 * duplicates; this makes the ack of a repeat match the original when the node still knows it.
 */
import type { MessageLog } from '@chat/shared/message-log';
import { dedupeKey, type Accepted, type NewMessage } from '@chat/shared/types';

export interface RecentSendsOptions {
  /** Most remembered appends. @default 100000 */
  maxEntries?: number;
  /** How long an append is remembered, in ms. @default 600000 (10 min) */
  ttlMs?: number;
  /** Clock in ms (tests). @default performance.now */
  now?: () => number;
}

interface Entry {
  expires: number;
  result: Promise<Accepted>;
}

export class RecentSendsLog implements MessageLog {
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(private readonly log: MessageLog, opts: RecentSendsOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 100_000;
    this.ttlMs = opts.ttlMs ?? 600_000;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Remembered appends (expired ones may linger until the next append). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Unknown messages go to the wrapped log in one call, in their order; known ones (including a
   * repeat within `msgs`) resolve with the original's result and `duplicate: true`.
   */
  append(msgs: NewMessage[]): Promise<Accepted[]> {
    const now = this.now();
    this.expire(now);
    const fresh: NewMessage[] = [];
    // Per message: a remembered result, or the index of the message among `fresh`.
    const plan: (Promise<Accepted> | number)[] = [];
    const freshIndex = new Map<string, number>();
    for (const m of msgs) {
      const key = dedupeKey(m.from, m.cid);
      const known = this.entries.get(key)?.result;
      if (known) plan.push(known.then(asDuplicate));
      else if (freshIndex.has(key)) plan.push(-1 - freshIndex.get(key)!); // repeat inside this call
      else {
        freshIndex.set(key, fresh.length);
        plan.push(fresh.length);
        fresh.push(m);
      }
    }
    const produced: Promise<Accepted>[] = [];
    if (fresh.length > 0) {
      const batch = this.log.append(fresh);
      fresh.forEach((m, j) => {
        const result = batch.then((accepted) => accepted[j]!);
        const key = dedupeKey(m.from, m.cid);
        const entry: Entry = { expires: now + this.ttlMs, result };
        this.remember(key, entry);
        result.catch(() => {
          if (this.entries.get(key) === entry) this.entries.delete(key);
        });
        produced.push(result);
      });
    }
    return Promise.all(plan.map((p) => (typeof p !== 'number' ? p : p >= 0 ? produced[p]! : produced[-1 - p]!.then(asDuplicate))));
  }

  backlogMs(): number {
    return this.log.backlogMs?.() ?? 0;
  }

  healthy(): boolean {
    return this.log.healthy?.() ?? true;
  }

  async close(): Promise<void> {
    await this.log.close();
    this.entries.clear();
  }

  private remember(key: string, entry: Entry): void {
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  /** Drops expired entries from the old end; amortised O(1) per append. */
  private expire(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expires > now) break;
      this.entries.delete(key);
    }
  }
}

function asDuplicate(a: Accepted): Accepted {
  return { ...a, duplicate: true };
}
