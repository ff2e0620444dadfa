/**
 * Presence for the node's connections (`watch` → `presence` frames). The node follows, in
 * discovery, the union of what its connections watch: it tells sv-discover over the change feed
 * (change-feed-client.ts) which users joined and left the union since it last told (`watch` /
 * `unwatch`, once per turn of the event loop, net), and sv-discover pushes those users' states,
 * and nobody else's. Each state received is kept and, when it differs from the one kept, encoded
 * once and written to every connection watching the user. A connection that watches a user whose
 * state is known is answered at once; otherwise it is answered when discovery's answer comes.
 *
 * When the feed (re)connects, or sv-discover says it may have missed changes (`reset`), the node
 * tells it the whole union again and gets every state afresh; only the ones that changed reach
 * clients. Memory: at most MAX_WATCH_USERS per connection, and one state per user of the union.
 */
import { FEED_MAX_USERS, type FeedRequest } from '@chat/shared/internal-api';
import { encodePresenceFrame, type WirePresence } from '@chat/shared/protocol';
import type { ConnId, UserId } from '@chat/shared/types';
import { chunked, InterestDiff } from './interest-diff.ts';
import { WatchLists } from './watch-lists.ts';

/** Writes an encoded frame to one connection. */
export type PresenceSink = (frame: string) => void;

/** The open change feed, as presence uses it. */
export interface FeedLink {
  send(frame: FeedRequest): void;
}

export class PresenceWatch {
  private readonly lists = new WatchLists<PresenceSink>();
  private readonly diff = new InterestDiff();
  /**
   * The last state discovery gave of each user it was told about. A user of the union without
   * one was asked about and not answered yet: none of their watchers has been answered either.
   */
  private readonly states = new Map<UserId, WirePresence>();
  private link: FeedLink | undefined;
  private flushScheduled = false;
  /** States received from discovery (answers and changes): a node that watches nobody gets none. */
  changesReceived = 0;

  /** Users the node's connections watch. */
  get watchedUsers(): number {
    return this.lists.size;
  }

  /** `connId` now watches exactly `users`: each one with a known state is answered at once through `sink`. */
  replace(connId: ConnId, sink: PresenceSink, users: readonly UserId[]): void {
    this.diff.apply(this.lists.replace(connId, sink, users));
    for (const user of new Set(users)) {
      const state = this.states.get(user);
      if (state) sink(encodePresenceFrame(state));
    }
    this.scheduleFlush();
  }

  /** The connection closed: the users only it watched leave the union. */
  release(connId: ConnId): void {
    const change = this.lists.release(connId);
    if (change.removed.length === 0) return;
    this.diff.apply(change);
    this.scheduleFlush();
  }

  /** The feed is open: tell discovery the whole union. */
  feedOpened(link: FeedLink): void {
    this.link = link;
    this.resubscribe();
  }

  feedClosed(): void {
    this.link = undefined;
  }

  /** Discovery may have missed changes, or is new: tell it the whole union again; it answers every state. */
  resubscribe(): void {
    if (!this.link) return;
    // After a `reset` discovery still holds the set it was told: the users who left must leave it too.
    this.unwatch(this.diff.take().unwatch);
    for (const user of this.states.keys()) if (!this.lists.has(user)) this.states.delete(user);
    for (const users of chunked([...this.lists.users()], FEED_MAX_USERS)) this.link.send({ watch: users });
  }

  /** States pushed by discovery: kept, and those that changed written to their watchers. */
  received(states: readonly WirePresence[]): void {
    this.changesReceived += states.length;
    for (const state of states) {
      const known = this.states.get(state.user);
      // A user neither watched nor about to be unwatched is none of this node's business now.
      if (!known && !this.lists.has(state.user)) continue;
      if (known && known.online === state.online && known.last_seen === state.last_seen) continue;
      this.states.set(state.user, state);
      const frame = encodePresenceFrame(state);
      for (const sink of this.lists.watchersOf(state.user)) sink(frame);
    }
  }

  /** Everything replaced in one turn (one socket read, say) goes to discovery as one diff. */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.diff.empty) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    // Without a feed the diff waits: the next feed connection sends the whole union anyway.
    if (!this.link || this.diff.empty) return;
    const { watch, unwatch } = this.diff.take();
    this.unwatch(unwatch);
    for (const users of chunked(watch, FEED_MAX_USERS)) this.link.send({ watch: users });
  }

  /** Users who left the union: discovery stops pushing them, and their states are dropped. */
  private unwatch(users: readonly UserId[]): void {
    for (const user of users) this.states.delete(user);
    for (const chunk of chunked(users, FEED_MAX_USERS)) this.link?.send({ unwatch: chunk });
  }
}
