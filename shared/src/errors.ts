import createError from '@fastify/error';
import type { WireErrorCode } from './protocol.ts';

/** Every internal error, one table (fastify lib/errors.js style). `statusCode` is used by HTTP routes. */
export const ERR_BAD_FRAME = createError('CHAT_ERR_BAD_FRAME', 'Invalid frame: %s', 400);
export const ERR_TOO_LARGE = createError('CHAT_ERR_TOO_LARGE', 'Too large: %s', 413);
export const ERR_UNAUTHORIZED = createError('CHAT_ERR_UNAUTHORIZED', 'Unauthorized: %s', 401);
export const ERR_RATE_LIMITED = createError('CHAT_ERR_RATE_LIMITED', 'Rate limited: %s', 429);
export const ERR_QUEUE_FULL = createError('CHAT_ERR_QUEUE_FULL', 'Queue full: %s', 503);
export const ERR_LOG_UNAVAILABLE = createError('CHAT_ERR_LOG_UNAVAILABLE', 'Message log did not accept: %s', 503);
export const ERR_STORE_UNAVAILABLE = createError('CHAT_ERR_STORE_UNAVAILABLE', 'Message store unavailable: %s', 503);
export const ERR_OVERLOADED = createError('CHAT_ERR_OVERLOADED', 'Overloaded: %s', 503);
export const ERR_FORWARD_FAILED = createError('CHAT_ERR_FORWARD_FAILED', 'Forward to node %s failed', 502);
export const ERR_DISCOVERY_UNAVAILABLE = createError('CHAT_ERR_DISCOVERY_UNAVAILABLE', 'Discovery unavailable: %s', 503);
export const ERR_CONFIG = createError('CHAT_ERR_CONFIG', 'Invalid configuration:\n%s', 500);

/** The only mapping from internal codes to PROTOCOL.md error codes. */
export const WIRE: Readonly<Record<string, WireErrorCode>> = {
  CHAT_ERR_BAD_FRAME: 'bad_request',
  CHAT_ERR_TOO_LARGE: 'too_large',
  CHAT_ERR_UNAUTHORIZED: 'unauthorized',
  CHAT_ERR_RATE_LIMITED: 'rate_limited',
  CHAT_ERR_QUEUE_FULL: 'unavailable',
  CHAT_ERR_LOG_UNAVAILABLE: 'unavailable',
  CHAT_ERR_STORE_UNAVAILABLE: 'unavailable',
  CHAT_ERR_DISCOVERY_UNAVAILABLE: 'unavailable',
  CHAT_ERR_OVERLOADED: 'unavailable',
};

/** The wire code for any thrown value; unknown failures are reported as `unavailable`, never leaked. */
export function wireCode(err: unknown): WireErrorCode {
  const code = (err as { code?: unknown } | null)?.code;
  return (typeof code === 'string' && WIRE[code]) || 'unavailable';
}
