/**
 * Subscribes to sv-discover's change feed (sv-discover/src/change-feed.ts) and keeps the lookup
 * cache in step: long-lived answers while connected, every pushed user dropped at once, and back
 * to the short lifetime the moment the feed is lost. Reconnects every
 * `retryMs`, trying the discovery URLs in turn.
 */
import type { RawData, WebSocket } from 'ws';
import { ROUTES, type ChangeFrame } from '@chat/shared/internal-api';
import { openInternalWebSocket, parseFrame } from '@chat/shared/internal-websocket';
import type { Logger } from '@chat/shared/logger';
import type { LookupCache } from './lookup-cache.ts';

export interface ChangeFeedClientOptions {
  discoverUrls: readonly string[];
  secret: string;
  cache: LookupCache;
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
    this.opts.cache.setPushed(false);
  }

  private connect(): void {
    if (this.stopped) return;
    const url = this.opts.discoverUrls[this.next++ % this.opts.discoverUrls.length]!;
    const ws = openInternalWebSocket(url, ROUTES.discoverChanges, this.opts.secret, { timeoutMs: 5000, maxPayload: 16 * 1024 * 1024 });
    this.ws = ws;
    ws.on('open', () => {
      this.opts.cache.setPushed(true);
      if (!this.wasConnected) this.opts.logger.info({ url }, 'change feed connected: lookups cached until a push');
      this.wasConnected = true;
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
      this.opts.cache.setPushed(false);
      if (this.wasConnected && !this.stopped) this.opts.logger.warn({ url }, 'change feed lost: lookups cached briefly until it is back');
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
    if ('reset' in frame) this.opts.cache.expireAll();
    else if ('added' in frame && Array.isArray(frame.added)) this.opts.cache.invalidateMany(frame.added);
  }
}
