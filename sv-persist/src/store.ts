/**
 * The message store port (STYLE.md §2): what sv-persist needs from durable storage. No SQL,
 * models or rows cross it. Implementation: SequelizeMessageStore (Postgres).
 */
import type { ConversationItem, WireMessage } from '@chat/shared/protocol';
import type { ConversationsQuery, HistoryQuery } from '@chat/shared/internal-api';
import type { Accepted, NewMessage } from '@chat/shared/types';

export interface HistoryPage {
  /** Ascending `seq`, whichever direction was paged. */
  messages: WireMessage[];
  /** True when more rows exist beyond this page in the direction paged (older for `before`/none, newer for `after`). */
  more: boolean;
}

export interface MessageStore {
  /**
   * Store a batch atomically (all or nothing) and keep each conversation's head in the same
   * transaction. Resolves after the commit with one result per message, in input order: for a new
   * (from, cid) its own id and the `seq` assigned at commit; for a (from, cid) already stored, in the
   * database or earlier in the same batch, the original's id, seq and ts with `duplicate: true`.
   * Rejects with ERR_STORE_UNAVAILABLE when the database cannot be reached; nothing is then stored.
   */
  insertBatch(msgs: NewMessage[]): Promise<Accepted[]>;
  /** A page of the conversation of `q.user` and `q.with`, keyset-paginated by `seq`. */
  history(q: HistoryQuery): Promise<HistoryPage>;
  /** The user's conversations with their last message, newest first. */
  conversations(q: ConversationsQuery): Promise<ConversationItem[]>;
  /** Resolves when the database answers a trivial query (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
