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
  to: UserId;
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

/** The conversation of two users, the same whichever of them asks (':' never occurs in a user id). */
export function conversationKey(a: UserId, b: UserId): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

/**
 * The key of a message's (from, cid): what a retried or replayed send repeats, and what the store
 * keeps unique. '\n' never occurs in a user id, so no two pairs share a key.
 */
export function dedupeKey(from: UserId, cid: string): string {
  return `${from}\n${cid}`;
}
