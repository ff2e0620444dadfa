/**
 * The ingest stream (direct mode): each node keeps one WebSocket to sv-persist and sends its
 * ingest batches over it as numbered frames, several in flight, instead of one HTTP request per
 * batch. Why: at light load every message is its own batch, and an HTTP request (headers,
 * routing, hooks, an HMAC over each body) cost more CPU than the insert; under load, one batch
 * in flight per node left the writer idle while each answer travelled back (docs/benchmarks.md).
 *
 * Order: frames of one connection are handed to the single writer in the order they arrive,
 * synchronously in the 'message' handler, so seq follows the node's order, as it did with one
 * request in flight. The upgrade request proves the cluster secret like any internal GET (HMAC of
 * method, path, time and nonce, each nonce accepted once); frames on a proven connection are
 * trusted to come from the peer, and validated with the same schema as the HTTP route.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { wireCode } from '@chat/shared/errors';
import { AUTH_HEADER, ingestFrameSchema, ROUTES, type IngestFrameReply } from '@chat/shared/internal-api';
import { createInternalAuthVerifier, verifyInternalRequest } from '@chat/shared/internal-auth';
import type { Logger } from '@chat/shared/logger';
import { describeIssues } from '@chat/shared/protocol';
import type { BatchWriter } from './batch-writer.ts';

export interface IngestStreamOptions {
  writer: BatchWriter;
  /** The cluster secret the upgrade request must prove. */
  secret: string;
  logger: Logger;
  /** Largest frame, as the HTTP route's body limit. */
  maxPayload: number;
}

/** Serve the ingest stream on `app`'s server; closing the app answers what is in flight, then closes every stream. */
export function registerIngestStream<L extends FastifyBaseLogger>(
  app: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, L>,
  opts: IngestStreamOptions,
): void {
  const verifier = createInternalAuthVerifier(opts.secret);
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload, perMessageDeflate: false });
  const log = opts.logger.child({ module: 'ingest-stream' });
  let closing = false;

  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = req.url ?? '';
    if (url !== ROUTES.persistIngestStream) return void socket.destroy();
    if (!verifyInternalRequest(verifier, req.headers[AUTH_HEADER], { method: 'GET', path: url })) {
      // The offered header is never logged.
      log.warn({ ip: req.socket.remoteAddress }, 'ingest stream refused: missing or wrong cluster secret');
      return void socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
    if (closing) return void socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    wss.handleUpgrade(req, socket, head, serve);
  });

  function serve(ws: WebSocket): void {
    ws.on('error', (err) => log.warn({ err }, 'ingest stream error'));
    ws.on('message', (data: RawData) => onFrame(ws, data));
  }

  function onFrame(ws: WebSocket, data: RawData): void {
    let frame: unknown;
    try {
      frame = JSON.parse(data.toString());
    } catch {
      return void ws.close(1007, 'frame is not JSON');
    }
    const parsed = ingestFrameSchema.safeParse(frame);
    if (!parsed.success) {
      const n = (frame as { n?: unknown } | null)?.n;
      // Without its number the sender cannot match an answer: the connection is broken.
      if (typeof n !== 'number') return void ws.close(1008, 'frame without a number');
      return answer(ws, { n, error: 'bad_request', message: describeIssues(parsed.error) });
    }
    const { n, messages } = parsed.data;
    // Queued now, synchronously: the writer sees frames in arrival order.
    opts.writer.write(messages).then(
      (accepted) => answer(ws, { n, accepted }),
      (err: unknown) => {
        const code = wireCode(err);
        const known = (err as { statusCode?: unknown }).statusCode === 503;
        if (known) log.warn({ err }, 'storage unavailable');
        else log.error({ err }, 'ingest batch failed');
        answer(ws, { n, error: code, message: known ? (err as Error).message : 'internal error' });
      },
    );
  }

  function answer(ws: WebSocket, reply: IngestFrameReply): void {
    // A node that went away gets nothing: what it sent is committed (or not) all the same, and
    // its clients retry with the same cid, which the store deduplicates.
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(reply));
  }

  // preClose, not onClose: the HTTP server's close waits for every socket, upgraded ones included.
  app.addHook('preClose', async () => {
    closing = true;
    // Answer every batch already handed to the writer, then say goodbye; a peer that does not
    // finish the close handshake soon is cut off.
    await opts.writer.close();
    await new Promise(setImmediate);
    for (const ws of wss.clients) ws.close(1001, 'sv-persist is shutting down');
    const deadline = Date.now() + 1000;
    while (wss.clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  });
}
