/**
 * WebSocket endpoints between services (the ingest stream, the discovery change feed): the
 * upgrade request proves the cluster secret exactly as an internal GET of its path does
 * (internal-auth.ts: HMAC of method, path, time and nonce; each nonce accepted once), so an
 * unproven or replayed upgrade gets 401 and no connection. What arrives on a proven connection
 * comes from a peer holding the secret; receivers still validate every frame.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { AUTH_HEADER } from './internal-api.ts';
import { createInternalAuthVerifier, internalAuthHeaders, verifyInternalRequest } from './internal-auth.ts';
import type { Logger } from './logger.ts';

export interface InternalWebSocketServerOptions {
  /** The endpoint's path (no query string). */
  path: string;
  secret: string;
  logger: Logger;
  /** Largest frame in bytes. */
  maxPayload: number;
  /** While true, upgrades are refused with 503 (shutting down). */
  closing: () => boolean;
  onConnection: (ws: WebSocket) => void;
}

/** The paths served on each server by serveInternalWebSocket, in the order they were added. */
const servedPaths = new WeakMap<Server, string[]>();

/** Serve `opts.path` on `server`; other upgrade paths are left to other listeners. */
export function serveInternalWebSocket(server: Server, opts: InternalWebSocketServerOptions): WebSocketServer {
  const verifier = createInternalAuthVerifier(opts.secret);
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload, perMessageDeflate: false });
  const paths = servedPaths.get(server) ?? [];
  servedPaths.set(server, paths);
  paths.push(opts.path);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (req.url !== opts.path) {
      // Not ours. When every upgrade listener is one of these endpoints (no client /ws endpoint,
      // say) and none serves this path, nobody will: the first of them ends it, or it would hang.
      const unserved = !paths.includes(req.url ?? '') && server.listenerCount('upgrade') === paths.length;
      if (unserved && paths[0] === opts.path) socket.destroy();
      return;
    }
    if (!verifyInternalRequest(verifier, req.headers[AUTH_HEADER], { method: 'GET', path: req.url })) {
      // The offered header is never logged.
      opts.logger.warn({ path: opts.path, ip: req.socket.remoteAddress }, 'internal upgrade refused: missing or wrong cluster secret');
      return void socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
    if (opts.closing()) return void socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    wss.handleUpgrade(req, socket, head, opts.onConnection);
  });
  return wss;
}

/** Close every connection of `wss` with 1001, cut off those that do not finish within `graceMs`. */
export async function closeInternalWebSockets(wss: WebSocketServer, reason: string, graceMs = 1000): Promise<void> {
  for (const ws of wss.clients) ws.close(1001, reason);
  const deadline = Date.now() + graceMs;
  while (wss.clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  for (const ws of wss.clients) ws.terminate();
  wss.close();
}

/** Open a signed connection to `path` of the service at `baseUrl` (http or https; a path prefix is kept). */
export function openInternalWebSocket(baseUrl: string, path: string, secret: string, opts: { timeoutMs: number; maxPayload: number }): WebSocket {
  const base = new URL(baseUrl);
  const fullPath = base.pathname.replace(/\/+$/, '') + path;
  return new WebSocket(`${base.protocol === 'https:' ? 'wss:' : 'ws:'}//${base.host}${fullPath}`, {
    headers: internalAuthHeaders(secret, { method: 'GET', path: fullPath }),
    perMessageDeflate: false,
    handshakeTimeout: opts.timeoutMs,
    maxPayload: opts.maxPayload,
    // An all-zero mask, which ws then skips applying: masking protects proxies from scripts in
    // browsers (RFC 6455 §10.3), and these peers are services holding the cluster secret. XORing
    // every byte of every batch was 1.6 % of a node's CPU forwarding 10k msgs/s.
    generateMask: (mask: Buffer) => void mask.fill(0),
  });
}

/** A frame's JSON value, or undefined when it is not JSON (the caller decides what that ends). */
export function parseFrame(data: RawData): unknown {
  try {
    return JSON.parse(data.toString()) as unknown;
  } catch {
    return undefined;
  }
}
