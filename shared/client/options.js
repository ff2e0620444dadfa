/** The options of a ChatClient, checked and completed with their defaults. */
import { MAX_TOKEN_LENGTH, checkUser, endpointOf } from './wire.js';

/** @typedef {import('./types.js').ChatClientOptions} ChatClientOptions */
/** @typedef {import('./types.js').WebSocketConstructor} WebSocketConstructor */

export const DEFAULTS = {
  backoffBaseMs: 500,
  backoffCapMs: 30_000,
  maxQueue: 1000,
  pingMs: 25_000,
  welcomeTimeoutMs: 10_000,
  queryTimeoutMs: 15_000,
  dedupeWindow: 10_000,
};

/**
 * Throws a TypeError naming the option that is wrong.
 * @param {ChatClientOptions} options
 */
export function resolveOptions(options) {
  const o = { ...DEFAULTS, ...options };
  if (!Array.isArray(o.urls) || o.urls.length === 0) throw new TypeError('urls: give at least one node URL');
  const urls = o.urls.map(endpointOf);
  if ((o.user === undefined) === (o.token === undefined)) throw new TypeError('give either user (dev authentication) or token (jwt)');
  if (o.user !== undefined) checkUser(o.user, 'user');
  if (o.token !== undefined && (typeof o.token !== 'string' || o.token === '' || o.token.length > MAX_TOKEN_LENGTH)) {
    throw new TypeError(`token: a non-empty string of at most ${MAX_TOKEN_LENGTH} characters`);
  }
  for (const name of /** @type {(keyof typeof DEFAULTS)[]} */ (Object.keys(DEFAULTS))) {
    const min = name === 'pingMs' ? 0 : 1;
    if (!Number.isFinite(o[name]) || o[name] < min) throw new TypeError(`${name}: a number ≥ ${min}`);
  }
  if (o.start !== undefined && !Number.isInteger(o.start)) throw new TypeError('start: an index in urls');
  const WebSocket = o.WebSocket ?? /** @type {WebSocketConstructor | undefined} */ (globalThis.WebSocket);
  if (!WebSocket) throw new TypeError('no WebSocket here: pass one as options.WebSocket (in Node 20, the ws package)');
  return {
    ...o,
    urls,
    WebSocket,
    start: o.start === undefined ? Math.floor(Math.random() * urls.length) : Math.abs(o.start) % urls.length,
    hello: o.token !== undefined ? { type: 'hello', token: o.token } : { type: 'hello', user: o.user },
  };
}
