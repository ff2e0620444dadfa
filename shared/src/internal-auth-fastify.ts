/**
 * The one place every service checks internal requests (`/internal/*`): register it on the root
 * fastify instance and every internal route, known or not, refuses a request that does not carry
 * a valid HMAC of itself (see internal-auth.ts; registerInternalAuth says where each check runs).
 *
 * Also: `httpServerOptions`, the timeouts and header bound every service's HTTP server uses.
 */
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERR_BAD_REQUEST } from './errors.ts';
import { AUTH_HEADER } from './internal-api.ts';
import { createInternalAuthVerifier, INTERNAL_AUTH_WINDOW_MS, type PendingAuth } from './internal-auth.ts';

export interface InternalAuthOptions {
  secret: string;
  /** URL prefix of the internal routes. @default '/internal/' */
  prefix?: string;
  /** @default INTERNAL_AUTH_WINDOW_MS (30 s) */
  windowMs?: number;
}

/** Timeouts and limits for every service's fastify (pass with its own bodyLimit). */
export const httpServerOptions = {
  /** Whole request (headers and body) must arrive within this: slow-loris senders are cut off. */
  requestTimeout: 30_000,
  /** Idle keep-alive sockets are closed after this; clients are told (Keep-Alive: timeout=10). */
  keepAliveTimeout: 10_000,
  /** Socket inactivity limit; longer than keepAliveTimeout so a keep-alive client never races it. */
  connectionTimeout: 60_000,
  /** Total request header bytes (Node's default, stated): larger gets 431. */
  http: { maxHeaderSize: 16 * 1024 },
} as const;

/**
 * Hooks and a JSON body parser that make every internal route (`prefix`) require a valid HMAC:
 *
 * - `onRequest`: header shape and clock window, before a byte of the body is read. A request with
 *   no body (GET, or an empty POST) is verified completely here.
 * - the `application/json` parser (raw bytes, bounded by the route's bodyLimit): checks the MAC
 *   over the exact bytes received, then parses them with fastify's own JSON parser (prototype
 *   poisoning refused). The body is parsed only once it is proven. Public routes parse as before.
 * - `preValidation`: an internal request not proven by then (a bad MAC, or a body of another
 *   content type) is refused before its body is validated or handled: no path around the parser.
 */
export function registerInternalAuth<L extends FastifyBaseLogger>(
  app: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, L>,
  opts: InternalAuthOptions,
): void {
  const prefix = opts.prefix ?? '/internal/';
  const verifier = createInternalAuthVerifier(opts.secret, opts.windowMs ?? INTERNAL_AUTH_WINDOW_MS);
  const pending = new WeakMap<FastifyRequest, PendingAuth>();
  const proven = new WeakSet<FastifyRequest>();
  const parseJson = app.getDefaultJsonParser('error', 'error');

  function refuse(req: FastifyRequest, reply: FastifyReply, reason: string): FastifyReply {
    // The offered header is never logged (the logger redacts it too).
    req.log.warn({ url: req.url, ip: req.ip, reason }, 'internal request refused');
    return reply.code(401).send({ error: 'unauthorized', message: 'missing or wrong cluster secret' });
  }

  app.addHook('onRequest', (req, reply, done) => {
    if (!req.url.startsWith(prefix)) return done();
    const c = verifier.checkHeader(req.headers[AUTH_HEADER]);
    if (!c.ok) return refuse(req, reply, c.reason);
    if (hasBody(req.raw)) {
      pending.set(req, c.auth);
    } else {
      if (!verifier.verify(c.auth, req.method, req.url, undefined)) return refuse(req, reply, 'bad signature');
      proven.add(req);
    }
    done();
  });

  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const auth = pending.get(req);
    if (auth) {
      pending.delete(req);
      // Not parsed; preValidation refuses it (a parser error would get the app's 400 instead).
      if (!verifier.verify(auth, req.method, req.url, body as Buffer)) return done(null, undefined);
      proven.add(req);
      // A proven body comes from a peer holding the cluster secret: plain JSON.parse, without the
      // prototype-poisoning scan of the public parser (a large share of sv-persist's CPU on
      // 1,000-message ingest batches). Routes still validate it with their schemas, which keep
      // only known keys.
      try {
        return done(null, JSON.parse((body as Buffer).toString('utf8')));
      } catch {
        // 400, as fastify's own parser answers a body that is not JSON.
        return done(new ERR_BAD_REQUEST('Body is not valid JSON'), undefined);
      }
    }
    parseJson(req, (body as Buffer).toString('utf8'), done);
  });

  app.addHook('preValidation', (req, reply, done) => {
    if (req.url.startsWith(prefix) && !proven.has(req)) return refuse(req, reply, 'bad signature or unsigned body');
    done();
  });
}

/** Whether a request carries a body (a length above 0, or chunked). */
function hasBody(raw: IncomingMessage): boolean {
  const length = raw.headers['content-length'];
  return (length !== undefined && length !== '0') || raw.headers['transfer-encoding'] !== undefined;
}
