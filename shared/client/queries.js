/**
 * The `history` and `conversations` queries of a client. A node answers the queries of one
 * connection in the order they were asked and sends no id with the answer, so answers are matched
 * first in, first out. At most `maxInFlight` are on the wire at once (a node refuses more than 16
 * pending); the others wait here, as do queries asked while no connection is open, until one is.
 * A query bound to a connection (the catch-up's) is dropped with that connection; an unbound one
 * in flight when its connection is lost is rejected, since its answer is lost with it.
 */
import { ChatError } from './wire.js';

/**
 * @typedef {object} Query
 * @property {{ type: 'history' | 'conversations', [field: string]: unknown }} frame
 * @property {number | undefined} conn the connection it belongs to, or undefined for any
 * @property {(reply: any) => void} resolve
 * @property {(err: Error) => void} reject
 */

export class QueryPipe {
  /** @type {Query[]} */
  #waiting = [];
  /** @type {Query[]} */
  #inFlight = [];
  /** @type {number | undefined} the open connection */
  #conn;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #timer;
  #o;

  /**
   * @param {{ maxInFlight: number, timeoutMs: number, write: (frame: object) => void, onTimeout: () => void }} o
   *   `onTimeout`: no answer for `timeoutMs` while queries are in flight; the connection is
   *   dropped, as the order that matches answers to queries can no longer be trusted.
   */
  constructor(o) {
    this.#o = o;
  }

  /**
   * @param {Query['frame']} frame
   * @param {number} [conn] only on this connection
   * @returns {Promise<any>}
   */
  ask(frame, conn) {
    if (conn !== undefined && conn !== this.#conn) return Promise.reject(new ChatError('disconnected', 'the connection was lost'));
    return new Promise((resolve, reject) => {
      this.#waiting.push({ frame, conn, resolve, reject });
      this.#pump();
    });
  }

  /** Connection `conn` was welcomed: queries may go. @param {number} conn */
  open(conn) {
    this.#conn = conn;
    this.#pump();
  }

  /** The answer to the oldest query in flight. @param {object} reply */
  answer(reply) {
    this.#inFlight.shift()?.resolve(reply);
    this.#armTimer();
    this.#pump();
  }

  /**
   * An `error` answer without a cid: it refuses the oldest query in flight; false when none is, or
   * when `about` says the error cannot be that query's.
   * @param {Error} err
   * @param {(frame: Query['frame']) => boolean} [about]
   */
  refuse(err, about = () => true) {
    const q = this.#inFlight[0];
    if (!q || !about(q.frame)) return false;
    this.#inFlight.shift();
    q.reject(err);
    this.#armTimer();
    this.#pump();
    return true;
  }

  /** The connection closed. @param {Error} err */
  lost(err) {
    this.#conn = undefined;
    clearTimeout(this.#timer);
    const lost = this.#inFlight.splice(0);
    const bound = this.#waiting.filter((q) => q.conn !== undefined);
    this.#waiting = this.#waiting.filter((q) => q.conn === undefined);
    for (const q of [...lost, ...bound]) q.reject(err);
  }

  /** Reject every query, waiting or in flight. @param {Error} err */
  failAll(err) {
    this.lost(err);
    for (const q of this.#waiting.splice(0)) q.reject(err);
  }

  #pump() {
    while (this.#conn !== undefined && this.#inFlight.length < this.#o.maxInFlight && this.#waiting.length > 0) {
      const q = /** @type {Query} */ (this.#waiting.shift());
      this.#inFlight.push(q);
      this.#o.write(q.frame);
      if (this.#inFlight.length === 1) this.#armTimer();
    }
  }

  #armTimer() {
    clearTimeout(this.#timer);
    this.#timer = this.#inFlight.length > 0 ? setTimeout(() => this.#o.onTimeout(), this.#o.timeoutMs) : undefined;
  }
}
