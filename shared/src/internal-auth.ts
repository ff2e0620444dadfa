/**
 * Internal requests prove the cluster secret with an HMAC over the request itself, so a captured
 * header is worth nothing for another request and nothing after a short window.
 *
 * Header (AUTH_HEADER, `x-cluster-auth`): `v2.<t>.<nonce>.<sig>` where
 * - `t` is the sender's clock in epoch milliseconds (decimal),
 * - `nonce` is unique per request of a sender (a random per-process prefix and a counter),
 * - `sig` is base64url(HMAC-SHA256(secret, "chat-internal-v2\n" METHOD "\n" PATH "\n" t "\n" nonce "\n" BODY)),
 *   PATH being the request target exactly as sent (path and query string), BODY the raw bytes
 *   (empty for GET).
 * The receiver refuses a `t` more than `windowMs` (30 s) away from its own clock, recomputes the
 * HMAC over the bytes it received and compares with timingSafeEqual (equal lengths guaranteed),
 * and refuses a (t, nonce) it already accepted within the window: a captured request cannot be
 * played again, not even at once (say, a discovery registration of a connection since closed).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AUTH_HEADER } from './internal-api.ts';

/** How far the sender's timestamp may be from the receiver's clock. */
export const INTERNAL_AUTH_WINDOW_MS = 30_000;
const VERSION = 'v2';
const DOMAIN = 'chat-internal-v2\n';
/** `v2.` + up to 15 digits + `.` + a nonce of 8–24 chars + `.` + 43 base64url chars; anything longer is refused unread. */
const MAX_HEADER = 96;
const HEADER_RE = /^v2\.(\d{1,15})\.([A-Za-z0-9_-]{8,24})\.([A-Za-z0-9_-]{43})$/;
/** Most (t, nonce) pairs remembered; past it the oldest go first (bounded memory under any load). */
const MAX_REMEMBERED = 500_000;

/** This process's nonces: a random prefix, then a counter. */
const NONCE_PREFIX = randomBytes(6).toString('base64url');
let nonceCounter = 0;
function nextNonce(): string {
  nonceCounter = (nonceCounter + 1) % Number.MAX_SAFE_INTEGER;
  return NONCE_PREFIX + nonceCounter.toString(36);
}

export interface SignableRequest {
  method: string;
  /** Request target: path and query string, exactly as sent. */
  path: string;
  /** Raw body (a string is signed as its UTF-8 bytes); none for GET. */
  body?: string | Buffer | undefined;
  /** The sender's clock, epoch ms. @default Date.now() */
  now?: number;
}

function mac(secret: string, method: string, path: string, t: string, nonce: string, body: string | Buffer | undefined): Buffer {
  const h = createHmac('sha256', secret).update(`${DOMAIN}${method.toUpperCase()}\n${path}\n${t}\n${nonce}\n`);
  if (body !== undefined && body.length > 0) h.update(body);
  return h.digest();
}

/** The header value proving `secret` for this one request. */
export function signInternalRequest(secret: string, req: SignableRequest): string {
  const t = String(Math.floor(req.now ?? Date.now()));
  const nonce = nextNonce();
  return `${VERSION}.${t}.${nonce}.${mac(secret, req.method, req.path, t, nonce, req.body).toString('base64url')}`;
}

/** Headers to attach to one internal request. */
export function internalAuthHeaders(secret: string, req: SignableRequest): Record<string, string> {
  return { [AUTH_HEADER]: signInternalRequest(secret, req) };
}

/** A header that passed the cheap checks (shape, clock window); the MAC is checked once the body is read. */
export interface PendingAuth {
  t: string;
  nonce: string;
  sig: Buffer;
}

export type HeaderCheck = { ok: true; auth: PendingAuth } | { ok: false; reason: string };

export interface InternalAuthVerifier {
  /** Shape and clock window only: runs before the body is read, so a bare request costs no reading. */
  checkHeader(header: string | string[] | undefined, now?: number): HeaderCheck;
  /**
   * The MAC over method, path, timestamp, nonce and the received body, compared in constant time;
   * then the (t, nonce) must not have been accepted before. `now` is for tests.
   */
  verify(auth: PendingAuth, method: string, path: string, body: Buffer | string | undefined, now?: number): boolean;
}

export function createInternalAuthVerifier(secret: string, windowMs = INTERNAL_AUTH_WINDOW_MS): InternalAuthVerifier {
  // Accepted (t, nonce) → when it leaves the window. Insertion order is arrival order, which is
  // near enough to expiry order for sweeping from the front.
  const seen = new Map<string, number>();
  const remember = (key: string, expires: number, now: number): boolean => {
    if (seen.has(key)) return false;
    for (const [k, exp] of seen) {
      if (exp >= now && seen.size < MAX_REMEMBERED) break;
      seen.delete(k);
    }
    seen.set(key, expires);
    return true;
  };
  return {
    checkHeader(header, now = Date.now()) {
      if (header === undefined) return { ok: false, reason: 'missing' };
      if (typeof header !== 'string' || header.length > MAX_HEADER) return { ok: false, reason: 'malformed' };
      const m = HEADER_RE.exec(header);
      if (!m) return { ok: false, reason: 'malformed' };
      if (Math.abs(now - Number(m[1])) > windowMs) return { ok: false, reason: 'outside the time window' };
      return { ok: true, auth: { t: m[1]!, nonce: m[2]!, sig: Buffer.from(m[3]!, 'base64url') } };
    },
    verify(auth, method, path, body, now = Date.now()) {
      const expected = mac(secret, method, path, auth.t, auth.nonce, body);
      if (auth.sig.length !== expected.length || !timingSafeEqual(auth.sig, expected)) return false;
      return remember(`${auth.t}.${auth.nonce}`, Number(auth.t) + windowMs, now);
    },
  };
}

/** One-shot check of a whole request (header and body): for callers that already hold the body. */
export function verifyInternalRequest(
  verifier: InternalAuthVerifier,
  header: string | string[] | undefined,
  req: { method: string; path: string; body?: Buffer | string | undefined },
  now?: number,
): boolean {
  const c = verifier.checkHeader(header, now);
  return c.ok && verifier.verify(c.auth, req.method, req.path, req.body, now);
}
