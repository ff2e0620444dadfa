/**
 * sv-discover's HTTP surface: build the fastify app from its dependencies, without listening
 * (fastify's `build(opts)` pattern; main.ts listens, tests use `inject()`).
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from '@chat/shared/logger';
import type { PresenceRegistry } from '@chat/shared/registry';
import type { SendLedger } from '@chat/shared/send-ledger';
import { httpServerOptions, registerInternalAuth } from '@chat/shared/internal-auth-fastify';
import { ROUTES } from '@chat/shared/internal-api';
import { errorAnswer } from '@chat/shared/errors';
import type { ChangeFeed } from './change-feed.ts';
import { createDiscoverMetrics } from './metrics.ts';
import { registerRoutes } from './routes.ts';
import { registerSendRoutes } from './send-routes.ts';
import { WarmUp } from './warm-up.ts';
import { registerReadiness } from '@chat/shared/readiness';

/** A registry that tracks presence and can tell whether its store answers (readiness). */
export interface DiscoverRegistry extends PresenceRegistry {
  ping(): Promise<void>;
}

export interface AppDeps {
  registry: DiscoverRegistry;
  /** The cluster secret every /internal/* request must prove. */
  secret: string;
  logger: Logger;
  /** Readiness waits this long for the registry. @default 2000 */
  readyTimeoutMs?: number;
  /** Pushes new connections and presence to subscribed nodes (change-feed.ts); served on this app's server. */
  feed?: ChangeFeed;
  /** The record of sends (Kafka mode), on the registry's store; `evicted` when it drops records for room. */
  sends?: SendLedger & { readonly evicted?: number };
  /**
   * When the registry starts empty (in memory), the nodes' lease: lookups say `warming` until every
   * node has renewed and re-registered (warm-up.ts). Absent: the registry keeps its entries (Redis).
   */
  startsEmptyLeaseMs?: number;
}

/** Heartbeats and lookups arrive constantly: their per-request lines belong at debug, not info. */
class QuietRequests extends LogController {
  override incomingRequest(request: Parameters<LogController['incomingRequest']>[0]): void {
    request.log.debug({ method: request.method, url: request.url }, 'incoming request');
  }

  // Failures are logged once, at their proper level, by the error handler below.
  override requestCompleted(...[, request, reply]: Parameters<LogController['requestCompleted']>): void {
    reply.log.debug({ url: request.url, statusCode: reply.statusCode, ms: reply.elapsedTime }, 'request completed');
  }
}

/** Bodies of 10,000 entries fit; anything larger is refused before parsing. */
const BODY_LIMIT = 4 * 1024 * 1024;

export function buildApp(deps: AppDeps): FastifyInstance {
  // pino 10's Logger and fastify's FastifyBaseLogger differ only in typing (msgPrefix); the instance is pino.
  const loggerInstance: FastifyBaseLogger = deps.logger;
  const app = Fastify({ ...httpServerOptions, loggerInstance, bodyLimit: BODY_LIMIT, logController: new QuietRequests() });
  // Every /internal/* request proves the cluster secret (HMAC of itself) before its body is parsed.
  registerInternalAuth(app, { secret: deps.secret });

  // The registry's store is all this service depends on: any other failure is answered as its
  // outage, so nodes retry.
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const { code, status, fault } = errorAnswer(err);
    if (fault === 'request') {
      req.log.warn({ url: req.url, statusCode: status, reason: err.message }, 'bad internal request');
      return reply.code(status).send({ error: code, message: err.message });
    }
    req.log.error({ err }, 'registry request failed');
    return reply.code(503).send({ error: 'unavailable', message: 'registry unavailable' });
  });

  const sends = deps.sends;
  const metrics = createDiscoverMetrics(sends?.evicted === undefined ? undefined : () => sends.evicted ?? 0);
  app.addHook('onResponse', async (req, reply) => {
    if (req.url !== ROUTES.discoverLookup || reply.statusCode !== 200) return;
    metrics.lookups.inc();
    metrics.lookupUsers.inc((req.body as { users?: unknown[] } | undefined)?.users?.length ?? 0);
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.get('/healthz', async () => ({ ok: true }));
  registerReadiness(app, { registry: () => deps.registry.ping() }, { logger: deps.logger, timeoutMs: deps.readyTimeoutMs ?? 2000 });

  const feed = deps.feed;
  if (feed) {
    feed.serve(app.server, deps.secret, deps.registry);
    // Before the server closes: its close waits for upgraded sockets too.
    app.addHook('preClose', () => feed.close());
  }
  registerRoutes(app, deps.registry, new WarmUp(deps.startsEmptyLeaseMs), feed);
  if (sends) {
    registerSendRoutes(app, sends, {
      secret: deps.secret, logger: deps.logger, maxPayload: BODY_LIMIT, claims: metrics.sendClaims, repeats: metrics.sendRepeats,
    });
  }
  return app;
}
