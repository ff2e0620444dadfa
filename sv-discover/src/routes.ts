/**
 * The internal discovery endpoints (shared/src/internal-api.ts). Bodies are validated with the
 * shared zod schemas before the registry sees them, so bad input is refused with 400 and changes
 * nothing.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { z } from 'zod';
import type { Registry } from '@chat/shared/registry';
import type { ChangeFeed } from './change-feed.ts';
import type { WarmUp } from './warm-up.ts';
import {
  entriesRequestSchema, leaseRequestSchema, lookupRequestSchema, removeNodeRequestSchema, roomsChangedRequestSchema, ROUTES,
  type LeaseReply, type LookupReply,
} from '@chat/shared/internal-api';

/** Parse `body` or answer 400 listing the bad fields; undefined means the reply was sent. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, reply: FastifyReply): z.infer<S> | undefined {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message }));
  reply.log.warn({ issues }, 'invalid internal request body');
  void reply.code(400).send({ error: 'bad_request', message: 'invalid request body', issues });
  return undefined;
}

export function registerRoutes(app: FastifyInstance, registry: Registry, warmUp: WarmUp, feed?: ChangeFeed): void {
  app.post(ROUTES.discoverLease, async (req, reply) => {
    const body = parseBody(leaseRequestSchema, req.body, reply);
    if (!body) return reply;
    warmUp.noteLease(body.ttlMs);
    const known = await registry.renewLease({ nodeId: body.nodeId, url: body.url }, body.ttlMs);
    if (!known) req.log.info({ nodeId: body.nodeId, url: body.url }, 'node lease created');
    const answer: LeaseReply = { known };
    return answer;
  });

  app.post(ROUTES.discoverEntries, async (req, reply) => {
    const body = parseBody(entriesRequestSchema, req.body, reply);
    if (!body) return reply;
    await registry.updateEntries(body.nodeId, body.add, body.remove);
    // Stored first, then told: a node that looks the user up after the push finds the new entry.
    feed?.added(body.add.map((e) => e.user));
    return { ok: true };
  });

  app.post(ROUTES.discoverRemoveNode, async (req, reply) => {
    const body = parseBody(removeNodeRequestSchema, req.body, reply);
    if (!body) return reply;
    await registry.removeNode(body.nodeId);
    req.log.info({ nodeId: body.nodeId }, 'node left');
    return { ok: true };
  });

  // A node changed rooms' members (sv-persist committed it): every node hears of it on the feed.
  app.post(ROUTES.discoverRoomsChanged, async (req, reply) => {
    const body = parseBody(roomsChangedRequestSchema, req.body, reply);
    if (!body) return reply;
    feed?.roomsChanged(body.rooms);
    return { ok: true };
  });

  app.post(ROUTES.discoverLookup, async (req, reply) => {
    const body = parseBody(lookupRequestSchema, req.body, reply);
    if (!body) return reply;
    const found = await registry.lookup(body.users);
    const answer: LookupReply = { nodes: Object.fromEntries(found) };
    if (warmUp.warming) answer.warming = true;
    return answer;
  });
}
