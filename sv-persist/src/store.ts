/**
 * The message store port: what sv-persist needs from durable storage. The HTTP app, the batch
 * writer and the Kafka consumer depend on this contract, not on Sequelize: no SQL, models or rows
 * cross it. Implementation: SequelizeMessageStore (Postgres).
 */
import type { ConversationItem, HistoryPage } from '@chat/shared/protocol';
import type { ConversationsQuery, HistoryQuery, ReadMark, SentReply, SentRequest } from '@chat/shared/internal-api';
import type { Accepted, Message, NewMessage } from '@chat/shared/types';

/** What one `insertLogged` call did with its messages (each message is counted once). */
export interface LoggedInsertResult {
  /** New rows. */
  inserted: number;
  /** Already stored under the same (from, cid): a replayed record or a retried send; the first row stays. */
  duplicates: number;
  /**
   * Ids stored with a seq below their conversation's last seq: the log's offsets went back (topic
   * recreated, or partition count changed, without a new seq generation). Stored, but out of order.
   */
  regressed: string[];
  /**
   * Ids NOT stored because another message already holds their (conversation, seq): the same cause
   * as `regressed`, landing on a seq in use. Their senders were acked; an operator must act.
   */
  collided: string[];
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
  /**
   * Kafka mode: store messages whose `seq` the message log already fixed, in one transaction with
   * the conversation heads (which only move forward). Idempotent: a message whose id or (from, cid)
   * is stored already is skipped, so replaying records or a retried send never duplicates a row.
   * Rejects (nothing stored) when the statement fails; ERR_STORE_UNAVAILABLE when the database
   * cannot be reached.
   */
  insertLogged(msgs: Message[]): Promise<LoggedInsertResult>;
  /** A page of the conversation of `q.user` and `q.with`, keyset-paginated by `seq`. */
  history(q: HistoryQuery): Promise<HistoryPage>;
  /** The stored message of each (from, cid), in order: its id, seq and ts, or null when none is stored. */
  findSent(keys: SentRequest['keys']): Promise<SentReply['found']>;
  /** The user's conversations with their last message, unread count and the peer's read mark, newest first. */
  conversations(q: ConversationsQuery): Promise<ConversationItem[]>;
  /**
   * Move read marks forward (a mark never moves back). Resolves after the commit with whether each
   * moved the stored mark, in order; of several for one reader and peer, only the first holding
   * the highest seq can. Rejects with ERR_STORE_UNAVAILABLE when the database cannot be reached.
   */
  storeReadMarks(marks: ReadMark[]): Promise<boolean[]>;
  /** Resolves when the database answers a trivial query (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
