/**
 * The chat-mesh client (docs/protocol.md) for browser pages and Node programs, so an application
 * does not write reconnects, catch-up and retries itself. It connects to one of several nodes,
 * says `hello`, and after every reconnect resends what was not acknowledged (same `cid`) and
 * catches up what it missed; it passes each message on once.
 *
 *   Browser:  import { ChatClient } from '/client/chat-client.js';
 *   Node 20:  import { ChatClient } from '@chat/shared/client/chat-client.js'; and pass the `ws`
 *             package: new ChatClient({ urls, user, WebSocket }) (Node 20 has no global WebSocket).
 *
 * Plain JavaScript with JSDoc types (checked by `tsc`), so nobody needs a build step to use it.
 */
import { CatchUp } from './catch-up.js';
import { Connection } from './connection.js';
import { Emitter } from './emitter.js';
import { Inbox } from './inbox.js';
import { QueryPipe } from './queries.js';
import { RoomRequests, roomCreateFrame, roomRequestFrame } from './room-requests.js';
import { SendQueue } from './send-queue.js';
import { resolveOptions } from './options.js';
import { ChatError, CLOSE_UNAUTHORIZED, checkBody, checkCid, checkLimit, checkRoom, checkSeq, checkUser, cidSource, historyFrame } from './wire.js';

export { ChatError } from './wire.js';

/**
 * @typedef {import('./types.js').ChatClientOptions} ChatClientOptions
 * @typedef {import('./types.js').ChatClientEvents} ChatClientEvents
 * @typedef {import('./types.js').ConnectionState} ConnectionState
 * @typedef {import('./types.js').StateChange} StateChange
 * @typedef {import('./types.js').WireMessage} WireMessage
 * @typedef {import('./types.js').Ack} Ack
 * @typedef {import('./types.js').HistoryReply} HistoryReply
 * @typedef {import('./types.js').ConversationItem} ConversationItem
 * @typedef {import('./types.js').RoomEvent} RoomEvent
 * @typedef {import('./send-queue.js').SendTarget} SendTarget
 */

/** @extends {Emitter<ChatClientEvents>} */
export class ChatClient extends Emitter {
  /** @type {string | undefined} */ #me;
  #everOpen = false;
  #closed = false;
  /** @type {string | undefined} */ #node;
  /** @type {{ resolve: () => void, reject: (err: Error) => void }[]} */ #openWaiters = [];
  /** @type {string[] | undefined} */ #watching;
  /** @type {Promise<void> | undefined} */ #syncing;
  #newCid = cidSource();
  #connection;
  #queue;
  #queries;
  #rooms;
  #catchUp;
  #inbox;

  /** @param {ChatClientOptions} options */
  constructor(options) {
    super();
    const o = resolveOptions(options);
    this.#me = o.user;
    this.#connection = new Connection({
      ...o, onWelcome: (f) => this.#onWelcome(f), onFrame: (f) => this.#inbox.frame(f), onState: (c) => this.#onState(c), onLost: () => this.#onLost(),
    });
    const write = (/** @type {object} */ frame) => this.#connection.write(frame);
    this.#queue = new SendQueue({ max: o.maxQueue, baseMs: o.backoffBaseMs, capMs: o.backoffCapMs, write });
    this.#queries = new QueryPipe({ maxInFlight: 16, timeoutMs: o.queryTimeoutMs, write, onTimeout: () => this.#connection.drop('no answer to a query') });
    this.#rooms = new RoomRequests({ timeoutMs: o.queryTimeoutMs, write });
    this.#catchUp = new CatchUp(o.dedupeWindow);
    const emit = /** @type {import('./inbox.js').Emit} */ ((type, detail) => this.emit(type, detail));
    this.#inbox = new Inbox({ queue: this.#queue, queries: this.#queries, rooms: this.#rooms, catchUp: this.#catchUp, me: () => this.#me, emit });
  }

  /** @returns {ConnectionState} */ get state() { return this.#connection.state; }
  /** The node of the open connection. */
  get node() { return this.state === 'open' ? this.#node : undefined; }
  /** The user: as given, or (with a token) as the first `welcome` said. */
  get user() { return this.#me; }
  /** Sends waiting for their ack. */
  get queued() { return this.#queue.size; }

  /**
   * Start connecting (again, after a 4401); resolves at the next `welcome`, rejects when the
   * credentials are refused or the client is closed first.
   * @returns {Promise<void>}
   */
  connect() {
    if (this.#closed) return Promise.reject(new ChatError('closed', 'the client was closed'));
    if (this.state === 'open') return Promise.resolve();
    const opened = new Promise((resolve, reject) => this.#openWaiters.push({ resolve: () => resolve(undefined), reject }));
    if (this.state === 'closed') this.reconnect();
    return /** @type {Promise<void>} */ (opened);
  }

  /** Leave the current connection (or the wait for the next attempt) and connect again now. */
  reconnect() {
    if (this.#closed) throw new ChatError('closed', 'the client was closed');
    this.#connection.restart();
  }

  /**
   * Send a message. Resolves with its ack; rejects at once for bad input or a full queue, and
   * later for a refusal that retrying cannot fix (`bad_request`, `too_large`, `unauthorized`).
   * Until acknowledged it is resent with the same cid after reconnects and retriable refusals.
   * @param {string} to
   * @param {string} body
   * @param {{ cid?: string }} [options] a cid of the caller's (e.g. one kept across a reload); default: a new one
   * @returns {Promise<Ack>}
   */
  send(to, body, options = {}) {
    return this.#send(() => checkUser(to, 'to'), { to }, to, body, options);
  }

  /**
   * Send a message to a room the user is a member of: as `send` (resolves with the ack, resent with
   * the same cid until acknowledged); refused for good with `forbidden` for a non-member.
   * @param {string} room
   * @param {string} body
   * @param {{ cid?: string }} [options]
   * @returns {Promise<Ack>}
   */
  sendToRoom(room, body, options = {}) {
    return this.#send(() => checkRoom(room, 'room'), { room }, `#${room}`, body, options);
  }

  /**
   * A page of the conversation with `withUser` (the newest without a cursor). Waits for a connection.
   * @param {string} withUser
   * @param {{ before?: number, after?: number, limit?: number }} [page]
   * @returns {Promise<HistoryReply>}
   */
  history(withUser, page = {}) {
    return this.#history({ with: withUser }, withUser, page);
  }

  /**
   * A page of a room's messages, as `history`; rejects with `forbidden` for a non-member.
   * @param {string} room
   * @param {{ before?: number, after?: number, limit?: number }} [page]
   * @returns {Promise<HistoryReply>}
   */
  roomHistory(room, page = {}) {
    return this.#history({ room }, `#${room}`, page);
  }

  /**
   * The user's conversations, newest first. Waits for a connection.
   * @param {number} [limit]
   * @returns {Promise<ConversationItem[]>}
   */
  conversations(limit) {
    try {
      if (limit !== undefined) checkLimit(limit, 'limit');
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#queries.ask(limit === undefined ? { type: 'conversations' } : { type: 'conversations', limit })
      .then((/** @type {{ items: ConversationItem[] }} */ reply) => reply.items);
  }

  /**
   * Catch every known conversation up now (after a reconnect this happens by itself). It reads
   * above each conversation's mark: a message whose forward failed while a later one came by
   * another path lies below it, and only the application's own `history` pages show it.
   * @returns {Promise<void>}
   */
  catchUp() {
    if (this.state !== 'open') return Promise.reject(new ChatError('disconnected', 'not connected'));
    return this.#syncing ?? this.#sync(false);
  }

  /**
   * Presence of `users` (`presence` events). Needs a node that serves presence. The list is sent
   * again after every reconnect. False when not connected (it goes at the next `welcome`).
   * @param {string[]} users
   */
  watch(users) {
    if (!Array.isArray(users)) throw new ChatError('bad_request', 'users must be an array of user ids');
    users.forEach((u) => checkUser(u, 'users[]'));
    this.#watching = [...users];
    return this.#connection.write({ type: 'watch', users: this.#watching });
  }

  /** Tell `to` this user is typing. Needs a node that serves typing; fire and forget. @param {string} to */
  typing(to) {
    checkUser(to, 'to');
    return this.#connection.write({ type: 'typing', to });
  }

  /**
   * Tell `withUser` that messages up to `seq` were read. Needs a node that serves read receipts;
   * fire and forget.
   * @param {string} withUser
   * @param {number} seq
   */
  markRead(withUser, seq) {
    checkUser(withUser, 'withUser');
    checkSeq(seq, 'seq');
    return this.#connection.write({ type: 'read', with: withUser, seq });
  }

  /** Mark a room's messages up to `seq` as read (the user's other connections hear of it). @param {string} room @param {number} seq */
  markRoomRead(room, seq) {
    checkRoom(room, 'room');
    checkSeq(seq, 'seq');
    return this.#connection.write({ type: 'read', room, seq });
  }

  /**
   * Create a room the user owns, with `members` (at most 1,000; add more with `addToRoom`).
   * Resolves with its `room` frame. Not written again after a lost connection (it would make a
   * second room): it rejects with `disconnected`.
   * @param {{ title: string, members?: string[], public?: boolean }} room
   * @returns {Promise<RoomEvent>}
   */
  createRoom(room) {
    return this.#roomRequest(() => roomCreateFrame(room));
  }

  /** Add members (the owner only; at most 1,000 a call). Resolves with the room. @param {string} room @param {string[]} users @returns {Promise<RoomEvent>} */
  addToRoom(room, users) {
    return this.#roomRequest(() => roomRequestFrame('room_add', room, users));
  }

  /** Remove members (the owner only; at most 1,000 a call). Resolves with the room. @param {string} room @param {string[]} users @returns {Promise<RoomEvent>} */
  removeFromRoom(room, users) {
    return this.#roomRequest(() => roomRequestFrame('room_remove', room, users));
  }

  /** Join a public room. Resolves with the room. @param {string} room @returns {Promise<RoomEvent>} */
  joinRoom(room) {
    return this.#roomRequest(() => roomRequestFrame('room_join', room));
  }

  /** Leave a room. Resolves with the room, without the user. @param {string} room @returns {Promise<RoomEvent>} */
  leaveRoom(room) {
    return this.#roomRequest(() => roomRequestFrame('room_leave', room));
  }

  /** A room as it is now (members only). @param {string} room @returns {Promise<RoomEvent>} */
  roomInfo(room) {
    return this.#roomRequest(() => roomRequestFrame('room_info', room));
  }

  /** Close for good: pending sends and queries reject with `closed`. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    const err = new ChatError('closed', 'the client was closed');
    this.#queue.failAll(err);
    this.#queries.failAll(err);
    this.#rooms.failAll(err);
    for (const w of this.#openWaiters.splice(0)) w.reject(err);
    this.#connection.close();
  }

  /**
   * @param {() => void} check throws for a bad target
   * @param {SendTarget} target
   * @param {string} key the conversation's key for catching up (the user, or `#room`)
   * @param {string} body
   * @param {{ cid?: string }} options
   * @returns {Promise<Ack>}
   */
  #send(check, target, key, body, options) {
    try {
      check();
      checkBody(body);
      if (options.cid !== undefined) checkCid(options.cid);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#closed) return Promise.reject(new ChatError('closed', 'the client was closed'));
    this.#catchUp.know(key);
    return this.#queue.add(target, body, options.cid ?? this.#newCid());
  }

  /**
   * @param {{ with: string } | { room: string }} about
   * @param {string} key
   * @param {{ before?: number, after?: number, limit?: number }} page
   * @returns {Promise<HistoryReply>}
   */
  #history(about, key, page) {
    let frame;
    try {
      frame = historyFrame(about, page);
    } catch (err) {
      return Promise.reject(err);
    }
    this.#catchUp.know(key);
    return this.#queries.ask(frame).then((/** @type {HistoryReply} */ reply) => {
      for (const m of reply.messages) this.#inbox.receive(m, false);
      return reply;
    });
  }

  /** @param {() => import('./room-requests.js').RoomRequestFrame} build @returns {Promise<RoomEvent>} */
  #roomRequest(build) {
    if (this.#closed) return Promise.reject(new ChatError('closed', 'the client was closed'));
    try {
      return this.#rooms.ask(build(), this.#newCid());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  // ---- what the connection reports ----

  /** @param {{ user: string, node: string }} f */
  #onWelcome(f) {
    this.#me = f.user;
    this.#node = f.node;
    const first = !this.#everOpen;
    this.#everOpen = true;
    // What was pending goes first, in order, before anything a listener of `open` sends.
    this.#queue.writeAll();
    this.#rooms.open();
    if (this.#watching) this.#connection.write({ type: 'watch', users: this.#watching });
    this.#queries.open(this.#connection.id);
    this.#sync(first);
  }

  /** @param {StateChange} change */
  #onState(change) {
    if (change.state === 'closed' && change.code === CLOSE_UNAUTHORIZED) {
      const err = new ChatError('unauthorized', change.reason ?? 'the credentials were refused');
      this.#queries.failAll(err);
      for (const w of this.#openWaiters.splice(0)) w.reject(err);
    }
    this.emit('state', change);
    if (change.state === 'open') for (const w of this.#openWaiters.splice(0)) w.resolve();
  }

  #onLost() {
    const lost = new ChatError('disconnected', 'the connection was lost');
    this.#queries.lost(lost);
    this.#rooms.lost(lost);
    this.#syncing = undefined;
  }

  /** @param {boolean} first */
  #sync(first) {
    const conn = this.#connection.id;
    const node = /** @type {string} */ (this.#node);
    const ask = (/** @type {any} */ frame) => this.#queries.ask(frame, conn);
    const run = this.#catchUp.sync(ask, first, (m) => this.#inbox.receive(m, true));
    this.#syncing = run;
    run.then(
      () => { if (conn === this.#connection.id) this.emit('synced', { node }); },
      (err) => {
        // A lost connection catches up after its reconnect; anything else is reported.
        if (conn === this.#connection.id && err.code !== 'disconnected') this.emit('error', { code: err.code ?? 'unavailable', message: `catch-up failed: ${err.message}` });
      },
    ).finally(() => { if (this.#syncing === run) this.#syncing = undefined; });
    return run;
  }
}
