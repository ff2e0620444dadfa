/**
 * The node's fastify app: client connections (client-endpoint.ts), the public HTTP API
 * (public-api.ts), forwards from other nodes (forward-receiver.ts), the test page, health,
 * readiness and metrics. `buildApp` takes ready dependencies and never listens.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { httpServerOptions, registerInternalAuth } from '@chat/shared/internal-auth-fastify';
import { registerReadiness, type ReadinessCheck } from '@chat/shared/readiness';
import { serveClientPage } from './client-page.ts';
import { serveClients, type ClientEndpointOptions } from './client-endpoint.ts';
import type { Delivery } from './delivery.ts';
import { MAX_FORWARD_BATCH_BYTES, receiveForwards } from './forward-receiver.ts';
import { servePublicApi } from './public-api.ts';
import type { SessionDeps } from './session-deps.ts';

export interface AppDeps extends SessionDeps, ClientEndpointOptions {
  delivery: Delivery;
  clusterSecret: string;
  /** /readyz: what the node needs to accept, store and deliver messages, one check each. */
  readiness: Record<string, ReadinessCheck>;
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    ...httpServerOptions,
    bodyLimit: MAX_FORWARD_BATCH_BYTES, // forwarded batches; client HTTP routes are all GET
  });
  const clients = serveClients(app.server, deps, deps);
  // Every /internal/* request proves the cluster secret (HMAC of itself) before its body is parsed.
  registerInternalAuth(app, { secret: deps.clusterSecret });
  const forwards = receiveForwards(app, deps);
  servePublicApi(app, deps);

  app.get('/healthz', async () => ({ ok: true, node: deps.nodeId }));
  registerReadiness(app, deps.readiness, { logger: deps.logger });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
  serveClientPage(app);

  // Shutdown: refuse new upgrades, tell every client to reconnect elsewhere (1001), then close
  // the forward streams.
  app.addHook('preClose', async () => {
    clients.close();
    await forwards.close();
  });
  return app;
}
