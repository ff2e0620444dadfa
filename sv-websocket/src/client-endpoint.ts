/**
 * Client connections: the upgrade to `/ws` (its `Origin` checked against ALLOWED_ORIGINS), a
 * ClientSession for each, protocol pings that drop half-open connections, and at shutdown every
 * client told to reconnect elsewhere (1001).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CLOSE } from '@chat/shared/close-codes';
import { ROUTES } from '@chat/shared/internal-api';
import { ClientSession } from './client-session.ts';
import { UserRateLimits } from './rate-limiter.ts';
import type { SessionDeps } from './session-deps.ts';

export interface ClientEndpointOptions {
  /** Largest WebSocket frame; larger closes with 1009. */
  maxFrameBytes: number;
  /** A connection that missed the last pong by the next ping is terminated. */
  pingIntervalMs: number;
  /** Browser origins allowed to open `/ws`; empty allows any. */
  allowedOrigins: string[];
}

export interface ClientEndpoint {
  /** Stop pinging, close every client with 1001 and accept no more. */
  close(): void;
}

/** Our frames are small JSON: a message in more pieces than these is an attack on memory. */
const MAX_FRAGMENTS_PER_MESSAGE = 64;
const MAX_BUFFERED_CHUNKS_PER_MESSAGE = 4096;

export function serveClients(server: Server, deps: SessionDeps, opts: ClientEndpointOptions): ClientEndpoint {
  const sessions = new Set<ClientSession>();
  const wss = new WebSocketServer({
    noServer: true, maxPayload: opts.maxFrameBytes, perMessageDeflate: false,
    // A message split into many fragments or trickled in tiny chunks is an attack on memory
    // (ws GHSA-96hv-2xvq-fx4p and its follow-up, ws#2331), not a client. ws 8.21+.
    ...({ maxFragments: MAX_FRAGMENTS_PER_MESSAGE, maxBufferedChunks: MAX_BUFFERED_CHUNKS_PER_MESSAGE } as object),
  });
  const alive = new WeakSet<WebSocket>();
  // One send budget, and one room-creation budget, per user across the user's connections on this node.
  const sessionDeps: SessionDeps = {
    ...deps,
    userLimits: new UserRateLimits(deps.limits.userRateLimitPerSec, deps.limits.userRateLimitBurst),
    roomCreateLimits: new UserRateLimits(deps.limits.roomCreatePerMinute / 60, deps.limits.roomCreatePerMinute),
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === ROUTES.nodeDeliverStream) return; // served by the forward stream (forward-receiver.ts)
    if (path !== '/ws') return void socket.destroy();
    const origin = req.headers.origin;
    if (origin && opts.allowedOrigins.length > 0 && !opts.allowedOrigins.includes(origin)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      alive.add(ws);
      ws.on('pong', () => alive.add(ws));
      const session = new ClientSession(ws, socket, sessionDeps);
      sessions.add(session);
      ws.on('close', () => sessions.delete(session));
    });
  });

  // Protocol-level liveness (ws README): a connection that missed the last pong is half-open.
  const pinger = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) { ws.terminate(); continue; }
      alive.delete(ws);
      ws.ping();
    }
  }, opts.pingIntervalMs);
  pinger.unref();

  return {
    close() {
      clearInterval(pinger);
      for (const session of sessions) session.close(CLOSE.GOING_AWAY);
      wss.close();
    },
  };
}
