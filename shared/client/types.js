/**
 * The types of the client library, for `tsc` and editors (JSDoc); nothing here runs. The frames
 * of the protocol are typed once, in shared/src/protocol.ts.
 */

/** @typedef {import('../src/protocol.ts').WireMessage} WireMessage */
/** @typedef {import('../src/protocol.ts').Ack} Ack */
/** @typedef {import('../src/protocol.ts').HistoryReply} HistoryReply */
/** @typedef {import('../src/protocol.ts').ConversationItem} ConversationItem */
/**
 * A room as it is now (the `room` frame): after every change, to every member and to the users the
 * change took out; `cid` on the frame that answers a request of this client's.
 * @typedef {import('../src/protocol.ts').RoomFrame} RoomEvent
 */

/**
 * What the client uses of a WebSocket: the browser's, or the `ws` package's.
 * @typedef {{ readyState: number, send(data: string): void, close(code?: number, reason?: string): void,
 *   onopen: ((ev: any) => void) | null, onmessage: ((ev: any) => void) | null,
 *   onclose: ((ev: any) => void) | null, onerror: ((ev: any) => void) | null }} WebSocketLike
 * @typedef {new (url: string) => WebSocketLike} WebSocketConstructor
 */

/**
 * @typedef {object} ChatClientOptions
 * @property {string[]} urls base URLs of the nodes (`http(s)://` or `ws(s)://`); `/ws` is added
 * @property {string} [user] the user, with dev authentication
 * @property {string} [token] a JWT, with jwt authentication (give `user` or `token`)
 * @property {WebSocketConstructor} [WebSocket] default: the global one (browsers); in Node 20 the `ws` package
 * @property {number} [start] index in `urls` of the first node to try (default: a random one)
 * @property {number} [backoffBaseMs] reconnect and retry backoff, full jitter: base (default 500)
 * @property {number} [backoffCapMs] and cap (default 30,000)
 * @property {number} [maxQueue] sends waiting for their ack at most (default 1,000); beyond, `send` rejects
 * @property {number} [pingMs] app-level ping period; a connection that misses a pong is dropped (default 25,000; 0: none)
 * @property {number} [welcomeTimeoutMs] a connection without `welcome` by then is dropped (default 10,000)
 * @property {number} [queryTimeoutMs] queries in flight without an answer by then drop the connection (default 15,000)
 * @property {number} [dedupeWindow] recent messages remembered to pass each on once (default 10,000)
 */

/**
 * `connecting`: the first attempt (after `connect()` or `reconnect()`); `open`: welcomed by
 * `node`; `reconnecting`: after a connection or an attempt ended (`code`, `reason`), attempt
 * number `attempt` goes to `url` in `delayMs`; `closed`: by `close()` (1000), or credentials
 * refused (4401), or not started yet.
 * @typedef {'connecting' | 'open' | 'reconnecting' | 'closed'} ConnectionState
 * @typedef {{ state: ConnectionState, attempt: number, url?: string, node?: string, delayMs?: number, code?: number, reason?: string }} StateChange
 */

/**
 * An `error` frame from the node (`retrying`: for a send that will be retried), or a failure of
 * the client's own (`bad_frame`, a catch-up that failed).
 * @typedef {{ code: string, message: string, cid?: string, retrying?: boolean }} ErrorEvent
 */

/**
 * Frames of nodes that serve presence, typing and read receipts, passed on as they come.
 * @typedef {{ type: 'presence', user: string, online: boolean, last_seen: number | null }} PresenceEvent
 * @typedef {{ type: 'typing', from: string }} TypingEvent
 * @typedef {{ type: 'read', by: string, with?: string, room?: string, seq: number }} ReadEvent
 */

/**
 * The events of a ChatClient and their details. `message`: a message received, live or while
 * catching up, passed on once (not this client's own sends: their `ack` says it), with `room` for
 * a room's; `room`: a room's state; `synced`: the catch-up after a `welcome` (or `catchUp()`) is done.
 * @typedef {{ message: WireMessage, ack: Ack, presence: PresenceEvent, typing: TypingEvent, read: ReadEvent,
 *   room: RoomEvent, state: StateChange, error: ErrorEvent, synced: { node: string } }} ChatClientEvents
 */

export {};
