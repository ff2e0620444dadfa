/**
 * Presence on the change feed, sv-discover's side. Each subscriber (a node) says which users its
 * connections watch (`watch` / `unwatch` frames); sv-discover answers the current state of each
 * user added, and from then on pushes that user's transitions, and nobody else's: a node hears
 * only of the users it watches, never every change in the mesh. Transitions come from the
 * registry instance that made them (registry-memory.ts, registry-redis.ts), travel to every
 * sv-discover instance on the bus's `presence` channel, and each instance passes them to its own
 * interested subscribers, the latest state per user, once per turn of the event loop.
 *
 * An answer read from the registry may be older than a transition pushed while it was being read;
 * such users are left out of the answer, since the push is the newer news.
 */
import type { RawData, WebSocket } from 'ws';
import { FEED_MAX_USERS, feedRequestSchema, presenceStatesSchema, type ChangeFrame } from '@chat/shared/internal-api';
import { parseFrame } from '@chat/shared/internal-websocket';
import type { Logger } from '@chat/shared/logger';
import type { WirePresence } from '@chat/shared/protocol';
import type { PresenceRegistry, PresenceState } from '@chat/shared/registry';
import type { UserId } from '@chat/shared/types';
import type { FeedBus } from './feed-bus.ts';
import { InterestIndex } from './presence-interest.ts';

interface Subscriber {
  ws: WebSocket;
  /** Registry reads in flight for this subscriber's `watch` frames. */
  reads: number;
  /** Users pushed to it while reads were in flight: those reads' answers for them are stale. */
  pushedDuringReads: Set<UserId>;
}

export type SendFrame = (ws: WebSocket, frame: ChangeFrame) => void;

export class PresenceFeed {
  private readonly subscribers = new Map<WebSocket, Subscriber>();
  private readonly interest = new InterestIndex<Subscriber>();
  private readonly publish: (changes: WirePresence[]) => void;
  private registry: PresenceRegistry | undefined;
  /** Per subscriber, what to push at the end of this turn: the latest state of each user. */
  private outgoing = new Map<Subscriber, Map<UserId, WirePresence>>();
  private flushScheduled = false;

  constructor(bus: FeedBus, private readonly send: SendFrame, private readonly logger: Logger) {
    this.publish = bus.channel<WirePresence[]>('presence', (payload) => this.deliver(payload));
  }

  /** Distinct users the subscribers of this instance watch. */
  get watchedUsers(): number {
    return this.interest.users;
  }

  /** Answer from `registry`, and carry the transitions it makes to every instance. */
  attach(registry: PresenceRegistry): void {
    this.registry = registry;
    registry.onTransitions((changes) => this.publish(changes.map(toWire)));
  }

  subscribe(ws: WebSocket): void {
    this.subscribers.set(ws, { ws, reads: 0, pushedDuringReads: new Set() });
  }

  unsubscribe(ws: WebSocket): void {
    const sub = this.subscribers.get(ws);
    if (!sub) return;
    this.subscribers.delete(ws);
    this.interest.drop(sub);
    this.outgoing.delete(sub);
  }

  /** A frame from a subscriber. One that is not JSON closes the feed with 1007; one that is not a request, with 1008. */
  receive(ws: WebSocket, data: RawData): void {
    const sub = this.subscribers.get(ws);
    if (!sub) return;
    const json = parseFrame(data);
    if (json === undefined) return this.refuse(ws, 1007, 'a frame that is not JSON');
    const parsed = feedRequestSchema.safeParse(json);
    if (!parsed.success) return this.refuse(ws, 1008, 'not a watch or unwatch frame');
    const request = parsed.data;
    if ('watch' in request) {
      this.interest.add(sub, request.watch);
      void this.answer(sub, request.watch);
    } else {
      this.interest.remove(sub, request.unwatch);
    }
  }

  /** The current state of `users`, to the subscriber that just added them. */
  private async answer(sub: Subscriber, users: readonly UserId[]): Promise<void> {
    if (!this.registry) return;
    sub.reads++;
    try {
      const states = await this.registry.presence([...new Set(users)]);
      if (!this.subscribers.has(sub.ws)) return;
      const fresh = states.filter((s) => !sub.pushedDuringReads.has(s.user) && this.interest.watches(sub, s.user));
      if (fresh.length > 0) this.send(sub.ws, { presence: fresh.map(toWire) });
    } catch (err) {
      // The node reconnects, says its whole set again and gets every state afresh.
      this.logger.warn({ err }, 'presence read failed; the subscriber is closed to start afresh');
      sub.ws.close(1011, 'presence unavailable');
    } finally {
      if (--sub.reads === 0) sub.pushedDuringReads.clear();
    }
  }

  /** Transitions from any instance; a payload from Redis is checked before use. */
  private deliver(payload: unknown): void {
    const parsed = presenceStatesSchema.safeParse(payload);
    if (!parsed.success) return this.logger.warn('presence: a malformed message on the bus was ignored');
    for (const state of parsed.data) {
      for (const sub of this.interest.subscribersOf(state.user)) {
        if (sub.reads > 0) sub.pushedDuringReads.add(state.user);
        let queued = this.outgoing.get(sub);
        if (!queued) this.outgoing.set(sub, (queued = new Map()));
        queued.set(state.user, state);
      }
    }
    if (this.outgoing.size === 0 || this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const outgoing = this.outgoing;
    this.outgoing = new Map();
    for (const [sub, queued] of outgoing) {
      const states = [...queued.values()];
      for (let i = 0; i < states.length; i += FEED_MAX_USERS) this.send(sub.ws, { presence: states.slice(i, i + FEED_MAX_USERS) });
    }
  }

  private refuse(ws: WebSocket, code: number, why: string): void {
    this.logger.warn({ why }, 'change feed: a subscriber sent a bad frame; closing it');
    ws.close(code, why);
  }
}

function toWire(s: PresenceState): WirePresence {
  return { user: s.user, online: s.online, last_seen: s.lastSeen };
}
