/**
 * The public wire contract (docs/protocol.md): the only definition of its frames, of the history
 * paging rules and of how a message appears on the wire. Services and tests import these types,
 * `parseClientFrame` and the frame builders below; nobody redeclares a frame.
 */
import { z } from 'zod';
import { clientErrorMessage, ERR_BAD_FRAME, ERR_TOO_LARGE, errorAnswer } from './errors.ts';
import { roomOf } from './types.ts';

export const USER_ID = /^[A-Za-z0-9_.-]{1,64}$/;
export const MAX_CID_LENGTH = 64;
export const HISTORY_MAX_LIMIT = 200;
export const HISTORY_DEFAULT_LIMIT = 50;
/** The default of the configurable body limit, in characters. */
export const DEFAULT_MAX_BODY = 4000;
/** Most users one connection may watch (`watch`). */
export const MAX_WATCH_USERS = 500;

export type WireErrorCode = 'bad_request' | 'unauthorized' | 'forbidden' | 'too_large' | 'rate_limited' | 'unavailable';

/** Room ids are made by the server (UUIDv7); a client only ever repeats one it was given. */
export const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_ROOM_TITLE = 200;
/** Most users one `room_create`, `room_add` or `room_remove` frame may list (a room grows past it over several frames). */
export const MAX_ROOM_USERS_PER_FRAME = 1000;
/** The default of MAX_ROOM_MEMBERS, the most members a room may have. */
export const DEFAULT_MAX_ROOM_MEMBERS = 10_000;

export const userIdSchema = z.string().regex(USER_ID, 'user ids match ^[A-Za-z0-9_.-]{1,64}$');
/** Postgres text cannot hold U+0000, so no stored string may carry one. */
const noNul = (s: string) => !s.includes('\u0000');
export const roomIdSchema = z.string().regex(ROOM_ID, 'room ids match ^[A-Za-z0-9_-]{1,64}$');
export const cidSchema = z.string().min(1).max(MAX_CID_LENGTH).refine(noNul, 'must not contain NUL characters');
export const bodySchema = z.string().min(1, 'body must not be empty').refine(noNul, 'must not contain NUL characters');
export const seqSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
export const limitSchema = z.number().int().min(1).max(HISTORY_MAX_LIMIT);
/** The same two rules for a query-string value (the HTTP APIs): text, coerced, then checked alike. */
const seqParam = z.coerce.number().pipe(seqSchema);
export const limitParam = z.coerce.number().pipe(limitSchema);

/** The paging fields of a history request: in a `history` frame (JSON numbers), in a query string (text). */
const historyPaging = { before: seqSchema.optional(), after: seqSchema.optional(), limit: limitSchema.optional() };
const historyPagingText = { before: seqParam.optional(), after: seqParam.optional(), limit: limitParam.optional() };

/** History's one rule across fields: a page is read one way, older than `before` or newer than `after`. */
function oneWay<S extends z.ZodType<{ before?: number | undefined; after?: number | undefined }>>(schema: S): S {
  return schema.refine((q) => q.before === undefined || q.after === undefined, 'history takes before or after, not both');
}

/**
 * History paging in a query string, under the same rules as the `history` frame: the public HTTP
 * API and sv-persist's internal route extend it (`safeExtend`, which keeps the rule) with who asks
 * about whom.
 */
export const historyPagingParams = oneWay(z.object(historyPagingText));

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

/*
 * The builders of every message and ack on the wire. A message's fields go in one order
 * everywhere (id, seq, cid, from, to, body, ts), so the same message always encodes the same.
 */

/** A stored message as `history` and `conversations` replies carry it: a room's with `room`, not `to`. */
export function toWireMessage(m: InternalMessage): WireMessage {
  const room = roomOf(m.to);
  return room === undefined
    ? { id: m.id, seq: m.seq, cid: m.cid, from: m.from, to: m.to, body: m.body, ts: m.ts }
    : { id: m.id, seq: m.seq, cid: m.cid, from: m.from, room, body: m.body, ts: m.ts };
}

/**
 * The encoded `message` frame of a delivered message, built in one object (no spread of a
 * `toWireMessage` copy): it runs once per delivery, and one encoding serves every socket.
 */
export function encodeMessageFrame(m: InternalMessage): string {
  const room = roomOf(m.to);
  const frame: MessageFrame = room === undefined
    ? { type: 'message', id: m.id, seq: m.seq, cid: m.cid, from: m.from, to: m.to, body: m.body, ts: m.ts }
    : { type: 'message', id: m.id, seq: m.seq, cid: m.cid, from: m.from, room, body: m.body, ts: m.ts };
  return JSON.stringify(frame);
}

/** The `room` frame of a room's state; `cid` only for the creator's answer to `room_create`. */
export function roomFrame(r: WireRoom, cid?: string): RoomFrame {
  const frame: RoomFrame = { type: 'room', room: r.room, title: r.title, owner: r.owner, public: r.public, members: r.members };
  if (cid !== undefined) frame.cid = cid;
  return frame;
}

/** The encoded `presence` frame of a user's state: encoded once for every connection watching them. */
export function encodePresenceFrame(p: WirePresence): string {
  const frame: PresenceFrame = { type: 'presence', user: p.user, online: p.online, last_seen: p.last_seen };
  return JSON.stringify(frame);
}

/** The `ack` of an accepted `send`: its `cid`, and the id, seq and ts the log gave the message. */
export function ackFrame(cid: string, accepted: Pick<Ack, 'id' | 'seq' | 'ts'>): Ack {
  return { type: 'ack', cid, id: accepted.id, seq: accepted.seq, ts: accepted.ts };
}

/** The `typing` frame the recipient gets, built in one field order like every frame. */
export function typingFrame(from: string): TypingFrame {
  return { type: 'typing', from };
}

/**
 * The `read` frame the peer and the reader's other connections get when a read mark moved; for a
 * room's mark (`withUser` a room's address) it names the room, and goes to the reader's other
 * connections only.
 */
export function readFrame(by: string, withUser: string, seq: number): ReadFrame {
  const room = roomOf(withUser);
  return room === undefined ? { type: 'read', by, with: withUser, seq } : { type: 'read', by, room, seq };
}

/** The `error` frame of any failure; `cid` names the `send` it refuses, when there is one. */
export function errorFrame(err: unknown, cid?: string): ErrorFrame {
  const { code } = errorAnswer(err);
  const message = clientErrorMessage(err, code);
  return cid === undefined ? { type: 'error', code, message } : { type: 'error', code, message, cid };
}
