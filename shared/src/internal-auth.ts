/**
 * Internal requests carry the cluster secret. We send a SHA-256 digest of it rather than the secret
 * itself and compare digests with timingSafeEqual, so the comparison takes the same time whatever
 * the input (and equal-length buffers are guaranteed).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { AUTH_HEADER } from './internal-api.ts';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Headers to attach to every internal request. */
export function internalAuthHeaders(secret: string): Record<string, string> {
  return { [AUTH_HEADER]: digest(secret).toString('base64url') };
}

/** A checker for incoming internal requests: true only when the header proves the secret. */
export function createInternalAuthCheck(secret: string): (header: string | string[] | undefined) => boolean {
  const expected = digest(secret);
  return (header) => {
    if (typeof header !== 'string' || header.length > 128) return false;
    const given = Buffer.from(header, 'base64url');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
}
