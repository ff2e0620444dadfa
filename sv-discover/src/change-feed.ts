/**
 * The change feed: tells every node which users just got a new connection, so nodes can trust
 * their lookup caches for long (LOOKUP_CACHE_PUSHED_MS) yet never hide a new connection for
 * longer than this push takes. At light load a short cache missed often, and each miss was an
 * HTTP lookup: a fifth of a core at 1,000 msgs/s (docs/benchmarks.md).
 *
 * Only additions are pushed. A cached node that a user has left answers "absent" to the forward,
 * and a dead one fails it; either drops the entry (sv-websocket's lookup-cache.ts), so removals
 * need no push. With Redis, additions travel on a pub/sub channel so that every sv-discover
 * instance tells its own subscribers; when that subscription drops, changes may be lost, so the
 * instance tells its subscribers to `reset` (drop their caches) when it is back.
 */
import type { Server } from 'node:http';
import type { Redis } from 'ioredis';
import type { WebSocket } from 'ws';
import { ROUTES, type ChangeFrame } from '@chat/shared/internal-api';
import { closeInternalWebSockets, serveInternalWebSocket } from '@chat/shared/internal-websocket';
import type { Logger } from '@chat/shared/logger';
import type { UserId } from '@chat/shared/types';

/** A subscriber whose unsent frames pass this is cut off (it reconnects and starts afresh). */
const MAX_BUFFERED = 8 * 1024 * 1024;

export class ChangeFeed {
  private readonly subscribers = new Set<WebSocket>();
  private pending = new Set<UserId>();
  private flushScheduled = false;
  private publish: (users: UserId[]) => void = (users) => this.deliver(users);
  private closeBus: () => Promise<void> = async () => undefined;
  private server: { close(): Promise<void> } | undefined;
  private closing = false;

  constructor(private readonly logger: Logger) {}

  /** Carry additions through Redis pub/sub on `channel` (several sv-discover instances). */
  async useRedis(redis: Redis, channel: string): Promise<void> {
    const sub = redis.duplicate();
    sub.on('error', (err) => this.logger.warn({ err }, 'change feed subscription error'));
    let readyOnce = false;
    sub.on('ready', () => {
      // ioredis subscribes again by itself; what was published meanwhile is lost.
      if (readyOnce) this.reset();
      readyOnce = true;
    });
    sub.on('message', (_channel: string, text: string) => {
      try {
        const users = JSON.parse(text) as unknown;
        if (Array.isArray(users)) this.deliver(users.filter((u): u is string => typeof u === 'string'));
      } catch {
        this.logger.warn('change feed: a message that is not JSON was ignored');
      }
    });
    await sub.subscribe(channel);
    this.publish = (users) => {
      redis.publish(channel, JSON.stringify(users)).catch((err: unknown) => {
        this.logger.warn({ err }, 'change feed: publish failed; nodes are told to reset');
        this.reset();
      });
    };
    this.closeBus = async () => { await sub.quit().catch(() => undefined); };
  }

  /** Serve the feed's WebSocket endpoint on `server`. */
  serve(server: Server, secret: string): void {
    const wss = serveInternalWebSocket(server, {
      path: ROUTES.discoverChanges, secret, logger: this.logger, maxPayload: 64 * 1024, closing: () => this.closing,
      onConnection: (ws) => {
        this.subscribers.add(ws);
        ws.on('error', () => undefined);
        ws.on('close', () => this.subscribers.delete(ws));
      },
    });
    this.server = { close: () => closeInternalWebSockets(wss, 'sv-discover is shutting down') };
  }

  /** `users` just got a connection on some node. */
  added(users: readonly UserId[]): void {
    if (users.length > 0) this.publish([...new Set(users)]);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.server?.close();
    await this.closeBus();
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

  private reset(): void {
    this.send({ reset: true });
  }

  private send(frame: ChangeFrame): void {
    const text = JSON.stringify(frame);
    for (const ws of this.subscribers) {
      if (ws.readyState !== ws.OPEN) continue;
      if (ws.bufferedAmount > MAX_BUFFERED) { ws.terminate(); continue; }
      ws.send(text);
    }
  }
}
