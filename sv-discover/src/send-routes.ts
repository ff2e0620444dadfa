/**
 * The record of sends over HTTP (Kafka mode; shared/src/send-ledger.ts): one route that settles,
 * then claims, so a node's settlements ride on its next claims instead of costing requests of
 * their own. Validated like every internal body: bad input gets 400 and changes nothing.
 */
import type { FastifyInstance } from 'fastify';
import { ROUTES, sendsRequestSchema, type SendsReply } from '@chat/shared/internal-api';
import type { SendLedger } from '@chat/shared/send-ledger';
import { parseBody } from './routes.ts';

export interface SendCounters {
  /** Claims answered. */
  claims: { inc(n: number): void };
  /** Claims answered with a record already held: a cid repeated within the TTL. */
  repeats: { inc(n: number): void };
}

export function registerSendRoutes(app: FastifyInstance, ledger: SendLedger, counters: SendCounters): void {
  app.post(ROUTES.discoverSends, async (req, reply) => {
    const body = parseBody(sendsRequestSchema, req.body, reply);
    if (!body) return reply;
    // Both start now, settlements first: on Redis they go down one connection in this order, so
    // a claim in the same request already sees them, in one round trip.
    const [, records] = await Promise.all([ledger.settle(body.settle), ledger.claim(body.claim)]);
    counters.claims.inc(records.length);
    counters.repeats.inc(records.filter((r) => r !== null).length);
    const answer: SendsReply = { records };
    return answer;
  });
}
