/**
 * The room requests of a client (`room_create`, `room_add`, `room_remove`, `room_join`,
 * `room_leave`, `room_info`). Each goes with a cid of its own, and its answer is the `room` frame
 * carrying that cid, or an `error` carrying it. A request waits for a connection to be written on;
 * one written on a connection that is then lost rejects with `disconnected` and is not written
 * again: a `room_create` written twice would make two rooms, and the caller knows best whether to
 * ask again. One not answered within the timeout rejects with `timeout`.
 */
import { ChatError, checkRoom, checkRoomUsers, checkTitle } from './wire.js';

/** @typedef {import('../src/protocol.ts').RoomFrame} RoomFrame */
/**
 * @typedef {{ type: 'room_create', title: string, members: string[], public: boolean }
 *   | { type: 'room_add' | 'room_remove', room: string, users: string[] }
 *   | { type: 'room_join' | 'room_leave' | 'room_info', room: string }} RoomRequestFrame
 */

/**
 * @typedef {object} PendingRequest
 * @property {RoomRequestFrame & { cid: string }} frame
 * @property {boolean} written
 * @property {ReturnType<typeof setTimeout> | undefined} timer
 * @property {(room: RoomFrame) => void} resolve
 * @property {(err: Error) => void} reject
 */

/**
 * The frame of a `room_create`, checked as a node checks it.
 * @param {{ title: string, members?: string[], public?: boolean }} room
 * @returns {RoomRequestFrame}
 */
export function roomCreateFrame(room) {
  const { title, members = [], public: isPublic = false } = room ?? {};
  checkTitle(title);
  checkRoomUsers(members, 'members', 0);
  if (typeof isPublic !== 'boolean') throw new ChatError('bad_request', 'public must be a boolean');
  return { type: 'room_create', title, members: [...members], public: isPublic };
}

/**
 * The frame of a request about one room (`users` for `room_add` and `room_remove`), checked.
 * @param {'room_add' | 'room_remove' | 'room_join' | 'room_leave' | 'room_info'} type
 * @param {string} room
 * @param {string[]} [users]
 * @returns {RoomRequestFrame}
 */
export function roomRequestFrame(type, room, users) {
  checkRoom(room, 'room');
  if (type !== 'room_add' && type !== 'room_remove') return { type, room };
  checkRoomUsers(users, 'users', 1);
  return { type, room, users: [...users] };
}

export class RoomRequests {
  /** @type {Map<string, PendingRequest>} cid → request, in the order asked */
  #pending = new Map();
  #open = false;
  #o;

  /** @param {{ timeoutMs: number, write: (frame: object) => boolean }} o */
  constructor(o) {
    this.#o = o;
  }

  /** @param {string} cid */
  has(cid) {
    return this.#pending.has(cid);
  }

  /**
   * @param {RoomRequestFrame} frame
   * @param {string} cid
   * @returns {Promise<RoomFrame>}
   */
  ask(frame, cid) {
    return new Promise((resolve, reject) => {
      /** @type {PendingRequest} */
      const item = { frame: { ...frame, cid }, written: false, timer: undefined, resolve, reject };
      this.#pending.set(cid, item);
      if (this.#open) this.#write(item);
    });
  }

  /** A connection was welcomed: write what waited for one. */
  open() {
    this.#open = true;
    for (const item of this.#pending.values()) if (!item.written) this.#write(item);
  }

  /** The connection was lost: what was written on it will not be answered. @param {Error} err */
  lost(err) {
    this.#open = false;
    for (const [cid, item] of this.#pending) if (item.written) this.#settle(cid)?.reject(err);
  }

  /** A `room` frame: the answer to a pending request when it carries its cid. @param {RoomFrame} room */
  answer(room) {
    if (room.cid === undefined) return false;
    const item = this.#settle(room.cid);
    item?.resolve(room);
    return item !== undefined;
  }

  /** An `error` naming a pending request: it rejects. @param {string} cid @param {string} code @param {string} message */
  refused(cid, code, message) {
    const item = this.#settle(cid);
    item?.reject(new ChatError(code, `${item.frame.type} ${cid} refused: ${message}`));
  }

  /** Reject every request (the client closed). @param {Error} err */
  failAll(err) {
    for (const cid of [...this.#pending.keys()]) this.#settle(cid)?.reject(err);
  }

  /** @param {PendingRequest} item */
  #write(item) {
    if (!this.#o.write(item.frame)) return;
    item.written = true;
    item.timer = setTimeout(() => {
      this.#settle(item.frame.cid)?.reject(new ChatError('timeout', `no answer to ${item.frame.type} within ${this.#o.timeoutMs} ms`));
    }, this.#o.timeoutMs);
  }

  /** Take a request out of the pending ones. @param {string} cid */
  #settle(cid) {
    const item = this.#pending.get(cid);
    if (!item) return undefined;
    this.#pending.delete(cid);
    clearTimeout(item.timer);
    return item;
  }
}
