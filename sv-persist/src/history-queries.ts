/**
 * The read side of the message store: a conversation's history pages and a user's conversations.
 * A room's history is the same keyset paging over its conversation ('#<room>'); who may read it
 * is checked before (store-sequelize.ts).
 */
import { QueryTypes, type Sequelize } from 'sequelize';
import { HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT, toWireMessage, type ConversationItem, type HistoryPage, type WireMessage } from '@chat/shared/protocol';
import type { ConversationsQuery, HistoryQuery } from '@chat/shared/internal-api';
import { conversationKey, roomOf } from '@chat/shared/types';
import * as sql from './sql.ts';

interface MessageRow {
  id: string; seq: string; cid: string; sender: string; recipient: string; body: string; ts: string;
}

/** A row's message on the wire: int8 columns arrive as text; `toWireMessage` fixes the field order. */
function toWire(r: MessageRow): WireMessage {
  return toWireMessage({ id: r.id, from: r.sender, to: r.recipient, cid: r.cid, body: r.body, ts: Number(r.ts), seq: Number(r.seq) });
}

/** A page of the conversation, keyset-paginated by seq (one more row than the limit tells `more`). */
export async function readHistory(sequelize: Sequelize, q: HistoryQuery): Promise<HistoryPage> {
  const conv = conversationKey(q.user, q.with);
  const limit = q.limit ?? HISTORY_DEFAULT_LIMIT;
  const [text, bind] = q.after !== undefined
    ? [sql.HISTORY_AFTER, [conv, q.after, limit + 1]]
    : q.before !== undefined
      ? [sql.HISTORY_BEFORE, [conv, q.before, limit + 1]]
      : [sql.HISTORY_LATEST, [conv, limit + 1]];
  const rows = await sequelize.query<MessageRow>(text, { bind, type: QueryTypes.SELECT });
  const more = rows.length > limit;
  const page = rows.slice(0, limit).map(toWire);
  // `after` pages come oldest first already; the others were read newest first.
  if (q.after === undefined) page.reverse();
  return { messages: page, more };
}

/**
 * The user's conversations, newest first: one-to-one with the peer's read mark, rooms with their
 * title; each with its last message and unread count.
 */
export async function readConversations(sequelize: Sequelize, q: ConversationsQuery): Promise<ConversationItem[]> {
  type Row = MessageRow & { peer: string; is_room: boolean; title: string | null; unread: string; peer_read_seq: string };
  const rows = await sequelize.query<Row>(sql.CONVERSATIONS, { bind: [q.user, q.limit ?? HISTORY_MAX_LIMIT], type: QueryTypes.SELECT });
  return rows.map((r) => {
    const room = r.is_room ? roomOf(r.peer) : undefined;
    return room === undefined
      ? { with: r.peer, last: toWire(r), unread: Number(r.unread), peer_read_seq: Number(r.peer_read_seq) }
      : { room, title: r.title ?? '', last: toWire(r), unread: Number(r.unread) };
  });
}
