/**
 * What a client has received, and catching up what it missed while it was away
 * (docs/protocol.md, "Catching up after a reconnect").
 *
 * - Each message is passed on once: the ids (and the sender's cids, for a Kafka-mode repeat under a
 *   new id) of the most recent messages are remembered, a bounded window.
 * - Each conversation has a mark: the highest `seq` received in it, live or in a history page. Not
 *   the seq of the client's own acks: an ack can carry a higher seq than a peer's message that was
 *   accepted just before it and is still being forwarded, and catching up after the ack would skip
 *   that message.
 * - After a reconnect every known conversation is read with `history after` its mark, page by page
 *   while `more` is true. Marks are taken at `welcome`, before any await: a live message arriving
 *   meanwhile raises a mark past messages still missing. A catch-up cut short by another lost
 *   connection resumes where it stood, not from the raised mark.
 * - A room is a conversation like any other, keyed `#<room>`. One the user left or was taken out
 *   of is forgotten: at its `room` frame without the user, or when its history answers `forbidden`
 *   (the frame was missed while away).
 */

/** @typedef {import('../src/protocol.ts').WireMessage} WireMessage */
/** @typedef {import('../src/protocol.ts').HistoryReply} HistoryReply */
/** @typedef {import('../src/protocol.ts').ConversationsReply} ConversationsReply */
/** @typedef {(frame: { type: 'history' | 'conversations', [field: string]: unknown }) => Promise<any>} Ask */

/**
 * A conversation's key here: the other user, or `#` and the room's id ('#' never occurs in a user id).
 * @param {{ room?: string, with?: string }} c a room or a peer named by `with`
 * @param {string} [peer] the other user, when `c` names no room
 */
export function conversationOf(c, peer) {
  return c.room !== undefined ? `#${c.room}` : /** @type {string} */ (peer ?? c.with);
}

/** The fields of a frame about conversation `key`: `room` or `with`. @param {string} key */
export function conversationFields(key) {
  return key.startsWith('#') ? { room: key.slice(1) } : { with: key };
}

/** A conversation known without a mark: its catch-up is the newest page. */
const NEWEST = -1;
const PAGE = 200;

export class CatchUp {
  /** @type {Set<string>} ids and `from\ncid` keys, oldest first */
  #seen = new Set();
  /** @type {Map<string, number>} conversation (conversationOf) → highest seq received */
  #marks = new Map();
  /** @type {Map<string, number>} conversation → where an unfinished catch-up stands */
  #resume = new Map();
  /** @type {Set<string>} */
  #known = new Set();
  #seenLimit;

  /** @param {number} seenLimit how many recent messages are remembered for dedupe */
  constructor(seenLimit) {
    this.#seenLimit = seenLimit * 2;
  }

  /** A conversation the client takes part in (it sent to, or asked about, `peer`: a user, or `#room`). @param {string} peer */
  know(peer) {
    this.#known.add(peer);
  }

  /** A conversation no longer the client's (a room it left or was taken out of). @param {string} peer */
  forget(peer) {
    this.#known.delete(peer);
    this.#marks.delete(peer);
    this.#resume.delete(peer);
  }

  /**
   * Note a received message; true when it was not seen before.
   * @param {WireMessage} m
   * @param {string | undefined} me
   */
  received(m, me) {
    const peer = conversationOf(m, m.from === me ? m.to : m.from);
    this.#known.add(peer);
    if (m.seq > (this.#marks.get(peer) ?? NEWEST)) this.#marks.set(peer, m.seq);
    return this.#remember(m.id, `${m.from}\n${m.cid}`);
  }

  /** Remember a message by id and by sender and cid; true when neither was seen. @param {string} id @param {string} key */
  #remember(id, key) {
    const fresh = !this.#seen.has(id) && !this.#seen.has(key);
    this.#seen.add(id).add(key);
    for (const old of this.#seen) {
      if (this.#seen.size <= this.#seenLimit) break;
      this.#seen.delete(old);
    }
    return fresh;
  }

  /**
   * An ack of this client's: its message is never passed on (it does not raise a mark).
   * @param {{ id: string, cid: string }} ack
   * @param {string | undefined} me
   */
  acked(ack, me) {
    this.#remember(ack.id, `${me}\n${ack.cid}`);
  }

  /**
   * Right after `welcome`. The first time, only learn the conversations and start their marks at
   * their last message (what came before is history the application reads when it wants); after a
   * reconnect, catch every known conversation up, passing each message to `deliver`.
   * @param {Ask} ask
   * @param {boolean} first
   * @param {(m: WireMessage) => void} deliver
   */
  async sync(ask, first, deliver) {
    /** @type {Map<string, number>} */
    const from = new Map();
    if (!first) {
      for (const peer of this.#known) from.set(peer, this.#resume.get(peer) ?? this.#marks.get(peer) ?? NEWEST);
      for (const [peer, seq] of from) this.#resume.set(peer, seq);
    }
    /** @type {ConversationsReply} */
    const list = await ask({ type: 'conversations', limit: PAGE });
    for (const item of list.items) {
      const peer = conversationOf(item);
      const { last } = item;
      if (first && last.seq > (this.#marks.get(peer) ?? NEWEST)) this.#marks.set(peer, last.seq);
      if (!first && !this.#known.has(peer)) {
        from.set(peer, NEWEST);
        this.#resume.set(peer, NEWEST);
      }
      this.#known.add(peer);
    }
    await Promise.all([...from].map(([peer, after]) => this.#catchUp(ask, peer, after, deliver)));
  }

  /**
   * @param {Ask} ask
   * @param {string} peer
   * @param {number} after
   * @param {(m: WireMessage) => void} deliver
   */
  async #catchUp(ask, peer, after, deliver) {
    const about = conversationFields(peer);
    for (;;) {
      /** @type {HistoryReply} */
      let page;
      try {
        page = await ask(after === NEWEST ? { type: 'history', ...about, limit: PAGE } : { type: 'history', ...about, after, limit: PAGE });
      } catch (err) {
        if ('room' in about && /** @type {{ code?: string }} */ (err).code === 'forbidden') return this.forget(peer);
        throw err;
      }
      for (const m of page.messages) deliver(m);
      const last = page.messages[page.messages.length - 1];
      // Paging goes on from this page's end, not from the mark: a live message that arrived
      // meanwhile may sit above messages still missing.
      if (after === NEWEST || !page.more || !last) break;
      after = last.seq;
      this.#resume.set(peer, after);
    }
    this.#resume.delete(peer);
  }
}
