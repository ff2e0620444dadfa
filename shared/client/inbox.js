/**
 * Where the frames a node sends after `welcome` go: an ack settles its send, a message is passed
 * on once, an answer goes to its query, an error to the send (by cid) or query it refuses, and
 * presence, typing and read frames are passed on as they come.
 */
import { ChatError } from './wire.js';

/**
 * @typedef {import('./types.js').ChatClientEvents} ChatClientEvents
 * @typedef {import('./types.js').WireMessage} WireMessage
 * @typedef {import('./types.js').Ack} Ack
 * @typedef {<K extends keyof ChatClientEvents>(type: K, detail: ChatClientEvents[K]) => void} Emit
 */

export class Inbox {
  #o;

  /**
   * @param {{ queue: import('./send-queue.js').SendQueue, queries: import('./queries.js').QueryPipe,
   *   catchUp: import('./catch-up.js').CatchUp, me: () => string | undefined, emit: Emit }} o
   */
  constructor(o) {
    this.#o = o;
  }

  /** @param {any} f a frame, or undefined for one that is not JSON */
  frame(f) {
    switch (f?.type) {
      case 'ack': return this.#ack(f);
      case 'message': return this.receive({ id: f.id, seq: f.seq, cid: f.cid, from: f.from, to: f.to, body: f.body, ts: f.ts }, true);
      case 'history': case 'conversations': return this.#o.queries.answer(f);
      case 'error': return this.#error(f);
      case 'presence': case 'typing': case 'read': return this.#o.emit(f.type, f);
      case undefined: return this.#o.emit('error', { code: 'bad_frame', message: 'a frame from the node is not a JSON object with a type' });
      default: return; // the protocol grows with new frame types; unknown ones are ignored
    }
  }

  /**
   * A message received, live or in a history page. One of this client's own sends still waiting
   * for its ack (stored, the ack lost with a connection) counts as that ack; any other is passed
   * on once.
   * @param {WireMessage} m
   * @param {boolean} pass false for a page the application asked for (it gets the page)
   */
  receive(m, pass) {
    const me = this.#o.me();
    if (m.from === me && this.#o.queue.has(m.cid)) this.#ack({ type: 'ack', cid: m.cid, id: m.id, seq: m.seq, ts: m.ts });
    if (this.#o.catchUp.received(m, me) && pass) this.#o.emit('message', m);
  }

  /** @param {Ack} ack */
  #ack(ack) {
    if (!this.#o.queue.acked(ack)) return; // a repeat's second ack
    this.#o.catchUp.acked(ack, this.#o.me());
    this.#o.emit('ack', ack);
  }

  /** @param {{ code: string, message: string, cid?: string }} f */
  #error(f) {
    const error = { code: String(f.code), message: String(f.message) };
    if (typeof f.cid === 'string' && this.#o.queue.has(f.cid)) {
      return this.#o.emit('error', { ...error, cid: f.cid, retrying: this.#o.queue.refused(f.cid, error.code, error.message) });
    }
    // The one answer a query gets besides its reply: the client checks all a node would refuse.
    if (f.cid === undefined && f.code === 'unavailable') this.#o.queries.refuse(new ChatError(error.code, error.message));
    this.#o.emit('error', typeof f.cid === 'string' ? { ...error, cid: f.cid } : error);
  }
}
