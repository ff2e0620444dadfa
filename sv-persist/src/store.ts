/**
 * The message store port: what sv-persist needs from durable storage. The HTTP app, the batch
 * writer and the Kafka consumer depend on this contract, not on Sequelize: no SQL, models or rows
 * cross it. Implementation: SequelizeMessageStore (Postgres).
 */
import type { ConversationItem, HistoryPage } from '@chat/shared/protocol';
import type {
  ConversationsQuery, HistoryQuery, ReadMark, ReadMarksReply, RoomChangeReply, RoomChangeRequest, RoomCreateRequest, RoomState,
  SentReply, SentRequest,
} from '@chat/shared/internal-api';
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
  /**
   * A page of the conversation of `q.user` and `q.with`, keyset-paginated by `seq`. `q.with` a
   * room's address: rejects with ERR_FORBIDDEN unless `q.user` is a member of the room.
   */
  history(q: HistoryQuery): Promise<HistoryPage>;
  /** The stored message of each (from, cid), in order: its id, seq and ts, or null when none is stored. */
  findSent(keys: SentRequest['keys']): Promise<SentReply['found']>;
  /**
   * The user's conversations, newest first: one-to-one (with the peer's read mark) and the rooms
   * the user is a member of that hold a message (with their title); each with its last message
   * and unread count.
   */
  conversations(q: ConversationsQuery): Promise<ConversationItem[]>;
  /**
   * Move read marks forward (a mark never moves back). Resolves after the commit with whether each
   * moved the stored mark, in order; of several for one reader and peer, only the first holding
   * the highest seq can. A room's mark (peer a room's address) moves only for a member: the others
   * are listed in `forbidden` and change nothing. Rejects with ERR_STORE_UNAVAILABLE when the
   * database cannot be reached.
   */
  storeReadMarks(marks: ReadMark[]): Promise<ReadMarksReply>;
  /**
   * Create a room (its id a new UUIDv7), owned by `req.owner`, who is a member. Rejects with
   * ERR_BAD_REQUEST past MAX_ROOM_MEMBERS; nothing is then stored.
   */
  createRoom(req: RoomCreateRequest): Promise<RoomState>;
  /**
   * Change a room's members in one transaction that holds the room's row, checked against the
   * stored room (room-rules.ts); the version moves by one when members changed, else the room
   * comes back as it was. Rejects with ERR_FORBIDDEN or ERR_BAD_REQUEST, changing nothing.
   */
  changeRoom(req: RoomChangeRequest): Promise<RoomChangeReply>;
  /** The rooms of `ids` that exist, in the order asked; members in the order they joined. */
  getRooms(ids: readonly string[]): Promise<RoomState[]>;
  /** Resolves when the database answers a trivial query (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
