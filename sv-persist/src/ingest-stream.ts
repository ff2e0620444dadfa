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
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import { wireCode } from '@chat/shared/errors';
import { ingestFrameSchema, ROUTES, type IngestFrameReply } from '@chat/shared/internal-api';
import { closeInternalWebSockets, parseFrame, serveInternalWebSocket } from '@chat/shared/internal-websocket';
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
  const log = opts.logger.child({ module: 'ingest-stream' });
  let closing = false;
  const wss = serveInternalWebSocket(app.server, {
    path: ROUTES.persistIngestStream, secret: opts.secret, logger: log, maxPayload: opts.maxPayload,
    closing: () => closing, onConnection: serve,
  });

  function serve(ws: WebSocket): void {
    ws.on('error', (err) => log.warn({ err }, 'ingest stream error'));
    ws.on('message', (data: RawData) => onFrame(ws, data));
  }

  function onFrame(ws: WebSocket, data: RawData): void {
    const frame = parseFrame(data);
    if (frame === undefined) return void ws.close(1007, 'frame is not JSON');
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
    await closeInternalWebSockets(wss, 'sv-persist is shutting down');
  });
}
