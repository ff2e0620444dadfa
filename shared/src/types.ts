/** Identity aliases (after socket.io's `ServerId`): plain strings, named for what they hold. */
export type UserId = string;
/** One WebSocket connection, unique across the mesh (a UUIDv7). */
export type ConnId = string;
/** One sv-websocket node, unique in the mesh (e.g. `node-3001`). */
export type NodeId = string;

/** A message as a node hands it to the message log: everything but its position. */
export interface NewMessage {
  id: string;
  from: UserId;
  /** The recipient, or a room's address (`roomAddress`). */
  to: string;
  cid: string;
  body: string;
  ts: number;
}

/** A durably accepted message: its `seq` orders it within its conversation. */
export interface Message extends NewMessage {
  seq: number;
}

/** What the log returns for each appended message, in the order appended. */
export interface Accepted {
  id: string;
  seq: number;
  ts: number;
  /** True when (from, cid) was already stored: id, seq and ts are the original's. */
  duplicate: boolean;
  /**
   * With `duplicate`, the original's body when the log knows it (the store does). The repeat is
   * then delivered as the original: its first delivery may never have happened (the reply to the
   * first attempt was lost with the node that sent it).
   */
  body?: string;
}

/** A node as discovery knows it: where to forward messages for its users. */
export interface NodeInfo {
  nodeId: NodeId;
  /** Base URL of the node's HTTP server, e.g. http://127.0.0.1:3001 */
  url: string;
}

/** A group conversation, named by sv-persist when it creates it (a UUIDv7). */
export type RoomId = string;

/**
 * Inside the services a room message travels as a message `to` its room's address, `#<room id>`
 * ('#' never occurs in a user id): the log, the store, dedupe and history then treat a room like
 * any conversation, keyed by that address. Only the wire shows `room` instead of `to`.
 */
export const ROOM_PREFIX = '#';

/** The address of a room inside the services (the `to` of its messages, the key of its conversation). */
export function roomAddress(room: RoomId): string {
  return ROOM_PREFIX + room;
}

/** The room an internal `to` names, or undefined when it names a user. */
export function roomOf(to: string): RoomId | undefined {
  return to.startsWith(ROOM_PREFIX) ? to.slice(ROOM_PREFIX.length) : undefined;
}

/**
 * The conversation of two users, the same whichever of them asks (':' never occurs in a user id);
 * for a message to a room, the room's address.
 */
export function conversationKey(a: UserId, b: string): string {
  if (b.startsWith(ROOM_PREFIX)) return b;
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

/**
 * The key of a message's (from, cid): what a retried or replayed send repeats, and what the store
 * keeps unique. '\n' never occurs in a user id, so no two pairs share a key.
 */
export function dedupeKey(from: UserId, cid: string): string {
  return `${from}\n${cid}`;
}
