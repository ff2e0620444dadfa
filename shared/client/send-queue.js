/**
 * The sends a client has not seen acknowledged, in the order they were made. Each one is written
 * again with its own `cid` until it is acknowledged: after every reconnect (its ack may have been
 * lost with the connection), and after an `unavailable` or `rate_limited` answer, when every such
 * refused send is written again together, in order, after a full-jitter pause that grows while
 * refusals continue. The server stores a repeated cid once, so nothing is ever doubled.
 * The queue is bounded: a client that cannot reach any node fails new sends at once instead of
 * holding an ever-growing backlog.
 */
import { ChatError, fullJitter } from './wire.js';

/** @typedef {import('../src/protocol.ts').Ack} Ack */
/** Whom a send goes to: a user, or a room. @typedef {{ to: string } | { room: string }} SendTarget */

/**
 * @typedef {object} PendingSend
 * @property {SendTarget} target
 * @property {string} body
 * @property {string} cid
 * @property {boolean} refused an `unavailable`/`rate_limited` answer came; waiting for the retry
 * @property {Promise<Ack>} promise
 * @property {(ack: Ack) => void} resolve
 * @property {(err: Error) => void} reject
 */

/** Answers that mean "not accepted, try the same cid again later". */
const RETRIABLE = new Set(['unavailable', 'rate_limited']);

export class SendQueue {
  /** @type {Map<string, PendingSend>} insertion order is send order */
  #pending = new Map();
  #refusals = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #retryTimer;
  #o;

  /**
   * @param {{ max: number, baseMs: number, capMs: number, write: (frame: { type: 'send', body: string, cid: string } & SendTarget) => boolean }} o
   *   `write` puts a frame on the open connection and says whether there was one.
   */
  constructor(o) {
    this.#o = o;
  }

  get size() {
    return this.#pending.size;
  }

  /** @param {string} cid */
  has(cid) {
    return this.#pending.has(cid);
  }

  /**
   * Queue a send and write it now when connected. A cid already queued returns that send's promise.
   * @param {SendTarget} target
   * @param {string} body
   * @param {string} cid
   * @returns {Promise<Ack>}
   */
  add(target, body, cid) {
    const queued = this.#pending.get(cid);
    if (queued) return queued.promise;
    if (this.#pending.size >= this.#o.max) {
      return Promise.reject(new ChatError('queue_full', `${this.#pending.size} sends are waiting for their ack (the limit)`));
    }
    /** @type {PendingSend} */
    const item = /** @type {any} */ ({ target, body, cid, refused: false });
    item.promise = new Promise((resolve, reject) => Object.assign(item, { resolve, reject }));
    this.#pending.set(cid, item);
    this.#write(item);
    return item.promise;
  }

  /** Write every pending send, in order: a connection was just welcomed. */
  writeAll() {
    for (const item of this.#pending.values()) this.#write(item);
  }

  /**
   * The ack of a pending send: resolve it. False for a cid not pending (a repeat's second ack).
   * @param {Ack} ack
   */
  acked(ack) {
    const item = this.#pending.get(ack.cid);
    if (!item) return false;
    this.#pending.delete(ack.cid);
    this.#refusals = 0;
    // Acks are back: a retry still waiting out a long pause from the refusals before goes soon.
    if (this.#retryTimer !== undefined) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
      this.#scheduleRetry();
    }
    item.resolve(ack);
    return true;
  }

  /**
   * An `error` answer to a pending send. A retriable one schedules the retry and returns true;
   * any other refuses the send for good (its promise rejects) and returns false.
   * @param {string} cid
   * @param {string} code
   * @param {string} message
   */
  refused(cid, code, message) {
    const item = this.#pending.get(cid);
    if (!item) return false;
    if (RETRIABLE.has(code)) {
      item.refused = true;
      this.#scheduleRetry();
      return true;
    }
    this.#pending.delete(cid);
    item.reject(new ChatError(code, `send ${cid} refused: ${message}`));
    return false;
  }

  /** Reject every pending send (the client closed). @param {Error} err */
  failAll(err) {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const items = [...this.#pending.values()];
    this.#pending.clear();
    for (const item of items) item.reject(err);
  }

  #scheduleRetry() {
    if (this.#retryTimer !== undefined) return;
    const delay = fullJitter(this.#refusals++, this.#o.baseMs, this.#o.capMs);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      for (const item of this.#pending.values()) if (item.refused) this.#write(item);
    }, delay);
  }

  /** @param {PendingSend} item */
  #write(item) {
    if (this.#o.write({ type: 'send', ...item.target, body: item.body, cid: item.cid })) item.refused = false;
  }
}
