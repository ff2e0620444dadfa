import createError from '@fastify/error';
import type { WireErrorCode } from './protocol.ts';

/**
 * Every error the services throw on purpose, one table (fastify lib/errors.js style), and the one
 * mapping from a thrown value to its wire code and HTTP status (`errorAnswer`).
 */
export const ERR_BAD_FRAME = createError('CHAT_ERR_BAD_FRAME', 'Invalid frame: %s', 400);
/** An internal HTTP request its route refuses: the message is the reason alone. */
export const ERR_BAD_REQUEST = createError('CHAT_ERR_BAD_REQUEST', '%s', 400);
export const ERR_TOO_LARGE = createError('CHAT_ERR_TOO_LARGE', 'Too large: %s', 413);
export const ERR_UNAUTHORIZED = createError('CHAT_ERR_UNAUTHORIZED', 'Unauthorized: %s', 401);
/** The user may not do this to this room (not a member, not its owner, a private room), or no such room exists. */
export const ERR_FORBIDDEN = createError('CHAT_ERR_FORBIDDEN', 'Forbidden: %s', 403);
export const ERR_RATE_LIMITED = createError('CHAT_ERR_RATE_LIMITED', 'Rate limited: %s', 429);
export const ERR_QUEUE_FULL = createError('CHAT_ERR_QUEUE_FULL', 'Queue full: %s', 503);
export const ERR_LOG_UNAVAILABLE = createError('CHAT_ERR_LOG_UNAVAILABLE', 'Message log did not accept: %s', 503);
export const ERR_STORE_UNAVAILABLE = createError('CHAT_ERR_STORE_UNAVAILABLE', 'Message store unavailable: %s', 503);
export const ERR_OVERLOADED = createError('CHAT_ERR_OVERLOADED', 'Overloaded: %s', 503);
export const ERR_CONFIG = createError('CHAT_ERR_CONFIG', 'Invalid configuration:\n%s', 500);

/** The wire code of each error of the table that a client or a peer can be answered with (docs/protocol.md). */
export const WIRE: Readonly<Record<string, WireErrorCode>> = {
  CHAT_ERR_BAD_FRAME: 'bad_request',
  CHAT_ERR_BAD_REQUEST: 'bad_request',
  CHAT_ERR_TOO_LARGE: 'too_large',
  CHAT_ERR_UNAUTHORIZED: 'unauthorized',
  CHAT_ERR_FORBIDDEN: 'forbidden',
  CHAT_ERR_RATE_LIMITED: 'rate_limited',
  CHAT_ERR_QUEUE_FULL: 'unavailable',
  CHAT_ERR_LOG_UNAVAILABLE: 'unavailable',
  CHAT_ERR_STORE_UNAVAILABLE: 'unavailable',
  CHAT_ERR_OVERLOADED: 'unavailable',
};

/** The HTTP status of each wire code (docs/protocol.md, "HTTP API status codes"). */
export const HTTP_STATUS: Readonly<Record<WireErrorCode, number>> = {
  bad_request: 400, unauthorized: 401, forbidden: 403, too_large: 413, rate_limited: 429, unavailable: 503,
};

/**
 * Whose fault a failure is: the request's (its message says what to fix), a named part being
 * unavailable (worth a retry; its message may go to a peer), or ours, a failure nobody named
 * (logged as an error; never described to the caller).
 */
export type Fault = 'request' | 'unavailable' | 'internal';

export interface ErrorAnswer {
  code: WireErrorCode;
  status: number;
  fault: Fault;
}

/** The answer to each wire code, and to failures of ours: made once, so answering allocates nothing. */
const ANSWERS = Object.fromEntries(Object.entries(HTTP_STATUS).map(([code, status]) => [code, Object.freeze<ErrorAnswer>({
  code: code as WireErrorCode, status, fault: code === 'unavailable' ? 'unavailable' : 'request',
})])) as Readonly<Record<WireErrorCode, ErrorAnswer>>;
const INTERNAL: ErrorAnswer = Object.freeze({ code: 'unavailable', status: 503, fault: 'internal' });

/**
 * How any thrown value is answered:
 * - an error of the table: its wire code, and that code's status;
 * - another error whose `statusCode` is 4xx (fastify's own: a body over the limit, not JSON, of
 *   another content type): the request's fault, `too_large` for 413 and `bad_request` otherwise,
 *   with that status;
 * - anything else: `unavailable`, 503; named (`fault: 'unavailable'`) when its `statusCode` says
 *   503, ours (`internal`) otherwise.
 */
export function errorAnswer(err: unknown): ErrorAnswer {
  const e = err as { code?: unknown; statusCode?: unknown } | null | undefined;
  const code = typeof e?.code === 'string' ? WIRE[e.code] : undefined;
  if (code) return ANSWERS[code];
  const status = e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { code: status === 413 ? 'too_large' : 'bad_request', status, fault: 'request' };
  }
  return status === 503 ? ANSWERS.unavailable : INTERNAL;
}

/**
 * What a client is told of a failure, in an `error` frame or by the public HTTP API: what to fix,
 * or for any unavailability only that it may retry (the detail stays in the node's log).
 */
export function clientErrorMessage(err: unknown, code: WireErrorCode): string {
  return code === 'unavailable' ? 'service unavailable, retry later' : (err as Error).message;
}
