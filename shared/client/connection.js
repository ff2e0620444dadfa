/**
 * One WebSocket at a time to one of several nodes: `hello`, wait for `welcome`, keep it alive
 * with app-level pings, and when it ends try again after a full-jitter pause, on the next node in
 * turn (the one just left may be the one that is down). A close with 4401 (credentials refused)
 * stops it: retrying with the same credentials cannot succeed.
 */
import { CLOSE_UNAUTHORIZED, fullJitter } from './wire.js';

/** @typedef {import('./types.js').WebSocketLike} WebSocketLike */
/** @typedef {import('./types.js').WebSocketConstructor} WebSocketConstructor */
/** @typedef {import('./types.js').ConnectionState} ConnectionState */
/** @typedef {import('./types.js').StateChange} StateChange */

/**
 * @typedef {object} ConnectionOptions
 * @property {string[]} urls WebSocket endpoints
 * @property {WebSocketConstructor} WebSocket
 * @property {object} hello the `hello` frame
 * @property {number} start index of the first endpoint to try
 * @property {number} backoffBaseMs
 * @property {number} backoffCapMs
 * @property {number} pingMs 0: no pings
 * @property {number} welcomeTimeoutMs
 * @property {(welcome: { user: string, node: string }) => void} onWelcome the connection is open; `state` is `open` already
 * @property {(frame: any) => void} onFrame every frame after `welcome` but `pong`; `undefined` for one that is not JSON
 * @property {(change: StateChange) => void} onState
 * @property {() => void} onLost the open connection or an attempt ended (before `onState` says what comes next)
 */

const OPEN = 1; // WebSocket.OPEN, the same in browsers and in `ws`

export class Connection {
  #o;
  #next;
  /** @type {WebSocketLike | undefined} */ #socket;
  /** Counts sockets, so a query or catch-up can tell whether its connection is still the open one. */
  id = 0;
  /** @type {ConnectionState} */ state = 'closed';
  #failures = 0;
  #ponged = true;
  /** @type {{ welcome?: ReturnType<typeof setTimeout>, ping?: ReturnType<typeof setInterval>, retry?: ReturnType<typeof setTimeout> }} */
  #timers = {};

  /** @param {ConnectionOptions} o */
  constructor(o) {
    this.#o = o;
    this.#next = o.start;
  }

  /** Leave the current socket or the wait for the next attempt, and connect again now. */
  restart() {
    this.#detach();
    this.#failures = 0;
    this.#dial(true);
  }

  /** Put a frame on the open connection; false when there is none. @param {object} frame */
  write(frame) {
    const socket = this.#socket;
    if (this.state !== 'open' || !socket || socket.readyState !== OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  /** Give up on the socket at once (a dead TCP connection may take minutes to close). @param {string} reason */
  drop(reason) {
    if (this.#socket) this.#ended(0, reason);
  }

  /** Close for good. */
  close() {
    this.#detach();
    this.#setState('closed', { code: 1000, reason: 'closed by the client' });
  }

  /** @param {boolean} fresh */
  #dial(fresh) {
    const url = /** @type {string} */ (this.#o.urls[this.#next++ % this.#o.urls.length]);
    this.id++;
    if (fresh) this.#setState('connecting', { url });
    let socket;
    try {
      socket = new this.#o.WebSocket(url);
    } catch (err) {
      return this.#ended(0, `cannot open ${url}: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.#socket = socket;
    let welcomed = false;
    socket.onopen = () => socket.send(JSON.stringify(this.#o.hello));
    socket.onmessage = (ev) => {
      /** @type {any} */
      let f;
      try {
        f = JSON.parse(String(ev.data));
      } catch {
        return this.#o.onFrame(undefined);
      }
      if (f?.type === 'pong') this.#ponged = true;
      else if (f?.type === 'welcome' && !welcomed) this.#onWelcome((welcomed = true) && f, url);
      else this.#o.onFrame(f);
    };
    socket.onclose = (ev) => this.#ended(ev.code, ev.reason);
    socket.onerror = () => {}; // the close event follows and says what happened
    this.#timers.welcome = setTimeout(() => this.drop('no welcome'), this.#o.welcomeTimeoutMs);
  }

  /** @param {{ user: string, node: string }} f @param {string} url */
  #onWelcome(f, url) {
    clearTimeout(this.#timers.welcome);
    const attempt = this.#failures + 1;
    this.#failures = 0;
    this.#ponged = true;
    if (this.#o.pingMs > 0) this.#timers.ping = setInterval(() => this.#ping(), this.#o.pingMs);
    this.state = 'open';
    this.#o.onWelcome(f);
    this.#setState('open', { node: f.node, url, attempt });
  }

  #ping() {
    if (!this.#ponged) return this.drop('no pong');
    this.#ponged = false;
    this.write({ type: 'ping' });
  }

  /** The socket or attempt ended: try again after a pause, unless the credentials were refused. @param {number} code @param {string} reason */
  #ended(code, reason) {
    const wasOpen = this.state === 'open';
    this.#detach();
    this.#o.onLost();
    if (code === CLOSE_UNAUTHORIZED) return this.#setState('closed', { code, reason: reason || 'unauthorized' });
    if (!wasOpen) this.#failures++;
    const delayMs = fullJitter(this.#failures, this.#o.backoffBaseMs, this.#o.backoffCapMs);
    this.#setState('reconnecting', { url: this.#o.urls[this.#next % this.#o.urls.length], delayMs, code, reason });
    this.#timers.retry = setTimeout(() => this.#dial(false), delayMs);
  }

  /** Stop every timer and leave the socket, if any, without reacting to its end. */
  #detach() {
    clearTimeout(this.#timers.retry);
    clearTimeout(this.#timers.welcome);
    clearInterval(this.#timers.ping);
    const socket = this.#socket;
    this.#socket = undefined;
    if (!socket) return;
    // A no-op error listener stays: `ws` throws an error event nobody listens to.
    Object.assign(socket, { onopen: null, onmessage: null, onclose: null, onerror: () => {} });
    try {
      socket.close(1000);
    } catch { /* closing already */ }
  }

  /** @param {ConnectionState} state @param {Partial<Omit<StateChange, 'state'>>} detail */
  #setState(state, detail) {
    this.state = state;
    this.#o.onState({ state, attempt: this.#failures + 1, ...detail });
  }
}
