import type { UserId } from './types.ts';

/**
 * A node's claim on a (from, cid) before its message is written to the log: the identity the
 * message will have if this claim is the first.
 */
export interface SendClaim {
  from: UserId;
  cid: string;
  id: string;
  ts: number;
}

/** What the ledger holds for a (from, cid): the message's identity, and its `seq` once settled. */
export interface SendRecord {
  id: string;
  ts: number;
  /** Absent while the claimant has not reported the log's answer (it is writing, or it died). */
  seq?: number;
}

/**
 * The log's answer for a claimed message. Applied when the ledger holds no record of (from, cid)
 * (it expired, or the ledger restarted empty), or holds `id`, or holds `replaces`: a node that read
 * the stored message points the record at it.
 */
export interface SendSettlement extends SendClaim {
  seq: number;
  replaces?: string;
}

/**
 * The record of recent sends shared by every node (Kafka mode), so a `cid` repeated on another
 * node is answered with the original's `id`, `seq` and `ts`. Records live for the ledger's TTL
 * (`SEND_DEDUPE_TTL_MS`). Implementations: MemorySendLedger (sv-discover, no REDIS_URL),
 * RedisSendLedger (REDIS_URL), SendLedgerClient (a node talking to sv-discover).
 */
export interface SendLedger {
  /**
   * Set-if-absent, per claim and in order: `null` when the claim is now the record (the message
   * is new), else the record already held. A repeat of a (from, cid) within one call finds the
   * earlier claim.
   */
  claim(claims: readonly SendClaim[]): Promise<(SendRecord | null)[]>;
  /** Record the `seq` of claimed messages, in order (see SendSettlement for when each applies). */
  settle(settlements: readonly SendSettlement[]): Promise<void>;
  close(): Promise<void>;
}

/** Whether a settlement may overwrite `held`, the record of its (from, cid) (undefined: none). */
export function settles(held: Pick<SendRecord, 'id'> | undefined, s: Pick<SendSettlement, 'id' | 'replaces'>): boolean {
  return held === undefined || held.id === s.id || (s.replaces !== undefined && held.id === s.replaces);
}
