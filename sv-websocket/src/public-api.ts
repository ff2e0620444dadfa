/**
 * The public HTTP API (`/v1/...`): a user's history with a peer or in a room, and their conversation list,
 * authenticated like `hello` (a Bearer token, or `?user=` in dev mode). Errors answer with the
 * wire code and its HTTP status.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { clientErrorMessage, ERR_BAD_FRAME, errorAnswer } from '@chat/shared/errors';
import { describeIssues, historyPagingParams, limitParam, roomIdSchema, userIdSchema } from '@chat/shared/protocol';
import { roomAddress } from '@chat/shared/types';
import type { Authenticator } from './auth.ts';
import type { SessionHistory } from './session-deps.ts';

export interface PublicApiDeps {
  auth: Authenticator;
  history: SessionHistory;
}

/** `user` is the dev-mode credential (`userOf`), not a parameter of the page. */
const historyQuery = historyPagingParams.safeExtend({ user: z.string().optional() });

export function servePublicApi(app: FastifyInstance, deps: PublicApiDeps): void {
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

  /** A page of the user's conversation with `with` (a peer, or a room's address), paged by the query. */
  async function page(req: FastifyRequest, user: string, about: string) {
    const q = historyQuery.safeParse(req.query);
    if (!q.success) throw new ERR_BAD_FRAME(describeIssues(q.error));
    return deps.history.history({ user, with: about, before: q.data.before, after: q.data.after, limit: q.data.limit });
  }

  app.get('/v1/conversations/:peer/messages', async (req, reply) => {
    try {
      const user = await userOf(req);
      const peer = userIdSchema.safeParse((req.params as { peer: string }).peer);
      if (!peer.success) throw new ERR_BAD_FRAME('peer is not a valid user id');
      return await page(req, user, peer.data);
    } catch (err) {
      return sendError(reply, err);
    }
  });

  // A room's history, for its members only (sv-persist answers a non-member `forbidden`, 403).
  app.get('/v1/rooms/:room/messages', async (req, reply) => {
    try {
      const user = await userOf(req);
      const room = roomIdSchema.safeParse((req.params as { room: string }).room);
      if (!room.success) throw new ERR_BAD_FRAME('room is not a valid room id');
      return await page(req, user, roomAddress(room.data));
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
}
