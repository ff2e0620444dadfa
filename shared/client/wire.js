/**
 * The protocol's rules the client library checks before anything goes on the wire, so bad input
 * fails at the call with a clear error instead of as an `error` frame later. They repeat the
 * rules of shared/src/protocol.ts, which a browser cannot load (it is TypeScript); a unit test
 * keeps the two equal.
 */

export const USER_ID = /^[A-Za-z0-9_.-]{1,64}$/;
export const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_ROOM_TITLE = 200;
export const MAX_ROOM_USERS_PER_FRAME = 1000;
export const MAX_CID_LENGTH = 64;
export const HISTORY_MAX_LIMIT = 200;
export const MAX_TOKEN_LENGTH = 8192;
/** The close code after a refused `hello`: new credentials are needed, retrying cannot help. */
export const CLOSE_UNAUTHORIZED = 4401;

/**
 * An error of the client library: a wire error code (`bad_request`, `too_large`, `unauthorized`,
 * `forbidden`, `unavailable`, `rate_limited`) or one of the library's own (`queue_full`, `closed`,
 * `disconnected`, `timeout`).
 */
export class ChatError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = 'ChatError';
    /** @readonly */
    this.code = code;
  }
}

/** @param {string} what @param {string} rule */
const bad = (what, rule) => new ChatError('bad_request', `${what} ${rule}`);

/** @param {unknown} value @param {string} what @returns {asserts value is string} */
export function checkUser(value, what) {
  if (typeof value !== 'string' || !USER_ID.test(value)) throw bad(what, 'must be a user id (^[A-Za-z0-9_.-]{1,64}$)');
}

/** @param {unknown} value @param {string} what @returns {asserts value is string} */
export function checkRoom(value, what) {
  if (typeof value !== 'string' || !ROOM_ID.test(value)) throw bad(what, 'must be a room id (^[A-Za-z0-9_-]{1,64}$)');
}

/** @param {unknown} value @returns {asserts value is string} */
export function checkTitle(value) {
  if (typeof value !== 'string' || value.length > MAX_ROOM_TITLE || value.includes('\u0000')) {
    throw bad('title', `must be a string of at most ${MAX_ROOM_TITLE} characters without NUL`);
  }
}

/**
 * The users of one room frame: user ids, at most MAX_ROOM_USERS_PER_FRAME (at least `min`).
 * @param {unknown} value @param {string} what @param {number} min @returns {asserts value is string[]}
 */
export function checkRoomUsers(value, what, min) {
  if (!Array.isArray(value) || value.length < min || value.length > MAX_ROOM_USERS_PER_FRAME) {
    throw bad(what, `must be an array of ${min} to ${MAX_ROOM_USERS_PER_FRAME} user ids`);
  }
  value.forEach((u) => checkUser(u, `${what}[]`));
}

/** @param {unknown} value @param {string} what @returns {asserts value is number} */
export function checkSeq(value, what) {
  if (!Number.isSafeInteger(value) || /** @type {number} */ (value) < 0) throw bad(what, 'must be an integer ≥ 0');
}

/** @param {unknown} value @param {string} what @returns {asserts value is number} */
export function checkLimit(value, what) {
  if (!Number.isInteger(value) || /** @type {number} */ (value) < 1 || /** @type {number} */ (value) > HISTORY_MAX_LIMIT) {
    throw bad(what, `must be an integer from 1 to ${HISTORY_MAX_LIMIT}`);
  }
}

/** @param {unknown} value @returns {asserts value is string} */
export function checkCid(value) {
  if (typeof value !== 'string' || value.length < 1 || value.length > MAX_CID_LENGTH || value.includes('\u0000')) {
    throw bad('cid', `must be a string of 1 to ${MAX_CID_LENGTH} characters without NUL`);
  }
}

/** @param {unknown} value @returns {asserts value is string} */
export function checkBody(value) {
  if (typeof value !== 'string' || value.length === 0 || value.includes('\u0000')) {
    throw bad('body', 'must be a non-empty string without NUL');
  }
}

/**
 * A `history` frame of a one-to-one conversation (`with`) or a room, its paging checked as a node
 * checks it.
 * @param {{ with: unknown } | { room: unknown }} about
 * @param {{ before?: number, after?: number, limit?: number }} page
 */
export function historyFrame(about, page) {
  if ('room' in about) checkRoom(about.room, 'room');
  else checkUser(about.with, 'withUser');
  /** @type {{ type: 'history', with?: string, room?: string, before?: number, after?: number, limit?: number }} */
  const frame = { type: 'history', .../** @type {{ with: string } | { room: string }} */ (about) };
  if (page.before !== undefined && page.after !== undefined) throw bad('history', 'takes before or after, not both');
  if (page.before !== undefined) checkSeq((frame.before = page.before), 'before');
  if (page.after !== undefined) checkSeq((frame.after = page.after), 'after');
  if (page.limit !== undefined) checkLimit((frame.limit = page.limit), 'limit');
  return frame;
}

/**
 * The WebSocket endpoint of a node: `http(s)://` becomes `ws(s)://`, and `/ws` is added to the
 * path unless it is there already.
 * @param {string} base
 */
export function endpointOf(base) {
  let url;
  try {
    url = new URL(base);
  } catch {
    throw new TypeError(`urls: ${JSON.stringify(base)} is not a URL`);
  }
  const scheme = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' }[url.protocol];
  if (!scheme) throw new TypeError(`urls: ${base} must start with http://, https://, ws:// or wss://`);
  url.protocol = scheme;
  if (!url.pathname.endsWith('/ws')) url.pathname = url.pathname.replace(/\/$/, '') + '/ws';
  return url.toString();
}

/**
 * Full-jitter exponential backoff (AWS "Exponential Backoff and Jitter"): a uniform delay in
 * [0, min(cap, base · 2^failures)], so clients that lost the same node do not come back together.
 * @param {number} failures
 * @param {number} baseMs
 * @param {number} capMs
 */
export function fullJitter(failures, baseMs, capMs) {
  return Math.random() * Math.min(capMs, baseMs * 2 ** Math.min(failures, 30));
}

/**
 * A source of cids unique to one client: a random prefix (72 bits) and a counter, 30 characters
 * at most. `crypto.getRandomValues` exists in Node and in every browser context (unlike
 * `crypto.randomUUID`, which needs a secure one).
 * @returns {() => string}
 */
export function cidSource() {
  const bytes = new Uint8Array(9);
  globalThis.crypto.getRandomValues(bytes);
  const prefix = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  let n = 0;
  return () => `${prefix}-${(++n).toString(36)}`;
}
