/**
 * The ingest stream (direct mode): each node keeps one WebSocket to sv-persist and sends its
 * ingest batches over it as numbered frames, several in flight (shared/src/request-stream.ts),
 * instead of one HTTP request per batch.
 *
 * Order: frames of one connection are handed to the single writer in the order they arrive,
 * synchronously, so seq follows the node's order, as it did with one request in flight. The
 * upgrade request proves the cluster secret like any internal GET; frames on a proven connection
 * are validated with the same schema as the HTTP route.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import { ingestFrameSchema, ROUTES, type IngestReply } from '@chat/shared/internal-api';
import { closeInternalWebSockets } from '@chat/shared/internal-websocket';
import type { Logger } from '@chat/shared/logger';
import { serveRequestStream } from '@chat/shared/request-stream';
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
  let closing = false;
  const wss = serveRequestStream(app.server, {
    path: ROUTES.persistIngestStream, secret: opts.secret, logger: opts.logger.child({ module: 'ingest-stream' }),
    maxPayload: opts.maxPayload, closing: () => closing, schema: ingestFrameSchema,
    handle: async ({ messages }): Promise<IngestReply> => ({ accepted: await opts.writer.write(messages) }),
  });

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
