/**
 * The SQL of SequelizeMessageStore. Every value travels as a bind parameter ($n); the only
 * interpolation is of the constant fragments below.
 */

/** Batch columns as parallel arrays: $1 id, $2 conv, $3 sender, $4 recipient, $5 cid, $6 body, $7 ts. */
const UNNEST_INPUT = `unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])
  WITH ORDINALITY AS t(id, conv, sender, recipient, cid, body, ts, ord)`;

/**
 * Move the conversations' last message from `source` (id, seq, ts, conv, sender, recipient), one
 * row per conversation. DISTINCT ON keeps the newest message per conversation (ON CONFLICT may
 * touch a row once per statement); the WHERE only moves forward. A conversation's users are set
 * when its row is created and never change, so the update is in place (HOT, no index touched).
 */
function headsUpsert(source: string): string {
  return `INSERT INTO conversations (conv, user_a, user_b, last_seq, last_ts, last_message_id)
  SELECT DISTINCT ON (conv) conv, sender, recipient, seq, ts, id FROM ${source} s
  ORDER BY conv, seq DESC
  ON CONFLICT (conv) DO UPDATE
    SET last_seq = excluded.last_seq, last_ts = excluded.last_ts, last_message_id = excluded.last_message_id
    WHERE conversations.last_seq < excluded.last_seq`;
}

/**
 * One statement: insert the batch in input order (so nextval follows it), skip stored (sender, cid),
 * move the heads, and return the inserted rows. Data-modifying CTEs always run to completion.
 */
export const INSERT_UNNEST = `WITH ins AS (
  INSERT INTO messages (id, conv, sender, recipient, cid, body, ts)
  SELECT id, conv, sender, recipient, cid, body, ts FROM ${UNNEST_INPUT} ORDER BY ord
  ON CONFLICT (sender, cid) DO NOTHING
  RETURNING id, seq, ts, conv, sender, recipient
), heads AS (
  ${headsUpsert('ins')}
)
SELECT id, seq, ts FROM ins`;

/**
 * Kafka mode, one statement: insert messages whose seq the log fixed (offset-derived, $8), skip
 * rows already stored, move the heads forward, and return one row: how many rows went in, and the
 * ids of those stored below their conversation's last seq (`regressed`). The heads are read from
 * the statement's snapshot, i.e. before this statement's own head moves, by key, once per
 * conversation of the batch (a scalar subquery: the planner may not turn it into a scan of the
 * whole table); and one row back instead of one per message keeps the answer small.
 *
 * `conflict` names what is skipped:
 * - `ON CONFLICT (sender, cid)`, the usual one: a replayed record and a retried send both repeat
 *   their (sender, cid). Postgres checks only that key before each row (an index probe); a row that
 *   hits another unique key fails the statement, and nothing of it is stored.
 * - `ON CONFLICT` (any key): also skips a row whose (conv, seq) is taken, so a batch holding one
 *   still stores the rest. It checks all three unique keys before each row: the fallback.
 */
function insertLogged(conflict: string): string {
  return `WITH ins AS (
  INSERT INTO messages (id, seq, conv, sender, recipient, cid, body, ts)
  SELECT id, seq, conv, sender, recipient, cid, body, ts FROM unnest(
    $1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[]
  ) WITH ORDINALITY AS t(id, conv, sender, recipient, cid, body, ts, seq, ord) ORDER BY ord
  ${conflict} DO NOTHING
  RETURNING id, seq, ts, conv, sender, recipient
), heads AS (
  ${headsUpsert('ins')}
), before AS (
  SELECT c.conv, (SELECT h.last_seq FROM conversations h WHERE h.conv = c.conv) AS last_seq
    FROM (SELECT DISTINCT conv FROM ins) c
)
SELECT count(*)::int AS inserted,
    coalesce(array_agg(ins.id ORDER BY ins.seq) FILTER (WHERE b.last_seq > ins.seq), '{}') AS regressed
  FROM ins LEFT JOIN before b ON b.conv = ins.conv`;
}
export const INSERT_LOGGED = insertLogged('ON CONFLICT (sender, cid)');
export const INSERT_LOGGED_ANY_CONFLICT = insertLogged('ON CONFLICT');

/** After bulkCreate: heads of the rows inserted by this transaction, $1 = their ids. */
export const HEADS_FROM_IDS = headsUpsert('(SELECT id, seq, ts, conv, sender, recipient FROM messages WHERE id = ANY($1::uuid[]))');

/**
 * Stored rows of (sender, cid) pairs $1/$2, with `fresh` when this transaction inserted them
 * (xmin is the inserting transaction). The body comes along so that a repeated send can be
 * delivered as it was stored.
 */
export const SELECT_BY_SENDER_CID = `SELECT m.id, m.seq, m.ts, m.sender, m.cid, m.body,
    m.xmin::text = (pg_current_xact_id()::xid)::text AS fresh
  FROM messages m JOIN unnest($1::text[], $2::text[]) AS k(sender, cid) USING (sender, cid)`;

const MESSAGE_COLUMNS = 'id, seq, cid, sender, recipient, body, ts';

/** Newest page: $1 conv, $2 limit + 1. */
export const HISTORY_LATEST = `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conv = $1 ORDER BY seq DESC LIMIT $2`;
/** Older than $2: $1 conv, $2 before, $3 limit + 1. */
export const HISTORY_BEFORE = `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conv = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`;
/** Newer than $2, oldest first: $1 conv, $2 after, $3 limit + 1. */
export const HISTORY_AFTER = `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE conv = $1 AND seq > $2 ORDER BY seq ASC LIMIT $3`;

/**
 * $1 user, $2 limit: the user's one-to-one conversations and rooms, newest first, ties broken by
 * peer so pages are stable. The page is cut first (the inner query), so only its conversations
 * are counted.
 * - One-to-one: the user is either side of a conversation (an index on each); a conversation with
 *   oneself is one row. A room's row (conv '#<room>', user_a its first sender) is not one of them.
 * - Rooms: the user's memberships (room_members by user_id), each joined to its conversation row by
 *   key; a room with no message yet has none and is left out (an item carries the last message).
 * `unread` counts the messages above the user's read mark (`peer` the peer, or the room's address)
 * from the peer, or in a room from anyone else: a count over one range of messages (conv, seq)
 * whose `sender` the index carries (INCLUDE), so no message row is read. `peer_read_seq` is the
 * peer's mark (one-to-one only). With no mark every message counts: in Kafka mode a
 * conversation's first message can have seq 0.
 */
export const CONVERSATIONS = `SELECT c.peer, c.is_room, r.title, m.id, m.seq, m.cid, m.sender, m.recipient, m.body, m.ts,
    CASE WHEN c.is_room
      THEN (SELECT count(*) FROM messages u WHERE u.conv = c.conv AND u.seq > coalesce(mine.seq, -1) AND u.sender <> $1)
      ELSE (SELECT count(*) FROM messages u WHERE u.conv = c.conv AND u.seq > coalesce(mine.seq, -1) AND u.sender = c.peer)
    END AS unread,
    coalesce(theirs.seq, 0) AS peer_read_seq
  FROM (
    (SELECT h.conv, h.last_ts, h.last_message_id, CASE WHEN h.user_a = $1 THEN h.user_b ELSE h.user_a END AS peer, false AS is_room
      FROM conversations h
      WHERE (h.user_a = $1 OR h.user_b = $1) AND h.conv NOT LIKE '#%'
      ORDER BY h.last_ts DESC, peer
      LIMIT $2)
    UNION ALL
    (SELECT h.conv, h.last_ts, h.last_message_id, h.conv AS peer, true AS is_room
      FROM room_members rm JOIN conversations h ON h.conv = '#' || rm.room
      WHERE rm.user_id = $1
      ORDER BY h.last_ts DESC, peer
      LIMIT $2)
    ORDER BY last_ts DESC, peer
    LIMIT $2) c
  JOIN messages m ON m.id = c.last_message_id
  LEFT JOIN rooms r ON c.is_room AND r.id = substr(c.peer, 2)
  LEFT JOIN read_marks mine ON mine.reader = $1 AND mine.peer = c.peer
  LEFT JOIN read_marks theirs ON NOT c.is_room AND theirs.reader = c.peer AND theirs.peer = $1
  ORDER BY c.last_ts DESC, c.peer`;

/**
 * Move read marks forward: $1 readers, $2 peers, $3 seqs, one row per (reader, peer), in the order
 * given (read-marks.ts sorts them, so concurrent statements lock shared rows in one order). A
 * stored mark is updated only to a higher seq; RETURNING names the rows that moved.
 */
export const READ_MARKS_UPSERT = `INSERT INTO read_marks (reader, peer, seq)
  SELECT reader, peer, seq FROM unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS t(reader, peer, seq, ord)
  ORDER BY ord
  ON CONFLICT (reader, peer) DO UPDATE SET seq = excluded.seq WHERE read_marks.seq < excluded.seq
  RETURNING reader, peer`;
