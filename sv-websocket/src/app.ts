/**
 * The node's fastify app: the WebSocket endpoint, the public HTTP API, the test page, health,
 * metrics and the internal forward endpoints (HTTP, and the forward stream other nodes keep open).
 * `buildApp` takes ready dependencies and never listens.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { registerReadiness, type ReadinessCheck } from '@chat/shared/readiness';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { CLOSE } from '@chat/shared/close-codes';
import { clientErrorMessage, ERR_BAD_FRAME, errorAnswer } from '@chat/shared/errors';
import { httpServerOptions, registerInternalAuth } from '@chat/shared/internal-auth-fastify';
import { ROUTES, deliverFrameSchema, deliverRequestSchema } from '@chat/shared/internal-api';
import { closeInternalWebSockets } from '@chat/shared/internal-websocket';
import { serveRequestStream } from '@chat/shared/request-stream';
import { describeIssues, historyPagingParams, limitParam, userIdSchema } from '@chat/shared/protocol';
import { ClientSession } from './client-session.ts';
import type { Delivery } from './delivery.ts';
import type { HistoryClient } from './history-client.ts';
import type { SessionDeps } from './session-deps.ts';
import { serveClientPage } from './client-page.ts';
import { UserRateLimits } from './rate-limiter.ts';
import { z } from 'zod';

export interface AppDeps extends SessionDeps {
  delivery: Delivery;
  history: HistoryClient;
  clusterSecret: string;
  maxFrameBytes: number;
  pingIntervalMs: number;
  allowedOrigins: string[];
  /** Resolves when the services this node depends on answer; rejects otherwise. */
  /** /readyz: what the node needs to accept, store and deliver messages, one check each. */
  readiness: Record<string, ReadinessCheck>;
}

/** `user` is the dev-mode credential (`userOf`), not a parameter of the page. */
const historyQuery = historyPagingParams.safeExtend({ user: z.string().optional() });

export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    ...httpServerOptions,
    bodyLimit: 32 * 1024 * 1024, // forwarded batches; client HTTP routes are all GET
  });
  const sessions = new Set<ClientSession>();
  const wss = new WebSocketServer({
    noServer: true, maxPayload: deps.maxFrameBytes, perMessageDeflate: false,
    // Our frames are small JSON: a message split into many fragments or trickled in tiny chunks is
    // an attack on memory (ws GHSA-96hv-2xvq-fx4p and its follow-up, ws#2331), not a client. ws 8.21+.
    ...({ maxFragments: 64, maxBufferedChunks: 4096 } as object),
  });
  const alive = new WeakSet<WebSocket>();
  // One send budget per user across the user's connections on this node.
  const sessionDeps: SessionDeps = { ...deps, userLimits: new UserRateLimits(deps.limits.userRateLimitPerSec, deps.limits.userRateLimitBurst) };

  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === ROUTES.nodeDeliverStream) return; // served by the forward stream below
    if (path !== '/ws') return void socket.destroy();
    const origin = req.headers.origin;
    if (origin && deps.allowedOrigins.length > 0 && !deps.allowedOrigins.includes(origin)) {
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
  }, deps.pingIntervalMs);
  pinger.unref();

  // Every /internal/* request proves the cluster secret (HMAC of itself) before its body is parsed.
  registerInternalAuth(app, { secret: deps.clusterSecret });

  // Forwards from other nodes over one WebSocket each (shared/src/request-stream.ts): the same
  // request and answer as the HTTP route below, handed over in arrival order.
  let closing = false;
  const forwardStreams = serveRequestStream(app.server, {
    path: ROUTES.nodeDeliverStream, secret: deps.clusterSecret, logger: deps.logger.child({ module: 'forward-stream' }),
    maxPayload: 32 * 1024 * 1024, closing: () => closing, schema: deliverFrameSchema,
    handle: (req) => {
      deps.metrics.forwardsReceived.inc({ transport: 'stream' });
      return deps.delivery.receive(req);
    },
  });

  app.post(ROUTES.nodeDeliver, async (req, reply) => {
    const parsed = deliverRequestSchema.safeParse(req.body);
    if (!parsed.success) return reply.code(400).send({ error: 'bad_request', message: describeIssues(parsed.error) });
    deps.metrics.forwardsReceived.inc({ transport: 'http' });
    return deps.delivery.receive(parsed.data);
  });

  /** The user of a public HTTP request: Bearer token, or ?user= in dev mode. */
  async function userOf(req: FastifyRequest): Promise<string> {
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    const user = (req.query as { user?: unknown }).user;
    return deps.auth.authenticate({ token, user: typeof user === 'string' ? user : undefined });
  }

  function sendError(reply: FastifyReply, err: unknown): FastifyReply {
    const { code, status } = errorAnswer(err);
    return reply.code(status).send({ error: code, message: clientErrorMessage(err, code) });
  }

  app.get('/v1/conversations/:peer/messages', async (req, reply) => {
    try {
      const user = await userOf(req);
      const peer = userIdSchema.safeParse((req.params as { peer: string }).peer);
      if (!peer.success) throw new ERR_BAD_FRAME('peer is not a valid user id');
      const q = historyQuery.safeParse(req.query);
      if (!q.success) throw new ERR_BAD_FRAME(describeIssues(q.error));
      return await deps.history.history({ user, with: peer.data, before: q.data.before, after: q.data.after, limit: q.data.limit });
    } catch (err) {
      return sendError(reply, err);
    }
  });

  app.get('/v1/conversations', async (req, reply) => {
    try {
      const user = await userOf(req);
      const limit = limitParam.optional().safeParse((req.query as { limit?: unknown }).limit);
      if (!limit.success) throw new ERR_BAD_FRAME('limit must be 1-200');
      return { items: await deps.history.conversations(user, limit.data) };
    } catch (err) {
      return sendError(reply, err);
    }
  });

  app.get('/healthz', async () => ({ ok: true, node: deps.nodeId }));
  registerReadiness(app, deps.readiness, { logger: deps.logger });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
  serveClientPage(app);

  // Shutdown: refuse new upgrades, then tell every client to reconnect elsewhere (1001).
  app.addHook('preClose', async () => {
    closing = true;
    clearInterval(pinger);
    for (const session of sessions) session.close(CLOSE.GOING_AWAY);
    wss.close();
    // With no clients left, a forward has nowhere to go: the sending nodes fall back on history.
    await closeInternalWebSockets(forwardStreams, 'node shutting down');
  });
  return app;
}
