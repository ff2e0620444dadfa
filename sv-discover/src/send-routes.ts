/**
 * The record of sends (Kafka mode; shared/src/send-ledger.ts), served two ways with one handler:
 * a request stream, one WebSocket per node (what nodes use: a claim is on the path of every ack,
 * and an HTTP request per batch cost sv-discover more than the work it carried), and
 * `POST /internal/v1/sends`. Each request settles, then claims, so a node's settlements ride on
 * its next claims. Validated like every internal body: bad input is refused and changes nothing.
 */
import type { FastifyInstance } from 'fastify';
import { ROUTES, sendsFrameSchema, sendsRequestSchema, type SendsReply, type SendsRequest } from '@chat/shared/internal-api';
import { closeInternalWebSockets } from '@chat/shared/internal-websocket';
import type { Logger } from '@chat/shared/logger';
import { serveRequestStream } from '@chat/shared/request-stream';
import type { SendLedger } from '@chat/shared/send-ledger';
import { parseBody } from './routes.ts';

export interface SendRoutesOptions {
  /** The cluster secret the stream's upgrade must prove. */
  secret: string;
  logger: Logger;
  /** Largest frame, as the HTTP body limit. */
  maxPayload: number;
  /** Claims answered. */
  claims: { inc(n: number): void };
  /** Claims answered with a record already held: a cid repeated within the TTL. */
  repeats: { inc(n: number): void };
}

export function registerSendRoutes(app: FastifyInstance, ledger: SendLedger, opts: SendRoutesOptions): void {
  const exchange = async (body: SendsRequest): Promise<SendsReply> => {
    // Both start now, settlements first: on Redis they go down one connection in this order, so
    // a claim in the same request already sees them, in one round trip.
    const [, records] = await Promise.all([ledger.settle(body.settle), ledger.claim(body.claim)]);
    opts.claims.inc(records.length);
    opts.repeats.inc(records.filter((r) => r !== null).length);
    return { records };
  };

  let closing = false;
  const streams = serveRequestStream(app.server, {
    path: ROUTES.discoverSendsStream, secret: opts.secret, logger: opts.logger.child({ module: 'sends-stream' }),
    maxPayload: opts.maxPayload, closing: () => closing, schema: sendsFrameSchema, handle: exchange,
  });
  // preClose: the HTTP server's close waits for every socket, upgraded ones included.
  app.addHook('preClose', async () => {
    closing = true;
    await closeInternalWebSockets(streams, 'sv-discover is shutting down');
  });

  app.post(ROUTES.discoverSends, async (req, reply) => {
    const body = parseBody(sendsRequestSchema, req.body, reply);
    if (!body) return reply;
    return exchange(body);
  });
}
