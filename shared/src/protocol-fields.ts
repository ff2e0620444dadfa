/**
 * The fields of the public wire contract (docs/protocol.md) and their rules: ids, limits, the
 * history paging rules. protocol.ts builds its frames from them and re-exports them.
 */
import { z } from 'zod';

export const USER_ID = /^[A-Za-z0-9_.-]{1,64}$/;
export const MAX_CID_LENGTH = 64;
export const HISTORY_MAX_LIMIT = 200;
export const HISTORY_DEFAULT_LIMIT = 50;
/** The default of the configurable body limit, in characters. */
export const DEFAULT_MAX_BODY = 4000;
/** Most users one connection may watch (`watch`). */
export const MAX_WATCH_USERS = 500;


/** Room ids are made by the server (UUIDv7); a client only ever repeats one it was given. */
export const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_ROOM_TITLE = 200;
/** Most users one `room_create`, `room_add` or `room_remove` frame may list (a room grows past it over several frames). */
export const MAX_ROOM_USERS_PER_FRAME = 1000;
/** The default of MAX_ROOM_MEMBERS, the most members a room may have. */
export const DEFAULT_MAX_ROOM_MEMBERS = 10_000;

export const userIdSchema = z.string().regex(USER_ID, 'user ids match ^[A-Za-z0-9_.-]{1,64}$');
/** Postgres text cannot hold U+0000, so no stored string may carry one. */
export const noNul = (s: string) => !s.includes('\u0000');
export const roomIdSchema = z.string().regex(ROOM_ID, 'room ids match ^[A-Za-z0-9_-]{1,64}$');
export const cidSchema = z.string().min(1).max(MAX_CID_LENGTH).refine(noNul, 'must not contain NUL characters');
export const bodySchema = z.string().min(1, 'body must not be empty').refine(noNul, 'must not contain NUL characters');
export const seqSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
export const limitSchema = z.number().int().min(1).max(HISTORY_MAX_LIMIT);
/** The same two rules for a query-string value (the HTTP APIs): text, coerced, then checked alike. */
const seqParam = z.coerce.number().pipe(seqSchema);
export const limitParam = z.coerce.number().pipe(limitSchema);

/** The paging fields of a history request: in a `history` frame (JSON numbers), in a query string (text). */
export const historyPaging = { before: seqSchema.optional(), after: seqSchema.optional(), limit: limitSchema.optional() };
const historyPagingText = { before: seqParam.optional(), after: seqParam.optional(), limit: limitParam.optional() };

/** History's one rule across fields: a page is read one way, older than `before` or newer than `after`. */
export function oneWay<S extends z.ZodType<{ before?: number | undefined; after?: number | undefined }>>(schema: S): S {
  return schema.refine((q) => q.before === undefined || q.after === undefined, 'history takes before or after, not both');
}

/**
 * History paging in a query string, under the same rules as the `history` frame: the public HTTP
 * API and sv-persist's internal route extend it (`safeExtend`, which keeps the rule) with who asks
 * about whom.
 */
export const historyPagingParams = oneWay(z.object(historyPagingText));
