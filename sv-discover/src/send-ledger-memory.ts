/**
 * The record of sends in sv-discover's memory (no REDIS_URL): same semantics as RedisSendLedger,
 * for a single sv-discover instance, forgotten when it restarts.
 *
 * Bounded by age and by count. Every record lives the same TTL from its claim, so insertion order
 * is expiry order: expired records are dropped from the old end as claims arrive (amortised O(1)),
 * and past `maxEntries` the oldest go first, which shortens the window the ledger covers to
 * maxEntries / sends per second. A record costs about 250 bytes of heap (README, sizing).
 */
import { settles, type SendClaim, type SendLedger, type SendRecord, type SendSettlement } from '@chat/shared/send-ledger';
import { dedupeKey } from '@chat/shared/types';

export interface MemorySendLedgerOptions {
  /** How long a record lives after its claim, in ms. */
  ttlMs: number;
  /** Most records held; past it the oldest are dropped. */
  maxEntries: number;
  /** Clock in ms (tests). @default Date.now */
  now?: () => number;
}

interface Entry {
  id: string;
  ts: number;
  /** -1 until settled. */
  seq: number;
  expires: number;
}

export class MemorySendLedger implements SendLedger {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  /** Records dropped for room before their TTL ran out (each one shortens the window). */
  evicted = 0;

  constructor(private readonly opts: MemorySendLedgerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Records held (expired ones may linger until the next claim). */
  get size(): number {
    return this.entries.size;
  }

  async claim(claims: readonly SendClaim[]): Promise<(SendRecord | null)[]> {
    const now = this.now();
    this.expire(now);
    return claims.map((c) => {
      const key = dedupeKey(c.from, c.cid);
      const held = this.live(key, now);
      if (held) return held.seq < 0 ? { id: held.id, ts: held.ts } : { id: held.id, ts: held.ts, seq: held.seq };
      this.insert(key, { id: c.id, ts: c.ts, seq: -1, expires: now + this.opts.ttlMs });
      return null;
    });
  }

  async settle(settlements: readonly SendSettlement[]): Promise<void> {
    const now = this.now();
    for (const s of settlements) {
      const key = dedupeKey(s.from, s.cid);
      const held = this.live(key, now);
      if (!settles(held, s)) continue;
      if (held) Object.assign(held, { id: s.id, ts: s.ts, seq: s.seq });
      else this.insert(key, { id: s.id, ts: s.ts, seq: s.seq, expires: now + this.opts.ttlMs });
    }
  }

  async close(): Promise<void> {
    this.entries.clear();
  }

  /** The entry of `key` unless it expired (an expired one is dropped). */
  private live(key: string, now: number): Entry | undefined {
    const held = this.entries.get(key);
    if (held && held.expires <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return held;
  }

  private insert(key: string, entry: Entry): void {
    this.entries.set(key, entry);
    while (this.entries.size > this.opts.maxEntries) {
      this.entries.delete(this.entries.keys().next().value as string);
      this.evicted++;
    }
  }

  private expire(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.expires > now) break;
      this.entries.delete(key);
    }
  }
}
