/**
 * Forwards from other nodes: the forward stream (one signed WebSocket per sending node,
 * shared/src/request-stream.ts) and the HTTP route with the same request and answer. Each batch
 * is handed to delivery in arrival order, which answers the users this node does not hold.
 */
import type { FastifyInstance } from 'fastify';
import { ROUTES, deliverFrameSchema, deliverRequestSchema } from '@chat/shared/internal-api';
import { closeInternalWebSockets } from '@chat/shared/internal-websocket';
import type { Logger } from '@chat/shared/logger';
import { describeIssues } from '@chat/shared/protocol';
import { serveRequestStream } from '@chat/shared/request-stream';
import type { Delivery } from './delivery.ts';
import type { Metrics } from './metrics.ts';

/** Largest forwarded batch, on the stream and as an HTTP body. */
export const MAX_FORWARD_BATCH_BYTES = 32 * 1024 * 1024;

export interface ForwardReceiverDeps {
  clusterSecret: string;
  delivery: Pick<Delivery, 'receive'>;
  metrics: Pick<Metrics, 'forwardsReceived'>;
  logger: Logger;
}

export interface ForwardReceiver {
  /** Refuse new forward streams and close the open ones (shutdown). */
  close(): Promise<void>;
}

/** Every /internal/* request must already prove the cluster secret (registerInternalAuth). */
export function receiveForwards(app: FastifyInstance, deps: ForwardReceiverDeps): ForwardReceiver {
  let closing = false;
  const streams = serveRequestStream(app.server, {
    path: ROUTES.nodeDeliverStream, secret: deps.clusterSecret, logger: deps.logger.child({ module: 'forward-stream' }),
    maxPayload: MAX_FORWARD_BATCH_BYTES, closing: () => closing, schema: deliverFrameSchema,
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

  return {
    async close() {
      closing = true;
      // With no clients left, a forward has nowhere to go: the sending nodes fall back on history.
      await closeInternalWebSockets(streams, 'node shutting down');
    },
  };
}
