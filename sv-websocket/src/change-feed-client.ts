/**
 * Subscribes to sv-discover's change feed (sv-discover/src/change-feed.ts). It keeps the lookup
 * cache in step, when the node lets the feed extend its answers: long-lived answers while
 * connected, every pushed user dropped at once, and back to the short lifetime the moment the feed
 * is lost. And it carries presence both ways for PresenceWatch (presence-watch.ts): the node's
 * watch set out, states in. And it keeps the room member cache right: a room whose members
 * changed is dropped at once; everything on `reset`; short-lived lists while the feed is down.
 * Reconnects every `retryMs`, trying the discovery URLs in turn.
 */
import type { RawData, WebSocket } from 'ws';
import { presenceStatesSchema, roomVersionsSchema, ROUTES, type ChangeFrame } from '@chat/shared/internal-api';
import { openInternalWebSocket, parseFrame } from '@chat/shared/internal-websocket';
import type { Logger } from '@chat/shared/logger';
import type { LookupCache } from './lookup-cache.ts';
import type { PresenceWatch } from './presence-watch.ts';
import type { RoomMembers } from './room-members.ts';

export interface ChangeFeedClientOptions {
  discoverUrls: readonly string[];
  secret: string;
  /** The cache the feed keeps in step; none when lookups do not rely on the feed (LOOKUP_CACHE_PUSHED_MS=0). */
  cache: LookupCache | undefined;
  presence: Pick<PresenceWatch, 'feedOpened' | 'feedClosed' | 'resubscribe' | 'received'>;
  /** The room member lists the feed keeps right. */
  rooms: Pick<RoomMembers, 'changed' | 'clear' | 'setPushed'>;
  logger: Logger;
  /** Wait before connecting again. @default 1000 */
  retryMs?: number;
}

export class ChangeFeedClient {
  private ws: WebSocket | undefined;
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private wasConnected = false;

  constructor(private readonly opts: ChangeFeedClientOptions) {}

  start(): void {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.ws?.close(1000, 'node shutting down');
    this.setPushed(false);
    this.opts.presence.feedClosed();
  }

  private setPushed(on: boolean): void {
    this.opts.cache?.setPushed(on);
    this.opts.rooms.setPushed(on);
  }

  private connect(): void {
    if (this.stopped) return;
    const url = this.opts.discoverUrls[this.next++ % this.opts.discoverUrls.length]!;
    const ws = openInternalWebSocket(url, ROUTES.discoverChanges, this.opts.secret, { timeoutMs: 5000, maxPayload: 16 * 1024 * 1024 });
    this.ws = ws;
    ws.on('open', () => {
      this.setPushed(true);
      if (!this.wasConnected) this.opts.logger.info({ url }, 'change feed connected: lookups cached until a push, presence followed');
      this.wasConnected = true;
      this.opts.presence.feedOpened({ send: (frame) => { if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame)); } });
    });
    ws.on('message', (data: RawData) => this.onFrame(data));
    ws.on('error', () => undefined); // 'close' follows
    ws.on('unexpected-response', (_req, res) => {
      this.opts.logger.warn({ url, status: res.statusCode }, 'change feed refused');
      ws.terminate();
    });
    ws.on('close', () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.setPushed(false);
      this.opts.presence.feedClosed();
      if (this.wasConnected && !this.stopped) this.opts.logger.warn({ url }, 'change feed lost: lookups cached briefly and presence paused until it is back');
      this.wasConnected = false;
      if (!this.stopped) {
        this.timer = setTimeout(() => this.connect(), this.opts.retryMs ?? 1000);
        this.timer.unref();
      }
    });
  }

  private onFrame(data: RawData): void {
    const frame = parseFrame(data) as ChangeFrame | undefined;
    if (typeof frame !== 'object' || frame === null) return void this.ws?.terminate();
    if ('reset' in frame) {
      this.opts.cache?.expireAll();
      this.opts.rooms.clear();
      this.opts.presence.resubscribe();
    } else if ('added' in frame && Array.isArray(frame.added)) {
      this.opts.cache?.invalidateMany(frame.added);
    } else if ('presence' in frame) {
      const states = presenceStatesSchema.safeParse(frame.presence);
      if (!states.success) return void this.ws?.terminate();
      this.opts.presence.received(states.data);
    } else if ('rooms' in frame) {
      const rooms = roomVersionsSchema.safeParse(frame.rooms);
      if (!rooms.success) return void this.ws?.terminate();
      for (const { room, version } of rooms.data) this.opts.rooms.changed(room, version);
    }
  }
}
