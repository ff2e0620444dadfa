/**
 * The change feed: a WebSocket each node keeps open to sv-discover.
 *
 * It tells every node which users just got a new connection, so nodes can trust their lookup
 * caches for long (LOOKUP_CACHE_PUSHED_MS) yet never hide a new connection for longer than this
 * push takes. At light load a short cache missed often, and each miss was an HTTP lookup: a fifth
 * of a core at 1,000 msgs/s (docs/benchmarks.md). Only additions are pushed for the cache. A cached
 * node that a user has left answers "absent" to the forward, and a dead one fails it; either drops
 * the entry (sv-websocket's lookup-cache.ts), so removals need no push.
 *
 * It also carries presence (presence-feed.ts): each node says which users it watches and hears of
 * their transitions, and of nobody else's.
 *
 * And rooms whose members changed (`{ rooms: [{ room, version }] }`), named by the node that made
 * the change: every node gets every one, since changes are rare and a node may hold any room's
 * member list; each drops a cached list older than the version named.
 *
 * With Redis, both travel on pub/sub channels (feed-bus.ts) so that every sv-discover instance
 * tells its own subscribers; when that subscription drops, changes may be lost, so the instance
 * tells its subscribers to `reset` (drop their caches, say their watch sets again) when it is back.
 */
import type { Server } from 'node:http';
import type { Redis } from 'ioredis';
import type { WebSocket } from 'ws';
import { ROUTES, roomVersionsSchema, type ChangeFrame, type RoomVersion } from '@chat/shared/internal-api';
import { closeInternalWebSockets, serveInternalWebSocket } from '@chat/shared/internal-websocket';
import type { Logger } from '@chat/shared/logger';
import type { PresenceRegistry } from '@chat/shared/registry';
import type { UserId } from '@chat/shared/types';
import { FeedBus } from './feed-bus.ts';
import { PresenceFeed } from './presence-feed.ts';

/** A subscriber whose unsent frames pass this is cut off (it reconnects and starts afresh). */
const MAX_BUFFERED = 8 * 1024 * 1024;
/** Largest frame a node may send: a `watch` of FEED_MAX_USERS user ids fits with room to spare. */
const MAX_REQUEST_BYTES = 1024 * 1024;

export class ChangeFeed {
  private readonly subscribers = new Set<WebSocket>();
  private pending = new Set<UserId>();
  private flushScheduled = false;
  /** Rooms changed this turn: the highest version heard of each. */
  private pendingRooms = new Map<string, number>();
  private readonly bus: FeedBus;
  private readonly publish: (users: UserId[]) => void;
  private readonly publishRooms: (rooms: RoomVersion[]) => void;
  readonly presence: PresenceFeed;
  private server: { close(): Promise<void> } | undefined;
  private closing = false;

  constructor(private readonly logger: Logger) {
    this.bus = new FeedBus(logger, () => this.reset());
    this.publish = this.bus.channel<UserId[]>('changes', (users) => {
      if (Array.isArray(users)) this.deliver(users.filter((u): u is string => typeof u === 'string'));
    });
    this.publishRooms = this.bus.channel<RoomVersion[]>('rooms', (payload) => {
      // From Redis: untrusted JSON, checked like anything else that reaches the nodes.
      const rooms = roomVersionsSchema.safeParse(payload);
      if (rooms.success) this.deliverRooms(rooms.data);
      else this.logger.warn('change feed: a rooms message that does not validate was ignored');
    });
    this.presence = new PresenceFeed(this.bus, (ws, frame) => this.sendTo(ws, JSON.stringify(frame)), logger);
  }

  /** Carry changes through Redis pub/sub on `<prefix>changes`, `<prefix>presence` and `<prefix>rooms` (several sv-discover instances). */
  useRedis(redis: Redis, prefix: string): Promise<void> {
    return this.bus.useRedis(redis, prefix);
  }

  /** Serve the feed's WebSocket endpoint on `server`, presence answered from `registry`. */
  serve(server: Server, secret: string, registry: PresenceRegistry): void {
    this.presence.attach(registry);
    const wss = serveInternalWebSocket(server, {
      path: ROUTES.discoverChanges, secret, logger: this.logger, maxPayload: MAX_REQUEST_BYTES, closing: () => this.closing,
      onConnection: (ws) => {
        this.subscribers.add(ws);
        this.presence.subscribe(ws);
        ws.on('message', (data) => this.presence.receive(ws, data));
        ws.on('error', () => undefined);
        ws.on('close', () => {
          this.subscribers.delete(ws);
          this.presence.unsubscribe(ws);
        });
      },
    });
    this.server = { close: () => closeInternalWebSockets(wss, 'sv-discover is shutting down') };
  }

  /** `users` just got a connection on some node. */
  added(users: readonly UserId[]): void {
    if (users.length > 0) this.publish([...new Set(users)]);
  }

  /** The members of `rooms` changed (each now at `version`): every node is told. */
  roomsChanged(rooms: readonly RoomVersion[]): void {
    if (rooms.length > 0) this.publishRooms([...rooms]);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.server?.close();
    await this.bus.close();
  }

  /** Coalesce what arrives in one tick into one frame per subscriber. */
  private deliver(users: readonly UserId[]): void {
    for (const u of users) this.pending.add(u);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const added = [...this.pending];
      this.pending = new Set();
      this.send({ added });
    });
  }

  /** Coalesce the rooms changed in one tick into one frame per subscriber, the highest version of each. */
  private deliverRooms(rooms: readonly RoomVersion[]): void {
    if (rooms.length === 0) return;
    const first = this.pendingRooms.size === 0;
    for (const { room, version } of rooms) this.pendingRooms.set(room, Math.max(version, this.pendingRooms.get(room) ?? 0));
    if (!first) return;
    setImmediate(() => {
      const changed = [...this.pendingRooms].map(([room, version]) => ({ room, version }));
      this.pendingRooms = new Map();
      this.send({ rooms: changed });
    });
  }

  private reset(): void {
    this.send({ reset: true });
  }

  private send(frame: ChangeFrame): void {
    const text = JSON.stringify(frame);
    for (const ws of this.subscribers) this.sendTo(ws, text);
  }

  private sendTo(ws: WebSocket, text: string): void {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) return void ws.terminate();
    ws.send(text);
  }
}
