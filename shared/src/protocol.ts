/**
 * The public wire contract (docs/protocol.md): the only definition of its frames, of the history
 * paging rules and of how a message appears on the wire. Services and tests import these types,
 * `parseClientFrame`, the fields and limits (protocol-fields.ts) and the frame builders
 * (frame-builders.ts), all from here; nobody redeclares a frame.
 */
import { z } from 'zod';
import { ERR_BAD_FRAME, ERR_TOO_LARGE } from './errors.ts';
import {
  bodySchema, cidSchema, DEFAULT_MAX_BODY, historyPaging, limitSchema, MAX_ROOM_TITLE, MAX_ROOM_USERS_PER_FRAME, MAX_WATCH_USERS,
  noNul, oneWay, roomIdSchema, seqSchema, userIdSchema,
} from './protocol-fields.ts';

export * from './protocol-fields.ts';
export * from './frame-builders.ts';

export type WireErrorCode = 'bad_request' | 'unauthorized' | 'forbidden' | 'too_large' | 'rate_limited' | 'unavailable';

const helloSchema = z.object({
  type: z.literal('hello'),
  user: z.string().optional(),
  token: z.string().max(8192).optional(),
});
/** A frame about one conversation names it by `with` (a user) or by `room`, never both. */
function oneConversation<S extends z.ZodType<{ with?: string | undefined; room?: string | undefined }>>(schema: S, peerField: 'to' | 'with' = 'with'): S {
  return schema.refine(
    (f) => ((f as Record<string, unknown>)[peerField] === undefined) !== (f.room === undefined),
    `takes ${peerField} or room, exactly one`,
  );
}

const sendSchema = oneConversation(z.object({
  type: z.literal('send'),
  to: userIdSchema.optional(),
  room: roomIdSchema.optional(),
  // Length is checked after parsing so an over-long body gets `too_large`, not `bad_request`.
  body: bodySchema,
  cid: cidSchema,
}), 'to');
const historySchema = oneConversation(oneWay(z.object({
  type: z.literal('history'), with: userIdSchema.optional(), room: roomIdSchema.optional(), ...historyPaging,
})));
const conversationsSchema = z.object({ type: z.literal('conversations'), limit: limitSchema.optional() });
const pingSchema = z.object({ type: z.literal('ping') });
/** The connection's whole watch list: it replaces the previous one; an empty list clears it. */
const watchSchema = z.object({
  type: z.literal('watch'),
  users: z.array(userIdSchema).max(MAX_WATCH_USERS, `at most ${MAX_WATCH_USERS} users`),
});

/** `to` may be the sender: the indicator then reaches the sender's other connections. */
const typingSchema = z.object({ type: z.literal('typing'), to: userIdSchema });
/** Everything from `with` up to `seq` is read; `with` may be the reader (notes to self). */
const readSchema = oneConversation(z.object({
  type: z.literal('read'), with: userIdSchema.optional(), room: roomIdSchema.optional(), seq: seqSchema,
}));

const roomUsers = z.array(userIdSchema).max(MAX_ROOM_USERS_PER_FRAME, `at most ${MAX_ROOM_USERS_PER_FRAME} users per frame`);
const roomTitle = z.string().max(MAX_ROOM_TITLE, `at most ${MAX_ROOM_TITLE} characters`).refine(noNul, 'must not contain NUL characters');
/** The sender creates the room, owns it and is a member; `members` are the others (the sender may be listed too). */
const roomCreateSchema = z.object({
  type: z.literal('room_create'), title: roomTitle, members: roomUsers, public: z.boolean().optional(), cid: cidSchema.optional(),
});
/*
 * Every room frame may carry a `cid`: the `room` frame it causes carries it to the asker's
 * connections and an `error` refusing it carries it, so a client matches each answer to its request.
 */
const roomAddSchema = z.object({ type: z.literal('room_add'), room: roomIdSchema, users: roomUsers.min(1), cid: cidSchema.optional() });
const roomRemoveSchema = z.object({ type: z.literal('room_remove'), room: roomIdSchema, users: roomUsers.min(1), cid: cidSchema.optional() });
const roomJoinSchema = z.object({ type: z.literal('room_join'), room: roomIdSchema, cid: cidSchema.optional() });
const roomLeaveSchema = z.object({ type: z.literal('room_leave'), room: roomIdSchema, cid: cidSchema.optional() });
const roomInfoSchema = z.object({ type: z.literal('room_info'), room: roomIdSchema, cid: cidSchema.optional() });

const clientFrameSchema = z.discriminatedUnion('type', [
  helloSchema, sendSchema, historySchema, conversationsSchema, pingSchema, watchSchema,
  typingSchema, readSchema,
  roomCreateSchema, roomAddSchema, roomRemoveSchema, roomJoinSchema, roomLeaveSchema, roomInfoSchema,
]);

const CLIENT_FRAME_TYPES: ReadonlySet<string> = new Set([
  'hello', 'send', 'history', 'conversations', 'ping', 'watch', 'typing', 'read',
  'room_create', 'room_add', 'room_remove', 'room_join', 'room_leave', 'room_info',
]);

export type Hello = z.infer<typeof helloSchema>;
export type Send = z.infer<typeof sendSchema>;
export type HistoryRequest = z.infer<typeof historySchema>;
export type ConversationsRequest = z.infer<typeof conversationsSchema>;
export type Ping = z.infer<typeof pingSchema>;
export type Watch = z.infer<typeof watchSchema>;
export type TypingRequest = z.infer<typeof typingSchema>;
export type ReadRequest = z.infer<typeof readSchema>;
export type RoomCreate = z.infer<typeof roomCreateSchema>;
export type RoomAdd = z.infer<typeof roomAddSchema>;
export type RoomRemove = z.infer<typeof roomRemoveSchema>;
export type RoomJoin = z.infer<typeof roomJoinSchema>;
export type RoomLeave = z.infer<typeof roomLeaveSchema>;
export type RoomInfoRequest = z.infer<typeof roomInfoSchema>;
export type ClientFrame = z.infer<typeof clientFrameSchema>;

/**
 * A message as it appears on the wire, inside `history` and `conversations` replies: `to` for a
 * one-to-one message, `room` (and no `to`) for a room's.
 */
export interface WireMessage {
  id: string;
  seq: number;
  cid: string;
  from: string;
  to?: string;
  room?: string;
  body: string;
  ts: number;
}
/** A message inside the services: `to` is the recipient or a room's address (types.ts `roomAddress`). */
export interface InternalMessage {
  id: string;
  seq: number;
  cid: string;
  from: string;
  to: string;
  body: string;
  ts: number;
}
export interface Welcome { type: 'welcome'; user: string; node: string }
export interface Ack { type: 'ack'; cid: string; id: string; seq: number; ts: number }
export interface MessageFrame extends WireMessage { type: 'message' }
/** A page of one conversation, as sv-persist answers it and a `history` reply carries it. */
export interface HistoryPage {
  /** Ascending `seq`, whichever direction was paged. */
  messages: WireMessage[];
  /** True when more messages exist beyond this page in the direction paged (older for `before` or neither, newer for `after`). */
  more: boolean;
}
/** `with` answers a one-to-one history request, `room` a room's. */
export interface HistoryReply extends HistoryPage { type: 'history'; with?: string; room?: string }
/**
 * One conversation of a user, one-to-one (`with`) or a room (`room`, `title`): `unread` counts the
 * messages from others above the user's read mark; `peer_read_seq` (one-to-one only) is the peer's
 * read mark (0 before any `read`).
 */
export interface ConversationItem {
  with?: string;
  room?: string;
  title?: string;
  last: WireMessage;
  unread: number;
  peer_read_seq?: number;
}
export interface ConversationsReply { type: 'conversations'; items: ConversationItem[] }
export interface Pong { type: 'pong' }
/**
 * Whether a user has a connection anywhere in the mesh; `last_seen` is when their last one went
 * (epoch ms), null while online and for a user never seen. The `presence` frame is this with its
 * type; the change feed carries the same objects from sv-discover to the nodes.
 */
export interface WirePresence { user: string; online: boolean; last_seen: number | null }
export interface PresenceFrame extends WirePresence { type: 'presence' }
export interface ErrorFrame { type: 'error'; code: WireErrorCode; message: string; cid?: string }
/** `from` is typing to the connection's user. */
export interface TypingFrame { type: 'typing'; from: string }
/**
 * `by` read everything from `with` (or in `room`) up to `seq`: its read mark of that conversation
 * moved there.
 */
export type ReadFrame = { type: 'read'; by: string; with: string; seq: number } | { type: 'read'; by: string; room: string; seq: number };
/** A room as it is now: sent to every member after each change, and to those a change took out. */
export interface WireRoom { room: string; title: string; owner: string; public: boolean; members: string[] }
/** `cid` echoes the room frame (`room_create`, `room_add`, …) that caused it, to the asker's connections. */
export interface RoomFrame extends WireRoom { type: 'room'; cid?: string }
export type ServerFrame =
  | Welcome | Ack | MessageFrame | HistoryReply | ConversationsReply | Pong | PresenceFrame | ErrorFrame | TypingFrame | ReadFrame
  | RoomFrame;

/** Human-readable summary of a zod failure: the first issue, with its path. */
export function describeIssues(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return `${path}${issue.message}`;
}

/**
 * Parse one text frame. Throws ERR_BAD_FRAME (wire `bad_request`) for invalid JSON, a non-object,
 * an unknown type or a bad field; ERR_TOO_LARGE (`too_large`) for a body over `maxBody` characters.
 * It never throws anything else, so a frame can never crash the caller.
 */
export function parseClientFrame(raw: string, maxBody = DEFAULT_MAX_BODY): ClientFrame {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ERR_BAD_FRAME('not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ERR_BAD_FRAME('a frame is a JSON object');
  }
  const type = (json as { type?: unknown }).type;
  if (typeof type !== 'string') throw new ERR_BAD_FRAME('type must be a string');
  if (!CLIENT_FRAME_TYPES.has(type)) throw new ERR_BAD_FRAME('unknown frame type');
  const result = clientFrameSchema.safeParse(json);
  if (!result.success) throw new ERR_BAD_FRAME(describeIssues(result.error));
  const frame = result.data;
  if (frame.type === 'send' && frame.body.length > maxBody) {
    throw new ERR_TOO_LARGE(`body is over ${maxBody} characters`);
  }
  return frame;
}
