/**
 * Where the frames a node sends after `welcome` go: an ack settles its send, a message is passed
 * on once, an answer goes to its query, a `room` frame to the room request of its cid (and on), an
 * error to the send or room request (by cid) or query it refuses, and presence, typing and read
 * frames are passed on as they come.
 */
import { conversationOf } from './catch-up.js';
import { ChatError } from './wire.js';

/**
 * @typedef {import('./types.js').ChatClientEvents} ChatClientEvents
 * @typedef {import('./types.js').WireMessage} WireMessage
 * @typedef {import('./types.js').Ack} Ack
 * @typedef {import('./types.js').RoomEvent} RoomEvent
 * @typedef {<K extends keyof ChatClientEvents>(type: K, detail: ChatClientEvents[K]) => void} Emit
 */

export class Inbox {
  #o;

  /**
   * @param {{ queue: import('./send-queue.js').SendQueue, queries: import('./queries.js').QueryPipe,
   *   rooms: import('./room-requests.js').RoomRequests, catchUp: import('./catch-up.js').CatchUp,
   *   me: () => string | undefined, emit: Emit }} o
   */
  constructor(o) {
    this.#o = o;
  }

  /** @param {any} f a frame, or undefined for one that is not JSON */
  frame(f) {
    switch (f?.type) {
      case 'ack': return this.#ack(f);
      case 'message': return this.receive(messageOf(f), true);
      case 'history': case 'conversations': return this.#o.queries.answer(f);
      case 'room': return this.#room(f);
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

  /**
   * A room as it is now: the answer to a request of this client's, or a change. A room without
   * this user is no longer caught up.
   * @param {RoomEvent} room
   */
  #room(room) {
    if (!Array.isArray(room.members) || typeof room.room !== 'string') return;
    if (!room.members.includes(/** @type {string} */ (this.#o.me()))) this.#o.catchUp.forget(conversationOf(room));
    this.#o.rooms.answer(room);
    this.#o.emit('room', room);
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
    if (typeof f.cid === 'string') this.#o.rooms.refused(f.cid, error.code, error.message);
    // The answers a query gets besides its reply (the client checks all else a node would refuse):
    // `unavailable`, and `forbidden` for a room's history.
    if (f.cid === undefined && f.code === 'unavailable') this.#o.queries.refuse(new ChatError(error.code, error.message));
    if (f.cid === undefined && f.code === 'forbidden') this.#o.queries.refuse(new ChatError(error.code, error.message), (q) => q.room !== undefined);
    this.#o.emit('error', typeof f.cid === 'string' ? { ...error, cid: f.cid } : error);
  }
}

/**
 * The message of a `message` frame: a room's names its `room`, a one-to-one one its `to`.
 * @param {any} f
 * @returns {WireMessage}
 */
function messageOf(f) {
  return f.room !== undefined
    ? { id: f.id, seq: f.seq, cid: f.cid, from: f.from, room: f.room, body: f.body, ts: f.ts }
    : { id: f.id, seq: f.seq, cid: f.cid, from: f.from, to: f.to, body: f.body, ts: f.ts };
}
