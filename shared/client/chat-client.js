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
import { SendQueue } from './send-queue.js';
import { resolveOptions } from './options.js';
import { ChatError, CLOSE_UNAUTHORIZED, checkBody, checkCid, checkLimit, checkSeq, checkUser, cidSource, historyFrame } from './wire.js';

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
    this.#catchUp = new CatchUp(o.dedupeWindow);
    const emit = /** @type {import('./inbox.js').Emit} */ ((type, detail) => this.emit(type, detail));
    this.#inbox = new Inbox({ queue: this.#queue, queries: this.#queries, catchUp: this.#catchUp, me: () => this.#me, emit });
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
    try {
      checkUser(to, 'to');
      checkBody(body);
      if (options.cid !== undefined) checkCid(options.cid);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#closed) return Promise.reject(new ChatError('closed', 'the client was closed'));
    this.#catchUp.know(to);
    return this.#queue.add(to, body, options.cid ?? this.#newCid());
  }

  /**
   * A page of the conversation with `withUser` (the newest without a cursor). Waits for a connection.
   * @param {string} withUser
   * @param {{ before?: number, after?: number, limit?: number }} [page]
   * @returns {Promise<HistoryReply>}
   */
  history(withUser, page = {}) {
    let frame;
    try {
      frame = historyFrame(withUser, page);
    } catch (err) {
      return Promise.reject(err);
    }
    this.#catchUp.know(withUser);
    return this.#queries.ask(frame).then((/** @type {HistoryReply} */ reply) => {
      for (const m of reply.messages) this.#inbox.receive(m, false);
      return reply;
    });
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

  /** Close for good: pending sends and queries reject with `closed`. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    const err = new ChatError('closed', 'the client was closed');
    this.#queue.failAll(err);
    this.#queries.failAll(err);
    for (const w of this.#openWaiters.splice(0)) w.reject(err);
    this.#connection.close();
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
    this.#queries.lost(new ChatError('disconnected', 'the connection was lost'));
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
