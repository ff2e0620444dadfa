/**
 * One user's connection as a client worker (client-worker.ts) drives it, whatever the server
 * speaks: the chat protocol (client-chat.ts) or Socket.IO (client-socketio.ts). The worker keeps
 * the schedule and the accounting; a connection only sends and reports what arrives.
 */

export interface ClientConn {
  /** True while a send can be written. */
  readonly open: boolean;
  /** `body` and `to` are plain (no characters JSON would escape): the worker builds them. */
  send(to: string, cid: string, body: string): void;
  /** Send to a room the user is a member of (docs/protocol.md, rooms); the chat protocol only. Plain `body` as for `send`. */
  sendToRoom?(room: string, cid: string, body: string): void;
  /** Replace the watch list (docs/protocol.md `watch`); the chat protocol only. */
  watch?(users: string[]): void;
  close(): void;
}

/** What a connection reports once it is established. */
export interface ConnEvents {
  message(body: string): void;
  ack(cid: string, id: string | undefined): void;
  /** A refusal (with the send's cid) or an error frame about no send (without). */
  error(code: string, cid: string | undefined): void;
  /** A presence frame about a watched user; the chat protocol only. */
  presence?(user: string, online: boolean): void;
  /** The connection closed. */
  closed(): void;
}

export interface ConnectSpec { url: string; user: string; localAddress: string | undefined }

/** Resolves with the open connection, or with why it could not connect. */
export type Connect = (spec: ConnectSpec, events: ConnEvents) => Promise<ClientConn | string>;
