/**
 * sv-persist's HTTP surface, built from its dependencies without listening (fastify's
 * `build(opts)` pattern): main.ts listens, tests use `inject()`.
 */
import Fastify, { LogController, type FastifyError } from 'fastify';
import { httpServerOptions, registerInternalAuth } from '@chat/shared/internal-auth-fastify';
import {
  conversationsQuerySchema, historyQuerySchema, ingestRequestSchema, readMarksRequestSchema, roomChangeRequestSchema,
  roomCreateRequestSchema, roomGetRequestSchema, ROUTES, sentRequestSchema,
  type IngestReply, type ReadMarksReply, type RoomChangeReply, type RoomGetReply, type RoomState, type SentReply,
} from '@chat/shared/internal-api';
import type { Logger } from '@chat/shared/logger';
import { describeIssues } from '@chat/shared/protocol';
import { ERR_BAD_REQUEST, errorAnswer } from '@chat/shared/errors';
import type { z } from 'zod';
import type { BatchWriter } from './batch-writer.ts';
import { registerIngestStream } from './ingest-stream.ts';
import type { MessageStore } from './store.ts';
import type { PersistMetrics } from './metrics.ts';
import { registerReadiness } from '@chat/shared/readiness';

export interface AppDeps {
  store: MessageStore;
  writer: BatchWriter;
  /** The cluster secret every /internal/* request must prove. */
  secret: string;
  logger: Logger;
  /**
   * Serve the direct-mode ingest route. Kafka mode turns it off: seq from the Postgres sequence and
   * seq from offsets must never mix in one table (they would collide on (conv, seq)). @default true
   */
  ingest?: boolean;
  /** Kafka mode: readiness also needs the consumer in its group. */
  consumer?: { isReady(): boolean };
  metrics?: PersistMetrics;
  /** Readiness waits this long for the database. @default 2000 */
  readyTimeoutMs?: number;
}

/** Nodes send up to 1000 messages a request: 1000 × 4,000 characters × up to 4 bytes (UTF-8) = 16 MB. */
const BODY_LIMIT = 16 * 1024 * 1024;

/** Validate with a shared schema; failures become 400 with the first issue. */
function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new ERR_BAD_REQUEST(describeIssues(r.error));
  return r.data;
}

export function buildApp(deps: AppDeps) {
  const app = Fastify({
    ...httpServerOptions,
    loggerInstance: deps.logger, bodyLimit: BODY_LIMIT,
    logController: new LogController({ disableRequestLogging: true }),
  });
  // Every /internal/* request proves the cluster secret (HMAC of itself) before its body is parsed.
  registerInternalAuth(app, { secret: deps.secret });

  // A failure nobody named is a fault of this service, not an outage: 500, and not described.
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const { code, status, fault } = errorAnswer(err);
    if (fault === 'request') return reply.code(status).send({ error: code, message: err.message });
    if (fault === 'unavailable') {
      req.log.warn({ err }, 'storage unavailable');
      return reply.code(503).send({ error: code, message: err.message });
    }
    req.log.error({ err }, 'persist request failed');
    return reply.code(500).send({ error: code, message: 'internal error' });
  });

  app.get('/healthz', async () => ({ ok: true }));
  const metrics = deps.metrics;
  if (metrics) {
    app.get('/metrics', async (_req, reply) => {
      reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    });
  }
  // A persister is ready when it can store: the database answers and, in Kafka mode, it holds its
  // share of the partitions (its group membership); nodes do not depend on this in Kafka mode.
  const consumer = deps.consumer;
  registerReadiness(app, {
    database: () => deps.store.ping(),
    ...(consumer && { consumer: () => { if (!consumer.isReady()) throw new Error('not in its consumer group yet'); } }),
  }, { logger: deps.logger, timeoutMs: deps.readyTimeoutMs ?? 2000 });

  if (deps.ingest !== false) {
    app.post(ROUTES.persistIngest, async (req): Promise<IngestReply> => {
      const body = parse(ingestRequestSchema, req.body);
      // Resolves only after the batch holding these messages committed.
      return { accepted: await deps.writer.write(body.messages) };
    });
    // What nodes use: the same writes as frames on one WebSocket per node (ingest-stream.ts).
    registerIngestStream(app, { writer: deps.writer, secret: deps.secret, logger: deps.logger, maxPayload: BODY_LIMIT });
  }

  app.get(ROUTES.persistHistory, async (req) => deps.store.history(parse(historyQuerySchema, req.query)));

  // A node resolving a repeated cid whose first copy's node died before recording its seq (Kafka mode).
  app.post(ROUTES.persistSent, async (req): Promise<SentReply> => ({ found: await deps.store.findSent(parse(sentRequestSchema, req.body).keys) }));

  app.get(ROUTES.persistConversations, async (req) => ({
    items: await deps.store.conversations(parse(conversationsQuerySchema, req.query)),
  }));

  // Both modes: marks never go through the message log (Kafka or the ingest stream's writer);
  // each request is one statement, safe beside other persisters' (a mark only moves forward).
  app.post(ROUTES.persistReadMarks, async (req): Promise<ReadMarksReply> => deps.store.storeReadMarks(parse(readMarksRequestSchema, req.body).marks));

  // Rooms, in both modes: membership never goes through the message log; each change is one
  // transaction on the room's row, safe beside other persisters'. Refusals: 403 or 400.
  app.post(ROUTES.persistRoomCreate, async (req): Promise<RoomState> => deps.store.createRoom(parse(roomCreateRequestSchema, req.body)));
  app.post(ROUTES.persistRoomChange, async (req): Promise<RoomChangeReply> => deps.store.changeRoom(parse(roomChangeRequestSchema, req.body)));
  app.post(ROUTES.persistRoomGet, async (req): Promise<RoomGetReply> => ({
    rooms: await deps.store.getRooms(parse(roomGetRequestSchema, req.body).rooms),
  }));

  return app;
}
